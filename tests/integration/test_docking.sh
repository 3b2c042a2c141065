#!/bin/bash
# The station: the real dockd sees a recorder the moment it docks and every
# recorder already docked when it starts, identifies it (udev + the device's
# own serial through usbfs), ingests it, shows progress and "safe to remove";
# a recorder not on the allow-list is never read; pulling one mid-file
# interrupts the session and re-docking resumes it; SIGTERM mid-ingest leaves
# nothing half-recorded and a restart resumes.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HARNESS_CHILD_OUT=$WORK/harness.out

mkvol() {       # mkvol NAME CLIP_TIME [RANDOM_MIB]
	local d=$WORK/src-$1
	mkdir -p "$d/DCIM"
	make_clip "$d/DCIM/$1_0001.MP4" 2 "$2"
	[ -z "${3:-}" ] || head -c $(($3 << 20)) /dev/urandom >"$d/DCIM/$1_0002.MP4"
	make_fat32 "$WORK/$1.img" $((${3:-0} + 48)) "$d"
}
# wait_undocked SERIAL: until the device's last session records its undock.
wait_undocked() {
	for ((i = 0; i < 50; i++)); do
		dockctl sessions --device "$1" --json | jq -e '.[-1].undocked_at != null' >/dev/null 2>&1 && return
		sleep 0.1
	done
}

mkvol A 2026-11-25T08:00:00Z
mkvol B 2026-11-25T09:00:00Z
mkvol C 2026-11-25T10:00:00Z 80
mkvol X 2026-11-25T11:00:00Z
mkvol N 2026-11-25T12:00:00Z
conf=$(small_checkpoints_conf)
cat >>"$conf" <<CONF
[recorders]
allow = f055:d0c0, f055:d0c1
CONF

# C and X are served through faultyfs: C at 30 MB/s (so it can be pulled
# mid-file), and a log of first reads proves X (not allow-listed) is never read.
mkdir -p "$WORK/mnt"
FAULTYFS_BPS=30000000 FAULTYFS_LOG=$WORK/reads.log "$BUILD/tests/faultyfs" -m "$WORK/mnt" "$WORK/C.img" "$WORK/X.img" &
at_exit "fusermount -u -z '$WORK/mnt' 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -e "$WORK/mnt/disk2.img" ] && break; sleep 0.1; done
C_DEV=$WORK/mnt/disk1.img X_DEV=$WORK/mnt/disk2.img

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"

# 1. Coldplug: A is docked before dockd starts.
harness_cmd add 1 f055 d0c0 CAM-A "$WORK/A.img" >/dev/null
dockd_start -c "$conf"
wait_status '.bays[] | select(.serial == "CAM-A") | .state == "complete" and .safe_to_remove' 60
[ "$(check_catalog_against_disk "$WORK/A.img" CAM-A)" = 1 ] || fail "coldplug: CAM-A's recording not in the catalog"
jq -e '.[0].copies | length == 2' "$WORK/recs.json" >/dev/null || fail "coldplug: CAM-A lacks its two copies"
bay_of CAM-A | jq -e '.bay == "pci-0000:00:14.0-usb-0:1:1.0" and .vendor == "Acme" and .files_total == 1' >/dev/null ||
	fail "coldplug: bay entry wrong: $(bay_of CAM-A)"
for ((i = 0; i < 100; i++)); do [ -f "$STATE/archive/manifests/station/1.json" ] && break; sleep 0.1; done
[ -f "$STATE/archive/manifests/station/1.json.sig" ] || fail "dockd did not forward the session's manifest"
pass "coldplug: a recorder docked before start is ingested, safe to remove, its manifest forwarded"

