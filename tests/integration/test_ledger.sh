#!/bin/bash
# The custodian's ledger on real images and footage: officers imported with
# per-row errors; check-out/check-in with an overlap refused; each recording's
# time from its footage, corrected by a skewed device clock; its officer from
# the file name and the assignment, a disagreement flagged, an unknown source
# left unattributed; a truncated MP4 flagged and still ingested; a deleted
# file and a sequence gap listed; the 24-hour rule with and without a
# justification; a re-attribution recorded with who, when and why.
source "$(dirname "$0")/common.sh"

cat >"$WORK/dockd.conf" <<'CONF'
[recorders]
name_pattern = {serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}
CONF
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }

# --- officers, with per-row errors
cat >"$WORK/officers.csv" <<'CSV'
badge,name,unit
A100,Alice Smith,Patrol
B200,"Bob ""Jr"", Brown",Traffic
bad id!,Mallory,X
A100,Alice Again,Patrol
C300,=HYPERLINK("http://x"),
D400,,Patrol
CSV
rc=0
dc officers import "$WORK/officers.csv" >"$WORK/import.out" 2>"$WORK/import.err" || rc=$?
[ "$rc" = 1 ] || fail "an import with bad rows must exit 1, got $rc"
grep -q "3 officer(s) added, 3 row(s) refused" "$WORK/import.out" || fail "import summary: $(cat "$WORK/import.out")"
grep -q "line 4: officer badge 'bad id!'" "$WORK/import.err" || fail "bad ID not named: $(cat "$WORK/import.err")"
grep -q "line 5: officer badge 'A100' is already registered" "$WORK/import.err" || fail "duplicate not named"
grep -q "line 7: officer D400 has no name" "$WORK/import.err" || fail "missing name not named"
dc officers --json | jq -e 'map(.badge) == ["A100","B200","C300"] and .[1].name == "Bob \"Jr\", Brown"' >/dev/null ||
	fail "officers after import: $(dc officers --json)"
dc officers --csv | grep -q "^C300,\"'=HYPERLINK" || fail "a formula in a name is not defused in CSV: $(dc officers --csv)"
pass "officers import: good rows in, each bad row refused with its line and reason; CSV is formula-safe"

# --- devices and assignments
dc devices add CAM-1 --model "BWC-9" >/dev/null
dc assign CAM-1 A100 --at 2026-11-24T06:00 >/dev/null || fail "check-out refused"
rc=0
dc assign CAM-1 B200 --at 2026-11-24T10:00 2>"$WORK/overlap.err" || rc=$?
[ "$rc" = 1 ] && grep -q "overlaps the assignment to A100 (Alice Smith) from 2026-11-24T06:00:00.000Z" "$WORK/overlap.err" ||
	fail "overlapping check-out not refused clearly (rc $rc): $(cat "$WORK/overlap.err")"
dc unassign CAM-1 --at 2026-11-24T18:00 >/dev/null || fail "check-in refused"
dc assign CAM-1 B200 --at 2026-11-25T06:00 >/dev/null || fail "second check-out refused"
rc=0
dc assign CAM-1 C300 --at 2026-11-24T20:00 2>"$WORK/overlap2.err" || rc=$?
[ "$rc" = 1 ] && grep -q "later assignment starts at 2026-11-25T06:00" "$WORK/overlap2.err" ||
	fail "an open check-out in the past before a later one must be refused: $(cat "$WORK/overlap2.err")"
dc assignments --device CAM-1 --json | jq -e 'length == 2 and .[0].badge == "A100" and .[0].end_at == "2026-11-24T18:00:00.000Z"
	and .[1].badge == "B200" and .[1].end_at == null' >/dev/null || fail "history: $(dc assignments --device CAM-1 --json)"
dc assignments --officer A100 --json | jq -e 'length == 1' >/dev/null || fail "history per officer"
pass "check-out / check-in with history per device and officer; overlaps refused naming the other assignment"

