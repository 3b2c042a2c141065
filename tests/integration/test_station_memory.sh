#!/bin/bash
# A station never forgets silently (issue #12): a catalog cut to 0 bytes or
# lost is refused while the targets and the archive show the station had
# one, nothing is ingested or delivered over the old chain, and the way back
# (restore, or a new ledger on purpose) works. An archive manifest is never
# replaced by other bytes. A catalog on a full disk names the cause, and the
# session's manifest is delivered once space returns.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
head -c 100000 /dev/urandom >"$src/DCIM/A0001.MP4"
make_fat32 "$WORK/rec.img" 40 "$src"
ingest_rc "$WORK/rec.img" CAM-M || fail "first ingest exited $?: $(cat "$WORK/last.err")"
m1=$STATE/archive/manifests/station/1.json
sum1=$(sha256_hex <"$m1")
cp "$STATE/catalog.sqlite" "$WORK/catalog.backup"

# 1. The catalog cut to 0 bytes: every command refuses, naming why.
: >"$STATE/catalog.sqlite"
rm -f "$STATE/catalog.sqlite-wal" "$STATE/catalog.sqlite-shm"
rc=0
dockctl audit verify >"$WORK/v.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "audit verify on an emptied catalog says: $(cat "$WORK/v.out")"
grep -q "keeps the copies of catalog" "$WORK/v.out" && grep -q "Restore the station's catalog from its backup" "$WORK/v.out" ||
	fail "emptied catalog: unclear error: $(cat "$WORK/v.out")"
rc=0
ingest_rc "$WORK/rec.img" CAM-M || rc=$?
[ "$rc" = 1 ] || fail "an ingest ran on an emptied catalog (exit $rc)"
[ "$(sha256_hex <"$m1")" = "$sum1" ] || fail "the archived manifest station/1.json was overwritten"
rc=0
"$BUILD/dockd" --state "$STATE" --check >"$WORK/check.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "refusing to start" "$WORK/check.out" || fail "dockd --check on an emptied catalog: rc $rc: $(cat "$WORK/check.out")"
pass "a catalog cut to 0 bytes: dockd, ingest and audit verify refuse, naming the cause and the way back"

# 2. The catalog gone altogether: the same.
rm -f "$STATE/catalog.sqlite"
rc=0
dockctl sessions >"$WORK/s.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "keeps the copies of catalog" "$WORK/s.out" || fail "a missing catalog: rc $rc: $(cat "$WORK/s.out")"
pass "a missing catalog: refused the same way"

# 3. The way back: the backup restored.
cp "$WORK/catalog.backup" "$STATE/catalog.sqlite"
dockctl audit verify >/dev/null || fail "the restored catalog's chain does not verify"
ingest_rc "$WORK/rec.img" CAM-M || fail "ingest after restore exited $?: $(cat "$WORK/last.err")"
[ "$(last .files_copied)" = 0 ] || fail "after restore, the re-dock copied again"
pass "the catalog restored from its backup: everything known again, nothing copied twice"

# 4. A new ledger on purpose: accept-new takes the targets; the archive still
#    needs a new station id (its chain belongs to the old ledger).
mv "$STATE/catalog.sqlite" "$WORK/catalog.old"
rm -f "$STATE/catalog.sqlite-wal" "$STATE/catalog.sqlite-shm"
# only the state's owner may, with no dockd (none can start on a catalog
# that is not the targets'): another user is refused, and no marker changes
user=dockdm$$
useradd -M -N -s /usr/sbin/nologin "$user"
at_exit "userdel '$user' 2>/dev/null"
chmod 0755 "$WORK" "$STATE"
markers=$(cat "$STATE"/targets/*/.dockd-target | sha256_hex)
rc=0
runuser -u "$user" -- "$BUILD/dockctl" --state "$STATE" catalog accept-new --reason "not mine to say" >/dev/null 2>"$WORK/an-user.err" || rc=$?
[ "$rc" = 5 ] && grep -q "belongs to root and no dockd runs on it" "$WORK/an-user.err" ||
	fail "accept-new by another user on root's state: exit $rc: $(cat "$WORK/an-user.err")"
[ "$(cat "$STATE"/targets/*/.dockd-target | sha256_hex)" = "$markers" ] || fail "a refused accept-new changed the markers"
dockctl catalog accept-new --reason "catalog disk replaced; old ledger kept offline" >/dev/null 2>"$WORK/an.err" ||
	fail "accept-new failed: $(cat "$WORK/an.err")"