# 2. Hotplug: B docks while dockd runs; it is checked out to an officer and
#    its clock runs an hour slow (it answers the clock request).
dockctl officers add A100 --name "Alice Smith" >/dev/null
dockctl devices add CAM-B >/dev/null
dockctl assign CAM-B A100 --at 2026-11-25T06:00 >/dev/null
harness_cmd add 2 f055 d0c0 CAM-B "$WORK/B.img" clock=-3600 >/dev/null
wait_status '.bays[] | select(.serial == "CAM-B") | .state == "complete" and .safe_to_remove' 30
bay_of CAM-B | jq -e '.officer == "A100"' >/dev/null || fail "status does not show B's officer: $(bay_of CAM-B)"
off=$(dockctl device CAM-B --json | jq '.docks[0].clock_offset_s')
[ "$off" -ge -3602 ] && [ "$off" -le -3598 ] || fail "B's clock offset read at dock: $off, expected about -3600"
utc=$(date -u -d "@$(($(date -u -d 2026-11-25T09:00:00Z +%s) - off))" +%Y-%m-%dT%H:%M:%S.000Z)
dockctl recordings --device CAM-B --json | jq -e --arg utc "$utc" '.[0].recorded_start_device == "2026-11-25T09:00:00"
	and .[0].recorded_start_utc == $utc and .[0].officer == "A100" and .[0].officer_source == "assignment"' >/dev/null ||
	fail "B's recording time/officer: $(dockctl recordings --device CAM-B --json | jq -c '.[0] | [.recorded_start_device, .recorded_start_utc, .officer]')"
pass "the device clock read at dock (${off}s) corrects the recording times; the officer comes from the assignment"
[ "$(check_catalog_against_disk "$WORK/B.img" CAM-B)" = 1 ] || fail "hotplug: CAM-B not ingested"
"$BUILD/dockctl" --state "$STATE" status | grep -E "CAM-B .* complete .*\[############\] 100% .* YES" >/dev/null ||
	fail "hotplug: the status table does not show CAM-B complete and safe: $("$BUILD/dockctl" --state "$STATE" status)"
dockctl sessions --device CAM-B --json | jq -e '.[0].state == "complete"' >/dev/null || fail "hotplug: session not complete"
pass "hotplug: ingest starts on dock, status shows progress bar and YES"

# 3. Not on the allow-list: ignored, logged once, never read.
harness_cmd add 3 1234 5678 FOREIGN "$X_DEV" >/dev/null
harness_cmd echo synced >/dev/null
wait_log 'ignoring /dev/sd.1 \(USB 1234:5678 ' 30
status_json | jq -e '[.bays[] | select(.serial == "FOREIGN")] | length == 0' >/dev/null || fail "foreign device shown as a bay"
grep -q "ignoring /dev/sd.1 (USB 1234:5678 .*not a configured recorder model .*; never read" "$WORK/dockd.log" ||
	fail "foreign device not logged: $(tail -3 "$WORK/dockd.log")"
# (bayharness itself reads the boot sector, as udev's blkid would; dockd must not)
! grep -q "^disk2.img $DOCKD_PID " "$WORK/reads.log" 2>/dev/null || fail "dockd READ the foreign device"
[ "$(dockctl recordings --device FOREIGN --json | jq length)" = 0 ] || fail "foreign device ingested"
pass "a device not on the allow-list is ignored and never read"

# 4. A recorder with no serial: ingested under a flagged identity of its own.
harness_cmd add 4 f055 d0c0 - "$WORK/N.img" >/dev/null
wait_status '.bays[] | select(.identity_flag == "serial-missing") | .state == "complete"' 30
sqlite3 "$STATE/catalog.sqlite" "SELECT count(*) FROM devices WHERE identity_flag = 'serial-missing' AND serial LIKE 'NOSERIAL-f055d0c0-%'" |
	grep -qx 1 || fail "no flagged identity for the serial-less recorder"
pass "a recorder without a serial is flagged, not merged"