# --- a recorder whose clock runs 5 minutes fast
src=$WORK/cam1
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CAM-1_A100_20261124090000_0001.MP4" 2 2026-11-24T09:00:00Z
make_clip "$src/DCIM/CAM-1_B200_20261124100000_0002.MP4" 2 2026-11-24T10:00:00Z
make_clip "$src/DCIM/CAM-1_A100_20261124110000_0004.MP4" 2 2026-11-24T11:00:00Z
make_clip "$WORK/whole.mp4" 4 2026-11-24T12:00:00Z
ffmpeg -nostdin -loglevel error -y -i "$WORK/whole.mp4" -c copy -movflags +faststart "$WORK/fast.mp4"
head -c $(($(stat -c %s "$WORK/fast.mp4") * 6 / 10)) "$WORK/fast.mp4" >"$src/DCIM/CAM-1_A100_20261124120000_0005.MP4"
make_clip "$src/DCIM/CAM-1_A100_20261124130000_0006.MP4" 1 2026-11-24T13:00:00Z
recent=$(date -u -d '-2 hours' +%Y%m%d%H%M%S)
make_clip "$src/DCIM/CAM-1_B200_${recent}_0007.MP4" 1 "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)"
make_fat32 "$WORK/cam1.img" 40 "$src"
fat32_delete "$WORK/cam1.img" DCIM/CAM-1_A100_20261124130000_0006.MP4
skewed=$(date -u -d '+300 seconds' +%Y-%m-%dT%H:%M:%S)
dc ingest --image "$WORK/cam1.img" --serial CAM-1 --device-clock "$skewed" --json >"$WORK/last.json" 2>"$WORK/last.err" ||
	fail "ingest exited $?: $(cat "$WORK/last.err")"
[ "$(last .files_copied)" = 5 ] || fail "expected 5 recordings copied: $(cat "$WORK/last.json")"
check_catalog_against_disk "$WORK/cam1.img" CAM-1 >/dev/null
dc recordings --device CAM-1 --json >"$WORK/recs.json"
rec() { jq -c --arg p "$1" '.[] | select(.device_path | endswith($p))' "$WORK/recs.json"; }

off=$(dc device CAM-1 --json | jq '.docks[0].clock_offset_s')
[ "$off" -ge 298 ] && [ "$off" -le 302 ] || fail "clock offset measured at dock: $off, expected about +300"
utc() { date -u -d "@$(($(date -u -d "$1" +%s) - off))" +%Y-%m-%dT%H:%M:%S.000Z; }   # device clock -> UTC
rec _0001.MP4 | jq -e --arg s "$(utc 2026-11-24T09:00:00Z)" --arg e "$(utc 2026-11-24T09:00:02Z)" '.time_source == "media"
	and .recorded_start_device == "2026-11-24T09:00:00" and .recorded_start_utc == $s and .recorded_end_utc == $e
	and .codec == "h264" and .width == 320 and .height == 240 and (.duration_s | . > 1.9 and . < 2.2)
	and .name_seq == 1 and .media_flag == null' >/dev/null || fail "time and media of clip 1: $(rec _0001.MP4)"
pass "time from the footage, corrected by the +300 s device clock measured at dock (offset $off s kept with the session)"

rec _0001.MP4 | jq -e '.officer == "A100" and .officer_source == "device" and .assigned_officer == "A100"
	and .attribution_flag == null' >/dev/null || fail "clip 1 attribution: $(rec _0001.MP4)"
rec _0002.MP4 | jq -e '.officer == "B200" and .officer_source == "device" and .assigned_officer == "A100"
	and .attribution_flag == "conflict"' >/dev/null || fail "clip 2 should be a conflict: $(rec _0002.MP4)"
dc recordings --flag conflict --json | jq -e 'length == 1 and (.[0].device_path | endswith("_0002.MP4"))' >/dev/null ||
	fail "--flag conflict: $(dc recordings --flag conflict --json | jq -c 'map(.device_path)')"
pass "the officer the device reports agrees with the assignment, or is flagged as a conflict"

