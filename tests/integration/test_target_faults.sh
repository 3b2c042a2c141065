#!/bin/bash
# A storage target that fills up, turns read-only or is not mounted stops only
# its own copies, with a clear error; the other target's verified copies stand;
# the recording is listed as under-copied (1 of 2); a later run completes it.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
for i in 1 2 3 4; do head -c $((12 << 20)) /dev/urandom >"$src/DCIM/REC000$i.MP4"; done
img=$WORK/rec.img
make_fat32 "$img" 100 "$src"

mkdir -p "$WORK/a"
small_ext4_mount 64 "$WORK/small"
at_exit "small_ext4_umount '$WORK/small' 2>/dev/null"
mkdir -p "$WORK/small/b"
cat >"$WORK/dockd.conf" <<CONF
[station]
id = test
[target.a]
path = $WORK/a
[target.b]
path = $WORK/small/b
CONF
run() { ingest_rc "$img" CAM-T -c "$WORK/dockd.conf"; }
copies_on() { dockctl -c "$WORK/dockd.conf" recordings --json | jq "[.[] | select(any(.copies[]; .target == \"$1\"))] | length"; }

# 1. Target b fills up: leave room for about two of the four recordings.
#    Logged as under systemd: to the journal, with the target as a field.
avail=$(df --output=avail -B1 "$WORK/small" | tail -1)
fallocate -l $((avail - (30 << 20))) "$WORK/small/filler"
mkdir -p "$WORK/journal"
journal_listen "$WORK/journal/socket" "$WORK/journal.jsonl"
rc=0
in_journal "$WORK/journal" "$BUILD/dockctl" --state "$STATE" -c "$WORK/dockd.conf" ingest --image "$img" --serial CAM-T --json \
	>"$WORK/last.json" 2>"$WORK/last.err" || rc=$?
[ $rc = 3 ] || fail "full target: expected exit 3 (incomplete), got $rc"
[ "$(last .state)" = incomplete ] || fail "full target: state $(last .state)"
journal_has 'any(.[]; .PRIORITY == "3" and .DOCKD_TARGET == "b" and .DOCKD_DEVICE == "CAM-T" and .DOCKD_SESSION == "1"
	and (.DOCKD_RECORDING | tonumber > 0) and (.MESSAGE | test("target b failed: no space left")))' "$WORK/journal.jsonl" ||
	fail "full target: no journal entry with its fields: $(tail -3 "$WORK/journal.jsonl")"
# the manifest's line is about the session, not the last recording read
journal_has 'any(.[]; .MESSAGE_ID == "4a7479c5c94940518cbee0fc8b8c7fd8" and .DOCKD_SESSION == "1" and .DOCKD_RECORDING == null
	and (.MESSAGE | test("manifest [^/ ]+/1 delivered")))' "$WORK/journal.jsonl" ||
	fail "the manifest's journal line lacks its MESSAGE_ID or carries a stale recording: $(grep manifest "$WORK/journal.jsonl")"
[ "$(copies_on a)" = 4 ] || fail "full target: target a has $(copies_on a) of 4 copies"
nb=$(copies_on b)
[ "$nb" -ge 1 ] && [ "$nb" -lt 4 ] || fail "full target: target b has $nb copies; the test wants it to fill part way"
[ "$(last .files_under_copied)" = $((4 - nb)) ] || fail "full target: under-copied count $(last .files_under_copied)"
dockctl -c "$WORK/dockd.conf" recordings --json >"$WORK/recs.json"
jq -e '[.[] | select(.under_copied)] | all(.[]; .copies_verified == 1 and (.last_error | test("no space")))' "$WORK/recs.json" >/dev/null ||
	fail "full target: under-copied recordings do not say why: $(jq -c '.[] | {device_path, copies_verified, last_error}' "$WORK/recs.json")"
dockctl -c "$WORK/dockd.conf" recordings | grep -q "1/2" || fail "full target: text listing does not show 1/2"
STATE_PARTIALS=$(find "$WORK/small/b/.partial" -type f | wc -l)
[ "$STATE_PARTIALS" = 0 ] || fail "full target: a failed partial was left taking space"
check_catalog_against_disk "$img" CAM-T >/dev/null
pass "target full: a holds all 4, b $nb, $((4 - nb)) under-copied with the reason"

