#!/bin/bash
# kill -9 at every stage of a large ingest, then dock again: no recording lost,
# every "verified" row matches the bytes on disk at every moment, the
# unfinished file resumes from its byte offset, and nothing is copied twice.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 2 2026-11-25T08:00:00Z
head -c $((120 << 20)) /dev/urandom >"$src/DCIM/B0002.MP4"
make_clip "$src/DCIM/C0003.MP4" 2 2026-11-25T09:00:00Z
img=$WORK/rec.img
make_fat32 "$img" 200 "$src"
conf=$(small_checkpoints_conf)

total_files() { find "$STATE/targets" -type f -not -name .dockd-target -not -path '*/.partial/*' -not -path '*/ascmhl/*' | wc -l; }

# crash point, and whether the re-run must resume a file from its offset
scenarios=(
	"session-start no"
	"source-read:40 yes"        # mid-file, after two resume points
	"sink-write:75 yes"
	"before-checkpoint:3 yes"
	"after-checkpoint:2 yes"
	"after-place no"            # copies placed, not yet recorded: adopted, not duplicated
	"after-commit:2 no"
)
for s in "${scenarios[@]}"; do
	read -r point resumes <<<"$s"
	STATE=$WORK/state-${point//:/-}
	rc=0
	DOCKD_CRASHPOINT=$point "$BUILD/dockctl" -c "$conf" --state "$STATE" ingest --image "$img" --serial CAM9 --json \
		>/dev/null 2>"$WORK/killed.err" || rc=$?
	[ $rc = 137 ] || fail "$point: expected the run to die by SIGKILL (137), it exited $rc: $(tail -3 "$WORK/killed.err")"
	# Right after the kill, the catalog claims nothing the disk does not hold.
	check_catalog_against_disk "$img" CAM9 >/dev/null

	ingest_rc "$img" CAM9 -c "$conf" || fail "$point: re-dock after kill -9 exited $?: $(tail -3 "$WORK/last.err")"
	[ "$(last .state)" = complete ] || fail "$point: re-dock did not complete: $(cat "$WORK/last.json")"
	if [ "$resumes" = yes ]; then
		[ "$(last .files_resumed)" = 1 ] || fail "$point: the unfinished file was not resumed: $(cat "$WORK/last.json")"
		grep -q "resuming at byte" "$WORK/last.err" || fail "$point: no resume offset reported"
		[ "$(last .resume_bytes_reread)" -gt 0 ] || fail "$point: the device's prefix was not re-read to check the resume point"
	fi
	n=$(check_catalog_against_disk "$img" CAM9)
	[ "$n" = 3 ] || fail "$point: $n of 3 recordings in the catalog after re-dock"
	jq -e 'all(.[]; (.copies | length) == 2)' "$WORK/recs.json" >/dev/null || fail "$point: a recording lacks a copy"
	# Copied means tagged too: a kill between a copy's commit and its media
	# probe must not leave a recording without its times, flags and ingest time.
	jq -e 'all(.[]; .time_source != null and .ingested_at != null and (.codec != null or .media_flag != null))' "$WORK/recs.json" >/dev/null ||
		fail "$point: a recording was left untagged: $(jq -c 'map({device_path, time_source, ingested_at, codec, media_flag})' "$WORK/recs.json")"
	[ "$(total_files)" = 6 ] || fail "$point: $(total_files) files on the targets, want 6 (a copy was duplicated or lost)"
	no_partials_left
	dockctl sessions --json | jq -e '.[0].state == "interrupted" and .[1].state == "complete"' >/dev/null ||
		fail "$point: the killed session is not marked interrupted: $(dockctl sessions)"
	pass "kill -9 at $point: re-dock completes$([ "$resumes" = yes ] && echo ", resumed from offset")"
done

# Killed between a clip's commit and its tags, and then one of its copies is
# lost before the re-dock: the re-dock tags it from the copy that is left, not
# from the missing one (which would call good footage unplayable); with both
# gone it is flagged unprobed; the session is incomplete, naming the copies.
for lose in one both; do
	STATE=$WORK/state-lost-$lose
	rc=0
	DOCKD_CRASHPOINT=after-commit:1 "$BUILD/dockctl" -c "$conf" --state "$STATE" ingest --image "$img" --serial CAM9 \
		--json >/dev/null 2>"$WORK/killed.err" || rc=$?
	[ $rc = 137 ] || fail "lost copy ($lose): the first pull was not killed: $rc"
	dockctl recordings --device CAM9 --json >"$WORK/recs.json"
	clip=$(jq -c '.[] | select(.device_path == "/DCIM/A0001.MP4")' "$WORK/recs.json")
	jq -e '.time_source == null and .copies_verified == 2' <<<"$clip" >/dev/null ||
		fail "lost copy ($lose): the kill did not leave the clip copied and untagged: $clip"
	mapfile -t paths < <(jq -r '.copies[].path' <<<"$clip")
	[ ${#paths[@]} = 2 ] || fail "lost copy ($lose): want two copies, got ${paths[*]}"
	rm -f "${paths[0]}"
	[ $lose = both ] && rm -f "${paths[1]}"
	# A verified copy gone makes "complete" false: the session says
	# incomplete (exit 3), naming the copy, and no wipe may follow.
	rc=0
	ingest_rc "$img" CAM9 -c "$conf" || rc=$?
	[ $rc = 3 ] && [ "$(last .state)" = incomplete ] ||
		fail "lost copy ($lose): re-dock exited $rc, state $(last .state), want 3 and incomplete: $(tail -3 "$WORK/last.err")"
	grep -qF "${paths[0]} is missing" "$WORK/last.err" || fail "lost copy ($lose): the log does not name the missing copy"
	last .error | grep -qF "${paths[0]} is missing" || fail "lost copy ($lose): the session's error does not name it: $(last .error)"
	dockctl recordings --device CAM9 --json >"$WORK/recs.json"
	clip=$(jq -c '.[] | select(.device_path == "/DCIM/A0001.MP4")' "$WORK/recs.json")
	if [ $lose = one ]; then
		jq -e '.codec != null and .media_flag == null and .time_source != null' <<<"$clip" >/dev/null ||
			fail "lost copy (one): the clip was not probed from the copy left: $clip"
		pass "kill -9 before a clip's tags, one copy lost: tagged from the copy left; the session incomplete, naming the loss"
	else
		jq -e '.media_flag == "unprobed" and .time_source != null' <<<"$clip" >/dev/null ||
			fail "lost copy (both): the clip is not flagged unprobed: $clip"
		pass "kill -9 before a clip's tags, both copies lost: flagged unprobed, not unplayable; the session incomplete"
	fi
done

# A kill from outside at an arbitrary moment, reading at 40 MB/s through FUSE.
STATE=$WORK/state-external
faulty_mount "$img" "$WORK/mnt" 40000000
"$BUILD/dockctl" -c "$conf" --state "$STATE" ingest --image "$WORK/mnt/disk.img" --serial CAM9 >/dev/null 2>&1 &
pid=$!
wait_for_partial $((50 << 20))
kill -9 $pid
wait $pid || true
check_catalog_against_disk "$img" CAM9 >/dev/null
ingest_rc "$WORK/mnt/disk.img" CAM9 -c "$conf" || fail "external kill: re-dock exited $?: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = complete ] && [ "$(last .files_resumed)" = 1 ] ||
	fail "external kill: re-dock did not resume and complete: $(cat "$WORK/last.json")"
[ "$(check_catalog_against_disk "$img" CAM9)" = 3 ] || fail "external kill: recordings missing"
no_partials_left
pass "kill -9 from outside mid-file: resumed and complete"

# The device's file changes between the interrupted pull and the re-dock,
# far before the resume point (not in the last 4 MiB the old check compared):
# the copies must not become a splice of the two states.
STATE=$WORK/state-splice
cp "$img" "$WORK/splice.img"
rc=0
DOCKD_CRASHPOINT=source-read:40 "$BUILD/dockctl" -c "$conf" --state "$STATE" ingest --image "$WORK/splice.img" --serial CAM9 \
	--json >/dev/null 2>"$WORK/killed.err" || rc=$?
[ $rc = 137 ] || fail "splice: the first pull was not killed: $rc"
python3 "$HERE/../lib/fatedit.py" "$WORK/splice.img" poke /DCIM/B0002.MP4 4096 deadbeef
ingest_rc "$WORK/splice.img" CAM9 -c "$conf" || fail "splice: re-dock exited $?: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = complete ] && [ "$(last .files_resumed)" = 0 ] ||
	fail "splice: a changed file was resumed onto its old copies: $(cat "$WORK/last.json")"
grep -q "INTEGRITY" "$WORK/last.err" || fail "splice: the change is not reported as INTEGRITY"
dockctl sessions --device CAM9 --json | jq -e '.[-1].warnings | any(contains("INTEGRITY") and contains("/DCIM/B0002.MP4"))' \
	>/dev/null || fail "splice: the session does not name the changed file"
[ "$(check_catalog_against_disk "$WORK/splice.img" CAM9)" = 3 ] || fail "splice: recordings missing"
want=$(python3 "$HERE/../lib/fatedit.py" "$WORK/splice.img" cat /DCIM/B0002.MP4 | sha256_hex)
jq -e --arg s "$want" '.[] | select(.device_path == "/DCIM/B0002.MP4") | .sha256 == $s and (.copies | length) == 2' \
	"$WORK/recs.json" >/dev/null || fail "splice: the recorded SHA-256 is not the device's file as it is now"
no_partials_left
pass "a device file changed 4 KiB in, before its resume point: INTEGRITY named, copied anew, no splice"