# 4b. udev and the device itself disagree on the serial: the device's own
# answer is kept, flagged. Another model claiming a known serial: kept apart.
harness_cmd add 6 f055 d0c0 CAM-LABEL/CAM-REAL "$WORK/N.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-REAL") | .state == "complete" and .identity_flag == "serial-mismatch"' 30
harness_cmd add 7 f055 d0c1 CAM-B "$WORK/B.img" >/dev/null
wait_status '.bays[] | select(.bay == "pci-0000:00:14.0-usb-0:7:1.0") | .state == "complete"' 30
sqlite3 "$STATE/catalog.sqlite" "SELECT serial || ' ' || identity_flag FROM devices WHERE serial LIKE 'CAM-B~%'" |
	grep -qx "CAM-B~f055d0c1 serial-collision" || fail "a second device claiming CAM-B was not kept apart"
sqlite3 "$STATE/catalog.sqlite" "SELECT vendor_id || product_id FROM devices WHERE serial = 'CAM-B'" | grep -qx f055d0c0 ||
	fail "the first CAM-B's identity changed"
harness_cmd remove 6 >/dev/null
harness_cmd remove 7 >/dev/null
pass "serial mismatch flagged; a colliding serial recorded apart, the first identity unchanged"

# 4c. Serials in Chinese, sent as UTF-16 in the string descriptor and as
# UTF-8 by udev: each recorder known by its own serial, as sent, unflagged
# (read as ASCII, both became "?????01" and were flagged as one). Counted by
# name: the serial-less recorder's made-up serial holds the time, which may
# hold "01".
harness_cmd add 6 f055 d0c0 执法记录仪01 "$WORK/N.img" >/dev/null
harness_cmd add 7 f055 d0c0 记录执法仪01 "$WORK/N.img" >/dev/null
for s in 执法记录仪01 记录执法仪01; do
	wait_status ".bays[] | select(.serial == \"$s\") | .state == \"complete\"" 30
	[ "$(sqlite3 "$STATE/catalog.sqlite" "SELECT coalesce(identity_flag, '') || '|' FROM devices WHERE serial = '$s'")" = "|" ] ||
		fail "$s: flagged or not known by its own serial: $(sqlite3 "$STATE/catalog.sqlite" "SELECT serial, identity_flag FROM devices")"
done
[ "$(sqlite3 "$STATE/catalog.sqlite" "SELECT count(*) FROM devices WHERE serial IN ('执法记录仪01', '记录执法仪01')")" = 2 ] ||
	fail "two recorders with Chinese serials are not two devices: $(sqlite3 "$STATE/catalog.sqlite" "SELECT serial FROM devices")"
harness_cmd remove 6 >/dev/null
harness_cmd remove 7 >/dev/null
pass "serials in Chinese: each recorder its own device, by the serial it sends, unflagged"

# 4d. Two serials longer than dockd keeps (61 characters, 183 bytes of
# UTF-8), the same but for the last character, docked one after the other:
# two devices, each kept as the characters that fit and a digest of the
# whole, unflagged (cut at 127 bytes, the second became the first).
long=$(printf '执%.0s' $(seq 60))
for last in 一 二; do
	harness_cmd add 6 f055 d0c0 "$long$last" "$WORK/N.img" >/dev/null
	wait_status "[.bays[] | select(.serial | startswith(\"执执执\"))] | length == 1 and .[0].state == \"complete\"" 30
	harness_cmd remove 6 >/dev/null
	wait_status '[.bays[] | select(.serial | startswith("执执执"))] | length == 0' 30
done
devs=$(sqlite3 "$STATE/catalog.sqlite" "SELECT serial || '|' || coalesce(identity_flag, '') FROM devices WHERE serial LIKE '执执执%'")
[ "$(wc -l <<<"$devs")" = 2 ] && ! grep -qv '|$' <<<"$devs" ||
	fail "two recorders whose long serials differ at the end are not two unflagged devices: $devs"
pass "long serials that differ past what dockd keeps: two devices, unflagged"

# 4e. A serial string descriptor that is not one (bLength 10, 4 bytes sent):
# dockd says it cannot read the serial from the device and uses udev's.
harness_cmd add 6 f055 d0c0 CAM-RAW/raw:0a034100 "$WORK/N.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-RAW") | .state == "complete"' 30
grep -q "cannot read the serial from the device itself (Input/output error); using udev's" "$WORK/dockd.log" ||
	fail "a malformed serial descriptor is not named: $(grep -i serial "$WORK/dockd.log" | tail -3)"