rc=0
dockctl sessions >"$WORK/s2.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "new \[station\] id" "$WORK/s2.out" || fail "accept-new with the old archive: rc $rc: $(cat "$WORK/s2.out")"
printf '[station]\nid = station-2\n' >"$WORK/new.conf"
ingest_rc "$WORK/rec.img" CAM-M -c "$WORK/new.conf" || fail "ingest under a new station id exited $?: $(cat "$WORK/last.err")"
[ -f "$STATE/archive/manifests/station-2/1.json" ] || fail "the new ledger's first manifest was not delivered"
[ "$(sha256_hex <"$m1")" = "$sum1" ] || fail "the old station's manifest was touched"
dockctl -c "$WORK/new.conf" audit --json | jq -e 'any(.[]; .action == "catalog.accept-new" and (.why | test("target a was catalog [0-9a-f]{32}")))' \
	>/dev/null || fail "accept-new is not in the audit chain: $(dockctl -c "$WORK/new.conf" audit --json)"
pass "a new ledger on purpose: accept-new audited, a new station id, the old archive untouched"

# 5. No delivery replaces a manifest that is there with other bytes.
STATE=$WORK/state-other
printf '[archive]\nurl = file://%s/archive\n' "$WORK/state" >"$WORK/shared.conf"
mkdir -p "$WORK/src2/DCIM"
head -c 5000 /dev/urandom >"$WORK/src2/DCIM/B0001.MP4"
make_fat32 "$WORK/rec2.img" 40 "$WORK/src2"
rc=0
ingest_rc "$WORK/rec2.img" CAM-X -c "$WORK/shared.conf" || rc=$?
[ "$rc" = 1 ] && grep -q "already holds [0-9]* manifest(s) of station station" "$WORK/last.err" ||
	fail "a second ledger for one station id was not refused: rc $rc: $(cat "$WORK/last.err")"
# the archive check bypassed (a station that had sent manifests before): delivery itself refuses
cp "$WORK/catalog.backup" "$STATE/catalog.sqlite" 2>/dev/null || { mkdir -p "$STATE"; cp "$WORK/catalog.backup" "$STATE/catalog.sqlite"; }
sqlite3 "$STATE/catalog.sqlite" "DELETE FROM catalog_identity"
m2=$WORK/state/archive/manifests/station/2.json
sum2=$(sha256_hex <"$m2")
ingest_rc "$WORK/rec2.img" CAM-X -c "$WORK/shared.conf" || true
[ "$(sha256_hex <"$m1")" = "$sum1" ] && [ "$(sha256_hex <"$m2")" = "$sum2" ] ||
	fail "delivery replaced a manifest at the archive with other bytes"
allow_alarm dockctl -c "$WORK/shared.conf" alarms --json | jq -e 'any(.[]; .name == "archive-integrity")' >/dev/null ||
	fail "no archive-integrity alarm: $(dockctl -c "$WORK/shared.conf" alarms --json)"
pass "two ledgers under one station id: refused at start; station/1.json never replaced"

# 6. The catalog's disk full: the cause is named; once space returns, the
#    session's manifest is written and delivered.
STATE=$WORK/state-full
small_ext4_mount 8 "$STATE"
at_exit "small_ext4_umount '$STATE' 2>/dev/null"
mkdir -p "$WORK/tfull/a" "$WORK/tfull/b"
printf '[station]\nallow_same_filesystem = yes\n[target.a]\npath = %s/tfull/a\n[target.b]\npath = %s/tfull/b\n' "$WORK" "$WORK" >"$WORK/full.conf"
ingest_rc "$WORK/rec.img" CAM-F -c "$WORK/full.conf" || fail "ingest onto the small state disk: $(cat "$WORK/last.err")"
mkdir -p "$WORK/src3/DCIM"
for i in 1 2 3 4 5 6; do head -c 3000 /dev/urandom >"$WORK/src3/DCIM/C000$i.MP4"; done
make_fat32 "$WORK/rec3.img" 40 "$WORK/src3"
dd if=/dev/zero of="$STATE/filler" bs=64k status=none 2>/dev/null || true
sync
rc=0
ingest_rc "$WORK/rec3.img" CAM-F -c "$WORK/full.conf" || rc=$?
grep -q "not an error" "$WORK/last.err" && fail "a full state disk is reported as 'not an error': $(cat "$WORK/last.err")"
grep -q "full" "$WORK/last.err" || fail "a full state disk is not named: rc $rc: $(cat "$WORK/last.err")"
rm -f "$STATE/filler"
sync
ingest_rc "$WORK/rec3.img" CAM-F -c "$WORK/full.conf" || true
dockctl -c "$WORK/full.conf" archive retry >/dev/null 2>&1 || true
n_sessions=$(dockctl -c "$WORK/full.conf" sessions --json | jq length)
n_delivered=$(find "$STATE/archive/manifests" -name '*.json' | wc -l)
[ "$n_delivered" = "$n_sessions" ] ||
	fail "after space returned: $n_sessions sessions, $n_delivered manifests at the archive: $(dockctl -c "$WORK/full.conf" sessions)"
pass "a full state disk: the cause named; every session's manifest delivered once space returned"