rm "$WORK/small/filler"
run || fail "after freeing space: exit $?: $(cat "$WORK/last.err")"
[ "$(last .state)" = complete ] && [ "$(last .files_copied)" = $((4 - nb)) ] ||
	fail "after freeing space: $(cat "$WORK/last.json")"
[ "$(copies_on b)" = 4 ] || fail "after freeing space: b has $(copies_on b) copies"
check_catalog_against_disk "$img" CAM-T >/dev/null
pass "space returns: the missing copies are made and verified"

# 2. Target b turns read-only: a new recorder's files land on a only.
mkdir -p "$src/NEW" && head -c $((3 << 20)) /dev/urandom >"$src/NEW/REC0005.MP4"
make_fat32 "$WORK/rec2.img" 64 "$src/NEW"
mount -o remount,ro "$WORK/small"
rc=0
ingest_rc "$WORK/rec2.img" CAM-U -c "$WORK/dockd.conf" || rc=$?
[ $rc = 3 ] || fail "read-only target: expected exit 3, got $rc"
grep -q "Read-only file system" "$WORK/last.err" || fail "read-only target: error does not say so: $(cat "$WORK/last.err")"
dockctl -c "$WORK/dockd.conf" recordings --device CAM-U --json | jq -e '.[0].copies_verified == 1 and .[0].copies[0].target == "a"' >/dev/null ||
	fail "read-only target: the copy on a is not verified"
mount -o remount,rw "$WORK/small"
ingest_rc "$WORK/rec2.img" CAM-U -c "$WORK/dockd.conf" || fail "read-write again: exit $?"
dockctl -c "$WORK/dockd.conf" recordings --device CAM-U --json | jq -e '.[0].copies_verified == 2' >/dev/null ||
	fail "read-write again: copy on b not made"
pass "read-only target: under-copied, completed when writable"

# 3. Target b not mounted: its directory is missing (or empty): refused, never
# written onto the mount point's underlying disk.
small_ext4_umount "$WORK/small"
mkdir -p "$WORK/small"
rc=0
ingest_rc "$img" CAM-T -c "$WORK/dockd.conf" || rc=$?
grep -q "target b: $WORK/small/b: No such file or directory" "$WORK/last.err" ||
	fail "unmounted target: no clear error: $(cat "$WORK/last.err")"
[ ! -e "$WORK/small/b" ] || fail "unmounted target: dockd created $WORK/small/b on the wrong disk"
# Everything on CAM-T already has both copies: the catalog says so, even with b down.
[ $rc = 3 ] && [ "$(last .files_under_copied)" = 0 ] || fail "unmounted target: exit $rc, $(cat "$WORK/last.json")"
mkdir -p "$WORK/small/b"     # someone recreates the directory by hand: the marker is missing
rc=0
ingest_rc "$img" CAM-T -c "$WORK/dockd.conf" || rc=$?
grep -q "is on the same filesystem as target a.*If its own disk is not mounted, mount it" "$WORK/last.err" ||
	fail "empty target dir accepted: $(cat "$WORK/last.err")"
[ ! -e "$WORK/small/b/.dockd-target" ] || fail "a marker was written on the root disk under the empty mount point"
pass "unmounted target refused with a clear error, nothing written under its mount point"