harness_cmd remove 6 >/dev/null
wait_status '[.bays[] | select(.serial == "CAM-RAW")] | length == 0' 30
pass "a malformed serial descriptor: named, udev's serial used"

# 5. Pulled mid-file, then re-docked: interrupted, then resumed from the offset.
harness_cmd add 5 f055 d0c0 CAM-C "$C_DEV" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-C") | .state == "ingesting" and .bytes_done > 40000000' 60
harness_cmd remove 5 >/dev/null
wait_status '[.bays[] | select(.serial == "CAM-C")] | length == 0' 30
dockctl sessions --device CAM-C --json | jq -e '.[-1].state == "interrupted" and .[-1].ended_at != null' >/dev/null ||
	fail "pulled: session not interrupted: $(dockctl sessions --device CAM-C)"
wait_undocked CAM-C
dockctl sessions --device CAM-C --json | jq -e '.[-1].undocked_at != null and .[-1].bay == "pci-0000:00:14.0-usb-0:5:1.0"' >/dev/null ||
	fail "pulled: the session does not record its bay and undock time"
check_catalog_against_disk "$WORK/C.img" CAM-C >/dev/null
harness_cmd add 5 f055 d0c0 CAM-C "$C_DEV" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-C") | .state == "complete" and .safe_to_remove' 60
grep -q "CAM-C: /DCIM/C_0002.MP4: resuming at byte" "$WORK/dockd.log" || fail "re-dock did not resume from the offset"
[ "$(check_catalog_against_disk "$WORK/C.img" CAM-C)" = 2 ] || fail "re-dock: CAM-C incomplete"
pass "pulled mid-file: interrupted; re-docked: resumed from the offset and completed"

# 6. Removing a finished recorder ends its session cleanly.
harness_cmd remove 1 >/dev/null
wait_undocked CAM-A
dockctl sessions --device CAM-A --json | jq -e '.[-1].undocked_at != null and .[-1].state == "complete"' >/dev/null ||
	fail "undock: the session has no undock time"
pass "undock recorded"

# 7. SIGTERM mid-ingest: dockd stops at the next block, the session is
# interrupted, nothing half-recorded; a restart (coldplug) resumes.
harness_cmd remove 5 >/dev/null
STATE2=$WORK/state2 && STATE_SAVE=$STATE && STATE=$STATE2
harness_cmd signal TERM >/dev/null
harness_cmd wait | grep -qx "exited 0" || fail "dockd did not exit cleanly on SIGTERM"
harness_cmd add 5 f055 d0c0 CAM-C "$C_DEV" >/dev/null
dockd_start -c "$conf"
wait_status '.bays[] | select(.serial == "CAM-C") | .state == "ingesting" and .bytes_done > 30000000' 60
harness_cmd signal TERM >/dev/null
harness_cmd wait | grep -qx "exited 0" || fail "SIGTERM mid-ingest: dockd did not exit 0"
grep -q "stopping on signal 15: letting 1 ingest" "$WORK/dockd.log" || fail "SIGTERM: no orderly stop logged"
dockctl sessions --device CAM-C --json | jq -e '.[-1].state == "interrupted"' >/dev/null ||
	fail "SIGTERM: session not interrupted: $(dockctl sessions --device CAM-C)"
check_catalog_against_disk "$WORK/C.img" CAM-C >/dev/null
dockd_start -c "$conf"
wait_status '.bays[] | select(.serial == "CAM-C") | .state == "complete" and .safe_to_remove' 60
[ "$(check_catalog_against_disk "$WORK/C.img" CAM-C)" = 2 ] || fail "restart: CAM-C incomplete"
no_partials_left
pass "SIGTERM mid-ingest: interrupted, nothing half-recorded; restart resumed and completed"
STATE=$STATE_SAVE
