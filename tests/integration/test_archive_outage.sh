#!/bin/bash
# The archive misbehaves and the station keeps every manifest until it is
# delivered: an archive answering 500 is retried (never refused); a silent
# archive times out and is retried; a 48-hour outage, lived through by the
# running dockd on a clock the test moves forward, warns before the deadline,
# raises the overdue alarm after it, and delivers everything exactly once
# when the archive returns; kill -9 of dockd between the archive's 2xx and the
# catalog's record re-sends the same bytes under the same name.
source "$(dirname "$0")/common.sh"
# shellcheck source=../lib/archive.sh
source "$HERE/../lib/archive.sh"
archive_setup "$WORK/nginx"
archive_start || fail "the archive did not start"
at_exit archive_teardown
got=$ARCHIVE_DIR/www/arch/manifests/station
ca=$ARCHIVE_DIR/pki/ca.crt

export DOCKD_TEST_CLOCK_FILE=$WORK/clock
echo 0 >"$DOCKD_TEST_CLOCK_FILE"
advance_h() { echo $(($1 * 3600)) >"$DOCKD_TEST_CLOCK_FILE"; }

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"

# --- an archive that answers 500: queued and retried, never refused
archive_conf "$WORK/fail.conf" "$ca" mtls "$ARCHIVE_FAILPORT"
ingest_rc "$WORK/rec.img" CAM-O -c "$WORK/fail.conf" || true
dockctl -c "$WORK/fail.conf" archive retry >/dev/null && fail "retry against a failing archive claimed success"
dockctl -c "$WORK/fail.conf" archive status --json >"$WORK/st.json"
jq -e '.queued == 1 and .rejected == 0 and (.last_error | test("HTTP 500"))' "$WORK/st.json" >/dev/null ||
	fail "500s: $(cat "$WORK/st.json")"
dockctl manifests --json | jq -e '.[0].attempts >= 2' >/dev/null || fail "500s: not retried: $(dockctl manifests --json)"
pass "an archive answering 500 leaves the manifest queued and retried, not refused"

# --- a silent archive: the timeout ends the attempt, the manifest stays queued
archive_conf "$WORK/slow.conf" "$ca" mtls "$ARCHIVE_SLOWPORT"
sed -i 's/^timeout_s = .*/timeout_s = 2/' "$WORK/slow.conf"
start=$(date +%s)
dockctl -c "$WORK/slow.conf" archive retry >/dev/null && fail "retry against a silent archive claimed success"
took=$(($(date +%s) - start))
[ "$took" -lt 30 ] || fail "a silent archive held dockctl for ${took}s with timeout_s = 2"
dockctl -c "$WORK/slow.conf" archive status --json | jq -e '.queued == 1 and (.last_error | test("[Tt]imeout"))' >/dev/null ||
	fail "slow archive: $(dockctl -c "$WORK/slow.conf" archive status)"
pass "a silent archive times out; the manifest stays queued"

# --- a 48-hour outage, lived through by the running daemon
archive_conf "$WORK/good.conf" "$ca" mtls
printf 'retry_cap_s = 2\n' >>"$WORK/good.conf"
archive_stop
ingest_rc "$WORK/rec.img" CAM-O -c "$WORK/good.conf" || true
ingest_rc "$WORK/rec.img" CAM-P -c "$WORK/good.conf" || true
deadline_alarms='[.alarms[].name | select(. == "archive-deadline-near" or . == "archive-overdue")]'
dockctl -c "$WORK/good.conf" archive status --json | jq -e ".queued == 3 and $deadline_alarms == []" >/dev/null ||
	fail "outage start: $(dockctl -c "$WORK/good.conf" archive status)"

start_dockd() {
	"$BUILD/dockd" -c "$WORK/good.conf" --state "$STATE" >>"$WORK/dockd.log" 2>&1 &
	DOCKD_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		dockctl status --json >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"
}
at_exit 'kill -9 $DOCKD_PID 2>/dev/null'
start_dockd

advance_h 10
wait_status "any(.alarms[]; .name == \"archive-unreachable\")" 20
status_json | jq -e "$deadline_alarms == []" >/dev/null ||
	fail "10 h into the outage: a deadline alarm too early: $(status_json | jq -c .alarms)"
advance_h 21         # 3 h left, inside the 4 h margin
wait_status "$deadline_alarms == [\"archive-deadline-near\"]" 20
wait_log 'WARNING archive-deadline-near: 3 manifest'
dockctl status | grep -q "WARNING archive-deadline-near" || fail "dockctl status does not show the warning"
pass "3 h before the deadline: a warning in status and in the journal"

advance_h 25
wait_status "$deadline_alarms == [\"archive-overdue\"]" 20
wait_log 'ALARM archive-overdue: 3 manifest'
dockctl -c "$WORK/good.conf" archive status | grep -q "overdue by" || fail "archive status does not say overdue"
pass "after the deadline: the overdue alarm"

advance_h 48
archive_start || fail "the archive did not come back"
for ((i = 0; i < 300; i++)); do
	dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 0' >/dev/null && break
	sleep 0.1
done
dockctl -c "$WORK/good.conf" archive status --json |
	jq -e '.queued == 0 and .delivered == 3 and ([.alarms[].name | select(startswith("archive"))] == [])' >/dev/null ||
	fail "48 h outage over: $(dockctl -c "$WORK/good.conf" archive status)"
for n in 1 2 3; do
	dockctl manifest show $n | cmp -s - "$got/$n.json" || fail "manifest $n at the archive differs from the station's"
done
dups=$(archive_puts | sort | uniq -d)
[ -z "$dups" ] || fail "delivered more than once: $dups"
wait_status '[.alarms[].name | select(startswith("archive"))] == []' 20
wait_log 'cleared archive-overdue'
pass "after 48 h down: all 3 manifests delivered, byte for byte, once each; the alarm cleared"

# --- kill -9 of dockd after the archive's 2xx, before the catalog's record
kill -TERM "$DOCKD_PID"
wait "$DOCKD_PID" || fail "dockd did not stop cleanly on SIGTERM"
archive_stop
ingest_rc "$WORK/rec.img" CAM-O -c "$WORK/good.conf" || true
archive_start || fail "the archive did not come back"
DOCKD_CRASHPOINT=forward-after-put "$BUILD/dockd" -c "$WORK/good.conf" --state "$STATE" >>"$WORK/dockd.log" 2>&1 &
DOCKD_PID=$!
rc=0
wait "$DOCKD_PID" || rc=$?
[ "$rc" = 137 ] || fail "dockd was to be killed mid-delivery; it exited $rc"
[ -f "$got/4.json" ] || fail "the crash point is after the PUT, yet the archive has no 4.json"
dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 1' >/dev/null ||
	fail "a delivery the catalog never recorded must still be queued"
start_dockd
for ((i = 0; i < 200; i++)); do
	dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 0' >/dev/null && break
	sleep 0.1
done
dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 0 and .delivered == 4' >/dev/null ||
	fail "after the restart: $(dockctl -c "$WORK/good.conf" archive status)"
dockctl manifest show 4 | cmp -s - "$got/4.json" || fail "the re-sent manifest 4 differs"
[ "$(archive_puts | grep -c '^station/4.json$')" = 2 ] || fail "expected manifest 4 PUT twice (at-least-once): $(archive_puts)"
[ "$(find "$got" -name '*.json' | wc -l)" = 4 ] || fail "the archive holds other than 4 manifests: $(ls "$got")"
pass "kill -9 mid-delivery: sent again after restart, the same bytes under the same name"
