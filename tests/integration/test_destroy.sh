#!/bin/bash
# Approved destruction: an admin requests it, only for recordings past
# retention and under no hold; the same admin cannot approve; a different
# admin does, and then both copies are overwritten, unlinked and fsynced —
# their bytes are found nowhere on the targets' filesystems (real ext4 loop
# images, scanned raw) — while the recording row keeps its hash and gains the
# destruction record; a hold placed after the request blocks its approval; a
# re-dock does not take a destroyed recording again.
source "$(dirname "$0")/common.sh"

tag=dd$$
groupadd "${tag}ad"
useradd -M -N -g "${tag}ad" "${tag}u"
at_exit "userdel '${tag}u'; groupdel '${tag}ad'"
for t in a b; do
	small_ext4_mount 64 "$WORK/mnt-$t"
	at_exit "small_ext4_umount '$WORK/mnt-$t' 2>/dev/null"
done
cat >"$WORK/dockd.conf" <<CONF
[station]
socket = $WORK/dockd.sock
[target.a]
path = $WORK/mnt-a
[target.b]
path = $WORK/mnt-b
[roles]
admin_group = ${tag}ad
[recorders]
name_pattern = {*}_{YYYY}{MM}{DD}{hh}{mm}{ss}
[metrics]
listen = off
CONF
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }
as2() { runuser -u "${tag}u" -- "$BUILD/dockctl" --state "$STATE" -c "$WORK/dockd.conf" "$@"; }

src=$WORK/src
mkdir -p "$src/DCIM"
# A: bytes found nowhere else (its time from its name); past 6 months: due
head -c $((3 << 20)) /dev/urandom >"$src/DCIM/A_20260105080000.MP4"
make_clip "$src/DCIM/B.MP4" 1 2026-02-05T08:00:00Z      # due, but to be held
make_clip "$src/DCIM/C.MP4" 1 2026-11-20T08:00:00Z      # not due
make_clip "$src/DCIM/D.MP4" 1 2026-03-05T08:00:00Z      # due; held after its request
make_fat32 "$WORK/rec.img" 40 "$src"
ingest_rc "$WORK/rec.img" CAM-D -c "$WORK/dockd.conf" || fail "ingest exited $?: $(cat "$WORK/last.err")"
serve_dockd "$WORK/dockd.conf"         # the second admin's approval goes through dockd
id() { dc recordings --json | jq --arg p "$1" '.[] | select(.device_path == $p) | .id'; }
A=$(id /DCIM/A_20260105080000.MP4) B=$(id /DCIM/B.MP4) C=$(id /DCIM/C.MP4) D=$(id /DCIM/D.MP4)
shaA=$(dc recordings --json | jq -r --argjson a "$A" '.[] | select(.id == $a) | .sha256')
copiesA=$(dc recordings --json | jq -r --argjson a "$A" '.[] | select(.id == $a) | .copies[].path')
# 64 bytes from the middle of A: after destruction they must be nowhere on either target
sig=$(echo "$copiesA" | head -1 | xargs -I{} dd if={} bs=1 skip=20000 count=64 status=none | od -An -tx1 | tr -d ' \n')
backing() { losetup -nO BACK-FILE "$(findmnt -nro SOURCE --mountpoint "$WORK/mnt-$1")" | tr -d ' '; }
found() {       # found TARGET: how many times the signature is in its raw image
	sync
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.count(bytes.fromhex(sys.argv[2])))' "$(backing "$1")" "$sig"
}
[ "$(found a)" -ge 1 ] && [ "$(found b)" -ge 1 ] || fail "the signature is not on the targets before destruction"

dc hold add "$B" --reason "complaint" >/dev/null
rc=0
dc destroy request "$A" "$B" --reason "retention expired" 2>"$WORK/req.err" || rc=$?
[ "$rc" = 1 ] && grep -q "recording $B is under hold 1" "$WORK/req.err" || fail "a held recording was requested (rc $rc): $(cat "$WORK/req.err")"
rc=0
dc destroy request "$C" --reason "retention expired" 2>"$WORK/req2.err" || rc=$?
[ "$rc" = 1 ] && grep -q "recording $C is not due" "$WORK/req2.err" || fail "a recording not due was requested"
dc destroy list --json | jq -e 'length == 0' >/dev/null || fail "a refused request was recorded"
dc destroy request "$A" --reason "retention expired" >/dev/null 2>"$WORK/reqA.err" || fail "request refused: $(cat "$WORK/reqA.err"; dc recordings --json | jq -c ".[] | [.id, .device_path, .recorded_end_utc, .time_source]")"
rc=0
dc destroy approve 1 2>"$WORK/self.err" || rc=$?
[ "$rc" = 4 ] && grep -q "a different admin must approve it" "$WORK/self.err" || fail "the requester approved own request (rc $rc)"
pass "requests only for due, unheld recordings; the requester cannot approve"

