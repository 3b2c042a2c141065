#!/bin/bash
# Corrupt, foreign or truncated volumes: a clear error naming the device and
# the problem, a failed session in the ledger, no crash, and never a copy that
# was not verified.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 2 2026-11-25T08:00:00Z
head -c $((20 << 20)) /dev/urandom >"$src/DCIM/B0002.MP4"
make_clip "$src/DCIM/C0003.MP4" 2 2026-11-25T09:00:00Z

expect_refused() {
	local what=$1 img=$2 serial=$3 pattern=$4 rc=0
	ingest_rc "$img" "$serial" || rc=$?
	[ $rc = 1 ] || fail "$what: expected exit 1, got $rc"
	grep -q -- "$img" "$WORK/last.err" || fail "$what: the error does not name the device: $(cat "$WORK/last.err")"
	grep -q -- "$pattern" "$WORK/last.err" || fail "$what: the error does not say '$pattern': $(cat "$WORK/last.err")"
	dockctl sessions --device "$serial" --json | jq -e '.[-1].state == "failed" and (.[-1].error | length) > 0' >/dev/null ||
		fail "$what: the ledger has no failed session with the reason"
	[ "$(dockctl recordings --device "$serial" --json | jq length)" = 0 ] || fail "$what: recordings appeared"
	pass "$what: refused: $(grep -m1 -- "$pattern" "$WORK/last.err")"
}

make_fat32 "$WORK/zeroed.img" 64 "$src" && corrupt_image "$WORK/zeroed.img"
expect_refused "zeroed boot sector" "$WORK/zeroed.img" CAM-Z "no FAT32 or exFAT filesystem found"

truncate -s 64M "$WORK/ext4.img" && mkfs.ext4 -q -F "$WORK/ext4.img"
expect_refused "ext4 volume" "$WORK/ext4.img" CAM-E "filesystem ext4 is not a recorder filesystem"

head -c $((8 << 20)) /dev/urandom >"$WORK/noise.img"
expect_refused "random bytes" "$WORK/noise.img" CAM-N "no FAT32 or exFAT filesystem found"

: >"$WORK/empty.img"
expect_refused "empty device" "$WORK/empty.img" CAM-0 "empty.img"

rc=0
ingest_rc "$WORK/missing.img" CAM-M || rc=$?
[ $rc = 1 ] && grep -q "missing.img: cannot read" "$WORK/last.err" || fail "missing image: exit $rc: $(cat "$WORK/last.err")"
pass "missing device: refused"

# Broken FAT chains: libtsk still sees the volume. Whatever can be read is
# verified; nothing crashes; every row matches the disk.
for fs in fat32 exfat; do
	img=$WORK/chain-$fs.img
	"make_$fs" "$img" 96 "$src"
	corrupt_fat_chain "$img"
	rc=0
	ingest_rc "$img" "CAM-C$fs" || rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || fail "broken FAT chain ($fs): exit $rc: $(tail -3 "$WORK/last.err")"
	check_catalog_against_disk "$img" "CAM-C$fs" "$src" >/dev/null
	[ $rc = 3 ] || [ "$(last .state)" = incomplete ] || fail "broken FAT chain ($fs): a garbage FAT did not make the session incomplete"
	pass "broken FAT chain ($fs): exit $rc, state $(last .state), $(last .files_copied) copied, $(last .deleted_entries) listed as deleted"
done

# Truncated image: the files past the end cannot be read; those before can.
img=$WORK/cut.img
make_fat32 "$img" 64 "$src"
size=$(stat -c %s "$img")
truncate -s $((size / 4)) "$img"
rc=0
ingest_rc "$img" CAM-CUT || rc=$?
check_catalog_against_disk "$img" CAM-CUT >/dev/null
if [ $rc = 3 ]; then
	grep -q "CAM-CUT" "$WORK/last.err" || fail "truncated: errors do not name the device"
	pass "truncated image: incomplete, $(last .files_copied) verified, errors name the files"
else
	[ $rc = 1 ] && grep -q "cut.img" "$WORK/last.err" || fail "truncated: exit $rc: $(cat "$WORK/last.err")"
	pass "truncated image: refused: $(head -1 "$WORK/last.err")"
fi