# 4. Target c acknowledges every write but reads back other bytes (lyingfs:
# one bit of what each read returns is flipped while $WORK/lie exists). The
# read-back must catch it: no copy on c is recorded as verified, the error
# names the target and the offset, the copies on a stand; once c tells the
# truth again a later run completes them.
mkdir -p "$WORK/c-disk" "$WORK/c"
LYINGFS_LIE=$WORK/lie LYINGFS_LOG=$WORK/lies.log "$BUILD/tests/lyingfs" "$WORK/c-disk" "$WORK/c" &
for ((i = 0; i < 100; i++)); do mountpoint -q "$WORK/c" && break; sleep 0.1; done
mountpoint -q "$WORK/c" || fail "lyingfs did not come up on $WORK/c"
at_exit "fusermount -u -z '$WORK/c' 2>/dev/null"
cat >"$WORK/lying.conf" <<CONF
[station]
id = test
[target.a]
path = $WORK/a
[target.c]
path = $WORK/c
CONF
mkdir -p "$src/LIE" && head -c $((9 << 20)) /dev/urandom >"$src/LIE/REC0006.MP4"
head -c 5000 /dev/urandom >"$src/LIE/REC0007.MP4"
make_fat32 "$WORK/rec3.img" 64 "$src/LIE"
touch "$WORK/lie"
rc=0
ingest_rc "$WORK/rec3.img" CAM-L -c "$WORK/lying.conf" || rc=$?
[ $rc = 3 ] || fail "lying target: expected exit 3 (incomplete), got $rc: $(cat "$WORK/last.err")"
[ -s "$WORK/lies.log" ] || fail "lying target: lyingfs served no read, so nothing was read back from c"
[ "$(last .readback_mismatches)" = 2 ] && [ "$(last .errors)" -ge 2 ] ||
	fail "lying target: the summary does not count the read-back mismatches: $(cat "$WORK/last.json")"
grep -q "target c failed: read-back at offset 0 does not match what was written" "$WORK/last.err" ||
	fail "lying target: no clear error: $(cat "$WORK/last.err")"
dockctl -c "$WORK/lying.conf" recordings --device CAM-L --json >"$WORK/recs.json"
jq -e 'length == 2 and all(.[]; .copies_verified == 1 and .under_copied and ([.copies[].target] == ["a"])
	and (.last_error | test("does not match")))' "$WORK/recs.json" >/dev/null ||
	fail "lying target: catalog claims more than was verified: $(jq -c '.[] | {device_path, copies, last_error}' "$WORK/recs.json")"
[ -z "$(find "$WORK/c-disk" -path '*/.partial' -prune -o -type f -name '*.MP4' -print)" ] ||
	fail "lying target: an unverified copy was placed on c: $(find "$WORK/c-disk" -name '*.MP4')"
check_catalog_against_disk "$WORK/rec3.img" CAM-L >/dev/null
rm "$WORK/lie"
ingest_rc "$WORK/rec3.img" CAM-L -c "$WORK/lying.conf" || fail "truthful again: exit $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/lying.conf" recordings --device CAM-L --json | jq -e 'all(.[]; .copies_verified == 2)' >/dev/null ||
	fail "truthful again: copies on c not made"
check_catalog_against_disk "$WORK/rec3.img" CAM-L >/dev/null
pass "lying target: read-back mismatch caught, nothing unverified recorded, completed when truthful"

# 5. A target on exFAT (exfat-fuse on a loop device: no RENAME_NOREPLACE and
#    no hard links). Copies are placed without ever replacing a file.
truncate -s 64M "$WORK/exfat-t.img"
mkfs.exfat "$WORK/exfat-t.img" >/dev/null
xdev=$(losetup -f --show "$WORK/exfat-t.img")
at_exit "losetup -d '$xdev' 2>/dev/null"
mkdir -p "$WORK/xmnt"
mount.exfat-fuse "$xdev" "$WORK/xmnt"
at_exit "umount '$WORK/xmnt' 2>/dev/null"
mkdir -p "$WORK/xmnt/b"
mkdir -p "$WORK/a2"
cat >"$WORK/exfat.conf" <<CONF
[target.a]
path = $WORK/a2
[target.b]
path = $WORK/xmnt/b
CONF
STATE=$WORK/state-exfat
ingest_rc "$img" CAM-XT -c "$WORK/exfat.conf" || fail "exFAT target: exit $?: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = complete ] || fail "exFAT target: $(cat "$WORK/last.json")"
[ "$(check_catalog_against_disk "$img" CAM-XT)" -gt 0 ] || fail "exFAT target: nothing recorded"
jq -e 'all(.[]; any(.copies[]; .target == "b"))' "$WORK/recs.json" >/dev/null || fail "exFAT target: copies missing on b"
pass "a target on exFAT: every copy placed and verified there"