rec _0005.MP4 | jq -e '.media_flag == "truncated" and .copies_verified == 2 and .sha256 != null' >/dev/null ||
	fail "truncated clip: $(rec _0005.MP4)"
dc recordings --flag truncated --json | jq -e 'length == 1' >/dev/null || fail "--flag truncated"
pass "a truncated MP4 is flagged and still has its two verified copies"

# 3 never reached the station; 6 was deleted on the device (also listed as such)
dc device CAM-1 --json | jq -e '.docks[0].seq_gaps == "3 6" and .docks[0].deleted_entries == 1' >/dev/null ||
	fail "completeness: $(dc device CAM-1 --json | jq -c .docks)"
dc recordings --flag deleted-on-device --json | jq -e 'length == 1 and (.[0].device_path | endswith("_0006.MP4"))' >/dev/null ||
	fail "--flag deleted-on-device: $(dc recordings --flag deleted-on-device --json)"
pass "the session lists the deleted file and the gaps in the file sequence (3, and the deleted 6)"

# --- a recorder nobody checked out, whose names follow no pattern
src2=$WORK/cam2
mkdir -p "$src2/DCIM"
make_clip "$src2/DCIM/VID_0001.MP4" 1 "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
make_fat32 "$WORK/cam2.img" 40 "$src2"
ingest_rc "$WORK/cam2.img" CAM-2 -c "$WORK/dockd.conf" || fail "cam2 ingest exited $?"
dc recordings --flag unattributed --json | jq -e 'length == 1 and .[0].device == "CAM-2" and .[0].officer == null
	and .[0].officer_source == null and .[0].time_source == "media"' >/dev/null ||
	fail "unattributed: $(dc recordings --flag unattributed --json)"
dc device CAM-2 --json | jq -e '.docks[0].clock_offset_s == null' >/dev/null || fail "no clock read: offset must be null"
pass "no device report and no assignment: listed as unattributed, never guessed"

# --- the 24-hour rule
dc compliance --json >"$WORK/late.json"
jq -e 'length == 4 and all(.lag_h > 24) and all(.justification == null)
	and (map(.device_path) | any(endswith("_0007.MP4")) | not)' "$WORK/late.json" >/dev/null ||
	fail "compliance: $(jq -c 'map([.device_path, .lag_h])' "$WORK/late.json")"
id1=$(rec _0001.MP4 | jq .id)
dc justify "$id1" --reason "remote mission, no dock for 2 days" >/dev/null || fail "justify refused"
dc compliance --json | jq -e --argjson id "$id1" '.[] | select(.recording == $id)
	| .justification == "remote mission, no dock for 2 days" and .justified_by != null' >/dev/null ||
	fail "justification not shown: $(dc compliance --json)"
dc compliance --unjustified --json | jq -e --argjson id "$id1" 'length == 3 and all(.recording != $id)' >/dev/null ||
	fail "--unjustified still lists the justified one"
dc compliance --officer B200 --json | jq -e 'length == 1' >/dev/null || fail "compliance --officer"
dc compliance --from 2026-11-24T10:00 --to 2026-11-24T12:00 --json | jq -e 'length == 2' >/dev/null ||
	fail "compliance date range: $(dc compliance --from 2026-11-24T10:00 --to 2026-11-24T12:00 --json)"
dc compliance --csv | head -1 | grep -q "^recording,officer,device,recorded_end_utc,ingested_at,lag_h" || fail "compliance CSV header"
dc compliance --threshold-h 8760 --json | jq -e 'length == 0' >/dev/null || fail "--threshold-h"
pass "late recordings listed with officer, device and lag; a justification recorded with who and when"

# --- re-attribution
id2=$(rec _0002.MP4 | jq .id)
dc reattribute "$id2" A100 --reason "camera swapped at briefing, confirmed by sergeant" >/dev/null ||
	fail "re-attribution refused"
dc recordings --device CAM-1 --json | jq -e --argjson id "$id2" '.[] | select(.id == $id)
	| .officer == "A100" and .officer_source == "custodian" and .attribution_flag == null' >/dev/null ||
	fail "after re-attribution: $(dc recordings --device CAM-1 --json | jq -c ".[] | select(.id == $id2)")"
