#!/bin/bash
# The recorder goes bad mid-file (read errors), is pulled (the device
# vanishes), or the ingest is stopped (SIGTERM): nothing unverified is recorded
# as verified, the error names the device and file, and the next dock resumes
# the unfinished file from its byte offset.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 2 2026-11-25T08:00:00Z
head -c $((96 << 20)) /dev/urandom >"$src/DCIM/B0002.MP4"
make_clip "$src/DCIM/C0003.MP4" 2 2026-11-25T09:00:00Z
img=$WORK/rec.img
make_fat32 "$img" 160 "$src"
conf=$(small_checkpoints_conf)
mnt=$WORK/mnt
faulty_mount "$img" "$mnt" 30000000
dev=$mnt/disk.img

complete_after() {
	local what=$1
	rm -f "$WORK/fail"
	ingest_rc "$dev" CAM-S -c "$conf" || fail "$what: re-dock exited $?: $(tail -3 "$WORK/last.err")"
	[ "$(last .state)" = complete ] && [ "$(last .files_resumed)" = 1 ] ||
		fail "$what: re-dock did not resume and complete: $(cat "$WORK/last.json")"
	[ "$(check_catalog_against_disk "$img" CAM-S)" = 3 ] || fail "$what: recordings missing after re-dock"
	jq -e 'all(.[]; (.copies | length) == 2)' "$WORK/recs.json" >/dev/null || fail "$what: a copy is missing"
	no_partials_left
}

# Starts an ingest of the device in the background ($pid) and returns once it
# is 40 MiB into the large file.
start_mid_file() {
	"$BUILD/dockctl" --state "$STATE" -c "$conf" ingest --image "$dev" --serial CAM-S --json \
		>"$WORK/last.json" 2>"$WORK/last.err" &
	pid=$!
	wait_for_partial $((40 << 20))
}

# 1. Read errors mid-file.
STATE=$WORK/state-eio
start_mid_file
touch "$WORK/fail"
rc=0
wait $pid || rc=$?
[ $rc = 3 ] || fail "read error: expected exit 3, got $rc: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = incomplete ] || fail "read error: state $(last .state)"
grep -q "CAM-S:/DCIM/B0002.MP4\|CAM-S: /DCIM/B0002.MP4" "$WORK/last.err" ||
	fail "read error: the error does not name the device and file: $(cat "$WORK/last.err")"
grep -q "read failed" "$WORK/last.err" || fail "read error: the error does not say the read failed"
check_catalog_against_disk "$img" CAM-S >/dev/null
jq -e '.[] | select(.device_path == "/DCIM/B0002.MP4") | .sha256 == null and (.copies | length) == 0' "$WORK/recs.json" >/dev/null ||
	fail "read error: the half-read file is recorded as hashed or copied"
complete_after "read error"
pass "read error mid-file: recorded nothing unverified, resumed on re-dock"

# 2. The recorder is pulled: the device node vanishes mid-file.
STATE=$WORK/state-pulled
start_mid_file
faulty_pull "$mnt"
rc=0
wait $pid || rc=$?
[ $rc = 3 ] && [ "$(last .state)" = interrupted ] || fail "pulled: exit $rc, state $(last .state)"
grep -q "vanished" "$WORK/last.err" || fail "pulled: no clear message: $(cat "$WORK/last.err")"
check_catalog_against_disk "$img" CAM-S >/dev/null
faulty_mount "$img" "$mnt" 30000000
complete_after "pulled"
pass "recorder pulled mid-file: session interrupted, resumed on re-dock"

# 3. SIGTERM (station shutdown) mid-file.
STATE=$WORK/state-term
start_mid_file
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 3 ] && [ "$(last .state)" = interrupted ] || fail "SIGTERM: exit $rc, state $(last .state): $(tail -3 "$WORK/last.err")"
check_catalog_against_disk "$img" CAM-S >/dev/null
complete_after "SIGTERM"
pass "SIGTERM mid-file: session interrupted, resumed on re-dock"
