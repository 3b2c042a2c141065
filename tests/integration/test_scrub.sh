#!/bin/bash
# Scrub: one copy with a flipped byte and another deleted are found, each
# restored from the good copy (and verified) with the bad one quarantined;
# every finding is recorded; a recording whose copies are all gone raises the
# recording-lost alarm; a clean scrub finds nothing. The timer unit verifies.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A.MP4" 2 2026-11-25T08:00:00Z
make_clip "$src/DCIM/B.MP4" 1 2026-11-25T09:00:00Z
head -c $((6 << 20)) /dev/urandom >"$src/DCIM/C.MP4"
make_fat32 "$WORK/rec.img" 48 "$src"
printf '[metrics]\nlisten = off\n' >"$WORK/dockd.conf"
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }
ingest_rc "$WORK/rec.img" CAM-S -c "$WORK/dockd.conf" || fail "ingest exited $?"
copy_of() { dc recordings --json | jq -r --arg p "$1" --arg t "$2" '.[] | select(.device_path == $p) | .copies[] | select(.target == $t) | .path'; }
sha_of() { dc recordings --json | jq -r --arg p "$1" '.[] | select(.device_path == $p) | .sha256'; }

dc scrub --json | jq -e '.copies == 6 and .ok == 6 and .repaired == 0 and .lost == 0' >/dev/null ||
	fail "a clean scrub: $(dc scrub --json)"
pass "a clean scrub reads every copy and finds nothing"

a=$(copy_of /DCIM/A.MP4 a)
b=$(copy_of /DCIM/B.MP4 b)
printf '\x55' | dd of="$a" bs=1 seek=4000 conv=notrunc status=none     # one byte flipped
rm "$b"                                                                    # one copy gone
rc=0
dc scrub --limit-mbps 50 --json >"$WORK/s.json" 2>"$WORK/s.err" || rc=$?
[ "$rc" = 0 ] || fail "scrub exited $rc although both were repaired: $(cat "$WORK/s.err")"
jq -e '.mismatch == 1 and .missing == 1 and .repaired == 2 and .lost == 0' "$WORK/s.json" >/dev/null ||
	fail "findings: $(cat "$WORK/s.json")"
[ "$(sha256_hex <"$a")" = "$(sha_of /DCIM/A.MP4)" ] || fail "A's copy on a not restored"
[ "$(sha256_hex <"$b")" = "$(sha_of /DCIM/B.MP4)" ] || fail "B's copy on b not restored"
ls "$STATE/targets/a/.quarantine/"rec-* >/dev/null 2>&1 || fail "the bad copy was not kept in quarantine"
sqlite3 "$STATE/catalog.sqlite" "SELECT finding FROM scrub_findings ORDER BY id" | tr '\n' ' ' | grep -qx "mismatch repaired missing repaired " ||
	fail "findings recorded: $(sqlite3 "$STATE/catalog.sqlite" 'SELECT * FROM scrub_findings')"
dc scrub --json | jq -e '.ok == 6' >/dev/null || fail "a second scrub still finds faults"
pass "a flipped byte and a deleted copy are found, restored from the good copy and verified; the bad copy quarantined"

# Target b's filesystem is not mounted (its marker and copies are not
# there): its copies are not "missing", and nothing is restored onto the
# disk below the mount point.
mv "$STATE/targets/b" "$WORK/b-away"
mkdir "$STATE/targets/b"
rc=0
dc scrub --json >"$WORK/s-un.json" 2>"$WORK/s-un.err" || rc=$?
[ "$rc" = 1 ] || fail "scrub with target b unmounted exited $rc"
jq -e '.unavailable == 3 and .missing == 0 and .repaired == 0 and .lost == 0' "$WORK/s-un.json" >/dev/null ||
	fail "scrub with target b unmounted: $(cat "$WORK/s-un.json")"
[ -z "$(ls -A "$STATE/targets/b")" ] || fail "scrub wrote onto the empty mount point: $(find "$STATE/targets/b")"
grep -q "is its filesystem mounted" "$WORK/s-un.err" || fail "scrub does not say why: $(cat "$WORK/s-un.err")"
rmdir "$STATE/targets/b"
mv "$WORK/b-away" "$STATE/targets/b"
pass "scrub with a target unmounted: its copies unavailable, none restored onto the root disk, exit 1"

for t in a b; do rm "$(copy_of /DCIM/C.MP4 $t)"; done
rc=0
dc scrub --json >"$WORK/s2.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "scrub must fail when a recording is lost (rc $rc)"
jq -e '.lost == 1 and .missing == 2' "$WORK/s2.json" >/dev/null || fail "lost: $(cat "$WORK/s2.json")"
allow_alarm dc alarms --json | jq -e 'any(.[]; .name == "recording-lost" and .count == 1 and .severity == "alarm")' >/dev/null ||
	fail "no recording-lost alarm: $(dc alarms --json)"
dc audit --json | jq -e '[.[] | select(.action == "scrub")] | length == 5' >/dev/null || fail "scrubs not audited"
pass "a recording with no good copy left raises the recording-lost alarm; each scrub is audited"

SRC=$HERE/../..
sed "s|/usr/bin/dockctl|$BUILD/dockctl|g" "$SRC/systemd/dockd-scrub.service" >"$WORK/dockd-scrub.service"
cp "$SRC/systemd/dockd-scrub.timer" "$WORK/"
sed "s|/usr/bin/dockd|$BUILD/dockd|g" "$SRC/systemd/dockd.service" >"$WORK/dockd.service"   # the scrub's Requisite=
out=$(cd "$WORK" && systemd-analyze verify dockd-scrub.timer dockd-scrub.service 2>&1) || fail "timer units: $out"
[ -z "$out" ] || fail "systemd-analyze verify complained about the scrub units: $out"
pass "the weekly scrub timer and its service verify"