row=$(sqlite3 "$STATE/catalog.sqlite" "SELECT o.badge, n.badge, r.reason, r.by_user, r.at FROM reattributions r
	JOIN officers o ON o.id = r.old_officer_id JOIN officers n ON n.id = r.new_officer_id WHERE r.recording_id = $id2")
[[ "$row" == "B200|A100|camera swapped at briefing, confirmed by sergeant|$(id -un)|20"* ]] ||
	fail "re-attribution record: $row"
rc=0
dc reattribute "$id2" Z999 --reason x 2>"$WORK/re.err" || rc=$?
[ "$rc" = 1 ] && grep -q "no officer with badge 'Z999'" "$WORK/re.err" || fail "unknown officer not refused clearly"
pass "a custodian's re-attribution is recorded with who, when and why"

dc recordings --officer A100 --from 2026-11-24 --to 2026-11-25 --json | jq -e 'length == 4' >/dev/null ||
	fail "officer + date range: $(dc recordings --officer A100 --from 2026-11-24 --to 2026-11-25 --json | jq -c 'map(.device_path)')"
dc recordings --flag late --csv | head -1 | grep -q ",officer,officer_source,attribution_flag," || fail "recordings CSV"
pass "ledger queries by officer and date range (3 of the device, 1 re-attributed)"

# --- the tags travel in the signed manifest, valid against schema/manifest.schema.json
dc manifest show 1 >"$WORK/m1.json"
python3 - "$HERE/../../schema/manifest.schema.json" "$WORK/m1.json" <<'PY' || fail "manifest 1 does not follow the schema"
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
jq -e '.session.clock_offset_s == '"$off"' and .session.officer == "B200" and .session.officer_source == "assignment"
	and (.recordings[] | select(.device_path | endswith("_0002.MP4")) | .officer == "B200" and .attribution_flag == "conflict"
	     and .recorded_start_utc == "'"$(utc 2026-11-24T10:00:00Z)"'" and .recorded_start_device == "2026-11-24T10:00:00")
	and (.recordings[] | select(.device_path | endswith("_0005.MP4")) | .media_flag == "truncated")' "$WORK/m1.json" >/dev/null ||
	fail "manifest 1 lacks the tags: $(jq -c .session "$WORK/m1.json")"
pass "the signed manifest carries clock offset, officer and source, corrected times and flags; it follows the schema"

# --- the ledger's alarms, and the targets'
allow_alarm dc alarms --json >"$WORK/alarms.json"
jq -e 'map(.name) | (index("device-clock-offset") != null) and (index("unattributed-recordings") != null)
	and (index("deleted-on-device") != null)' "$WORK/alarms.json" >/dev/null || fail "ledger alarms: $(cat "$WORK/alarms.json")"
jq -e '.[] | select(.name == "unattributed-recordings") | .count == 1 and (.text | test("reattribute"))' "$WORK/alarms.json" \
	>/dev/null || fail "unattributed alarm: $(cat "$WORK/alarms.json")"
mv "$STATE/targets/b/.dockd-target" "$WORK/marker"
allow_alarm dc alarms | grep -q "ALARM target-unavailable:b: target b cannot take copies" || fail "a missing target raises no alarm: $(dc alarms)"
mv "$WORK/marker" "$STATE/targets/b/.dockd-target"
printf '[alarms]\ntarget_min_free_gib = 1000000\n' >"$WORK/full.conf"
allow_alarm dockctl -c "$WORK/full.conf" alarms --json | jq -e 'any(.[]; .name == "target-low-space:a" and .severity == "warning")' >/dev/null ||
	fail "low space raises no warning"
allow_alarm dc alarms --json | jq -e 'all(.[]; .name | startswith("target") | not)' >/dev/null || fail "target alarms did not clear"
pass "alarms: clock offset, unattributed, deleted on device; a target gone or short of space"
