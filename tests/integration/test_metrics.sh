#!/bin/bash
# The station seen by its sysadmin: /metrics from the running dockd is valid
# Prometheus text (promtool) and says what happened — a recorder docked and
# was ingested, copies per target, the outbox, free space, the alarms —
# and /status.json feeds the status page.
source "$(dirname "$0")/common.sh"
# shellcheck source=../lib/harness.sh
source "$HERE/../lib/harness.sh"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf=$WORK/dockd.conf
printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$port" >"$conf"
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 2 2026-11-25T08:00:00Z
make_clip "$src/DCIM/CLIP0002.MP4" 1 2026-11-25T09:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"
get() { curl -fsS "http://127.0.0.1:$port$1"; }
get /metrics >"$WORK/m0.txt" || fail "no /metrics on 127.0.0.1:$port: $(tail -3 "$WORK/dockd.log")"
promtool check metrics <"$WORK/m0.txt" || fail "promtool rejects /metrics: $(cat "$WORK/m0.txt")"
[ "$(awk '$1 ~ /^dockd_bays[{]/ { n += $2 } END { print n + 0 }' "$WORK/m0.txt")" = 0 ] &&
	[ "$(grep -c '^dockd_bays{' "$WORK/m0.txt")" = 6 ] || fail "idle station: $(grep dockd_bays "$WORK/m0.txt")"
grep -q '^dockd_build_info{version="[0-9.]*"} 1$' "$WORK/m0.txt" || fail "no dockd_build_info"
grep -q '^dockd_readback_mismatches_total 0$' "$WORK/m0.txt" && grep -q '^dockd_ingest_errors_total 0$' "$WORK/m0.txt" ||
	fail "no error or read-back mismatch counters"
pass "/metrics answers on the configured address and passes promtool check metrics"

harness_cmd add 1 f055 d0c0 CAM-M "$WORK/rec.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-M") | .state == "complete" and .safe_to_remove' 60
for ((i = 0; i < 50; i++)); do
	get /metrics >"$WORK/m1.txt"
	grep -q '^dockd_outbox_depth 0$' "$WORK/m1.txt" && break
	sleep 0.2
done
promtool check metrics <"$WORK/m1.txt" || fail "promtool rejects /metrics after an ingest"
val() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/m1.txt"; }
size=$(($(stat -c %s "$src/DCIM/CLIP0001.MP4") + $(stat -c %s "$src/DCIM/CLIP0002.MP4")))
[ "$(val dockd_ingested_files_total)" = 2 ] || fail "files ingested: $(val dockd_ingested_files_total)"
[ "$(val dockd_ingested_bytes_total)" = "$size" ] || fail "bytes ingested: $(val dockd_ingested_bytes_total), expected $size"
[ "$(val 'dockd_verified_copies{target="a"}')" = 2 ] && [ "$(val 'dockd_verified_copies{target="b"}')" = 2 ] ||
	fail "copies per target: $(grep verified_copies "$WORK/m1.txt")"
[ "$(val dockd_under_copied_recordings)" = 0 ] || fail "under-copied"
[ "$(val 'dockd_sessions{state="complete"}')" = 1 ] || fail "sessions: $(grep dockd_sessions "$WORK/m1.txt")"
[ "$(val 'dockd_bays{state="safe_to_remove"}')" = 1 ] &&
	[ "$(awk '$1 ~ /^dockd_bays[{]/ { n += $2 } END { print n + 0 }' "$WORK/m1.txt")" = 1 ] ||
	fail "bays (one docked, counted once): $(grep dockd_bays "$WORK/m1.txt")"
[ "$(val dockd_outbox_depth)" = 0 ] || fail "outbox: $(grep outbox "$WORK/m1.txt")"
[ "$(val 'dockd_target_free_bytes{target="a"}')" -gt 0 ] || fail "free bytes"
[ "$(val 'dockd_alarm{name="unattributed-recordings",severity="warning"}')" = 2 ] ||
	fail "the unattributed alarm is not a metric: $(grep alarm "$WORK/m1.txt")"
pass "after a dock: files, bytes, copies per target, sessions, bays, outbox, free space and alarms as metrics"

get /status.json | jq -e '.bays[0].serial == "CAM-M" and .bays[0].safe_to_remove and (.alarms | length) >= 1
	and .delivered[0].seq == 1' >/dev/null || fail "/status.json: $(get /status.json)"
get / >"$WORK/page.html" && grep -q '<title>dockd</title>' "$WORK/page.html" || fail "no status page at /"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")" = 404 ] || fail "unknown path not 404"
pass "/status.json and the status page are served"

# The archive goes away (its directory is a file now): a second recorder's
# manifest waits in the outbox, and neither page calls it delivered.
mv "$STATE/archive" "$STATE/archive.away"
touch "$STATE/archive"
harness_cmd add 2 f055 d0c0 CAM-N "$WORK/rec.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-N") | .state == "complete" and .safe_to_remove' 60
wait_log "cannot create $STATE/archive" 10
grep -q "cannot create $STATE/archive" "$WORK/dockd.log" || fail "no delivery was tried: $(tail -5 "$WORK/dockd.log")"
get /metrics >"$WORK/m2.txt"
grep -q '^dockd_outbox_depth 1$' "$WORK/m2.txt" || fail "outbox with the archive gone: $(grep outbox "$WORK/m2.txt")"
get /status.json >"$WORK/s2.json"
jq -e '[.delivered[].seq] == [1]' "$WORK/s2.json" >/dev/null ||
	fail "/status.json lists a manifest still in the outbox as delivered: $(jq -c .delivered "$WORK/s2.json")"
pass "a manifest still in the outbox: counted in the outbox, not listed as delivered"