# Target b's filesystem is unmounted: its mount point is an empty directory.
# Nothing is destroyed (not even a's copy), and the request stays pending.
bdev=$(findmnt -nro SOURCE --mountpoint "$WORK/mnt-b")
umount "$WORK/mnt-b"
rc=0
as2 destroy approve 1 >"$WORK/unmounted.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "is its filesystem mounted" "$WORK/unmounted.out" ||
	fail "approval with target b unmounted: rc $rc: $(cat "$WORK/unmounted.out")"
mount "$bdev" "$WORK/mnt-b"
for p in $copiesA; do [ -e "$p" ] || fail "copy $p was destroyed while target b was unmounted"; done
dc destroy list --json | jq -e '.[0].state == "pending"' >/dev/null || fail "the request did not stay pending: $(dc destroy list --json)"
pass "approval with a target unmounted: refused, naming it; no copy touched, the request stays pending"

as2 destroy approve 1 >"$WORK/approve.out" || fail "approval by a second admin failed: $(cat "$WORK/approve.out")"
for p in $copiesA; do [ ! -e "$p" ] || fail "copy $p still exists"; done
[ "$(found a)" = 0 ] && [ "$(found b)" = 0 ] || fail "A's bytes are still on the targets' disks: a=$(found a) b=$(found b)"
dc recordings --json | jq -e --argjson a "$A" --arg sha "$shaA" '.[] | select(.id == $a) | .sha256 == $sha
	and .destroyed_at != null and .destruction_request == 1 and .copies == [] and .under_copied == false' >/dev/null ||
	fail "A's row after destruction: $(dc recordings --json | jq -c ".[] | select(.id == $A)")"
dc destroy list --json | jq -e --arg u "${tag}u" '.[0].state == "done" and .[0].approved_by == $u and .[0].requested_by == "root"' \
	>/dev/null || fail "request record: $(dc destroy list --json)"
dc audit --json | jq -e '[.[] | select(.action == "destroy")][0].why | test("a: overwritten.*b: overwritten")' >/dev/null ||
	fail "the audit does not say what was done to each copy: $(dc audit --json | jq -c '[.[] | select(.action == "destroy")]')"
pass "approved by another admin: both copies overwritten and unlinked, nothing left on the disks; the row keeps its hash"

dc destroy request "$D" --reason "retention expired" >/dev/null || fail "request for D refused"
dc hold add "$D" --reason "new complaint" >/dev/null
rc=0
as2 destroy approve 2 2>"$WORK/held.err" || rc=$?
[ "$rc" = 1 ] && grep -q "recording $D is under hold" "$WORK/held.err" || fail "a hold placed after the request did not block it"
dc recordings --json | jq -e --argjson d "$D" '.[] | select(.id == $d) | .destroyed_at == null and (.copies | length) == 2' \
	>/dev/null || fail "D was touched"
pass "a hold placed after the request blocks its approval; nothing destroyed"

ingest_rc "$WORK/rec.img" CAM-D -c "$WORK/dockd.conf" || fail "re-dock exited $?: $(cat "$WORK/last.err")"
[ "$(last .files_copied)" = 0 ] && [ "$(last .files_under_copied)" = 0 ] || fail "re-dock: $(cat "$WORK/last.json")"
for p in $copiesA; do [ ! -e "$p" ] || fail "the re-dock copied the destroyed recording back to $p"; done
dc audit --json | jq -e '[.[] | .action | select(startswith("destroy"))] == ["destroy.request","destroy","destroy.approve","destroy.request"]' \
	>/dev/null || fail "audit: $(dc audit --json | jq -c 'map(.action)')"
dc audit verify >/dev/null || fail "the chain is broken"
pass "a re-dock does not take a destroyed recording again; request, destruction and approval are audited"
