#!/bin/bash
# Recorders that speak the 行标 functions as SCSI vendor commands (issue #16):
# the real dockd, under umockdev, docks a simulated JieLi-family recorder
# whose card stays hidden until it is unlocked (tests/tools/bayharness
# answers SG_IO on its disk). Asserted: the bay's states; every CDB the
# recorder received is on the whitelist; the officer (GBK on the wire) and
# the clock come from the device and are recorded; a ledger that names
# another officer flags the recordings 'conflict'; the card is ingested
# completely. And the broken or hostile ones: a loader-mode chip is sent
# nothing but INQUIRY, no card, a card that never appears, a command that
# times out or fails with a sense, a short ZFY_INFO, bad GBK, a wrong
# password, a serial that disagrees with what the catalog bound it to.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HARNESS_CHILD_OUT=$WORK/harness.out

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/REC_0001.MP4" 1 2026-12-05T08:00:00Z
head -c 200000 /dev/urandom >"$src/DCIM/REC_0002.MP4"
make_fat32 "$WORK/card.img" 40 "$src"
printf 'S3cret-F1le\n' >"$WORK/password"
METRICS_PORT=$((20000 + RANDOM % 20000))
chmod 0600 "$WORK/password"
conf=$(small_checkpoints_conf)
cat >>"$conf" <<CONF
[station]
timezone = Asia/Shanghai
[metrics]
listen = 127.0.0.1:$METRICS_PORT
[recorder.f055:d0c1]
driver = gat947-jl
clock = sync
unlock_timeout_s = 3
[recorder.f055:d0c2]
driver = gat947-jl
password_file = $WORK/password
[recorder.f055:d0c3]
driver = gat947-jl
info_layout = 94
clock = off
CONF

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"
dockctl officers add 012345 --name "张三" >/dev/null

# whitelisted LOG: every CDB in LOG is one dockd may send (INQUIRY, or FD 81 /
# FB 82 with a known command, its exact length, zeros elsewhere).
whitelisted() {
	python3 - "$1" <<'PY'
import sys
ok = {("fb82", 1, 0), ("fd81", 2, 6), ("fd81", 3, 89), ("fd81", 3, 94), ("fb82", 5, 7), ("fb82", 6, 0),
      ("fd81", 8, 4), ("fd81", 12, 4), ("fd81", 13, 16), ("fd81", 14, 4)}
for line in open(sys.argv[1]):
    cdb = bytes.fromhex(line.split()[0])
    if cdb == bytes([0x12, 0, 0, 0, 36, 0]):
        continue
    key = (cdb[:2].hex(), cdb[5], int.from_bytes(cdb[6:8], "big"))
    if len(cdb) != 16 or any(cdb[2:5]) or any(cdb[8:]) or key not in ok:
        sys.exit("not on the whitelist: " + line.strip())
PY
}
sent() { grep -c "^$2" "$1" || true; } # sent LOG HEXPREFIX: how many CDBs start so

# 1. A locked recorder: unlocked, its card ingested, officer and clock from it.
harness_cmd add 1 f055 d0c1 USB-1 "$WORK/card.img" label=A123456 jl.serial=A123456 jl.badge=012345 \
	jl.name=张三 jl.unit_no=330100000001 jl.unit_name=城关派出所 jl.battery=64 "jl.log=$WORK/cdb1.log" |
	grep -q "^added 1 /dev/sd.$" || fail "the locked recorder was not added as a disk without a card"
wait_status '.bays[] | select(.serial == "A123456") | .state == "complete" and .safe_to_remove' 60
grep -q "recorder docked (/dev/sd., USB f055:d0c1, locked: no card yet)" "$WORK/dockd.log" ||
	fail "dockd did not see the locked recorder before its card: $(grep 'bay ' "$WORK/dockd.log" | head -3)"
grep -q "recorder unlocked; waiting up to 3 s for its card" "$WORK/dockd.log" || fail "no unlock logged"
whitelisted "$WORK/cdb1.log" || fail "dockd sent a CDB off the whitelist (above)"
[ "$(head -1 "$WORK/cdb1.log")" = "120000002400" ] || fail "the first CDB was not INQUIRY: $(head -1 "$WORK/cdb1.log")"
[ "$(sent "$WORK/cdb1.log" fb8200000006)" = 1 ] || fail "SET_MSDC not sent exactly once: $(cat "$WORK/cdb1.log")"
bay_of A123456 | jq -e '.battery_pct == 64 and .reported_officer == "012345" and .reported_officer_name == "张三"' \
	>/dev/null || fail "the bay does not show what the recorder reported: $(bay_of A123456)"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -qx 'dockd_bay_battery_percent{bay="pci-0000:00:14.0-usb-0:1:1.0"} 64' ||
	fail "/metrics does not show the battery: $(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep battery)"
[ "$(check_catalog_against_disk "$WORK/card.img" A123456)" = 2 ] || fail "the card was not ingested completely"
dockctl sessions --device A123456 --json | jq -e '.[0].state == "complete" and .[0].device_report.officer ==
	{"badge":"012345","name":"张三","unit_no":"330100000001","unit_name":"城关派出所"} and .[0].device_report.battery_pct == 64
	and .[0].device_report.id_code == "4a4c00010203" and (.[0].device_report.clock_set_to | endswith(" Asia/Shanghai"))' \
	>/dev/null || fail "the session does not record what the recorder said: $(dockctl sessions --device A123456 --json)"
dockctl recordings --device A123456 --json | jq -e 'length == 2 and all(.[]; .officer == "012345" and
	.officer_source == "device" and .attribution_flag == null)' >/dev/null ||
	fail "recordings not attributed to the device's officer: $(dockctl recordings --device A123456 --json | jq -c '[.[] | [.officer, .officer_source, .attribution_flag]]')"
# the time sent: the station's UTC in Asia/Shanghai (UTC+8, no DST), to the second
set_at=$(dockctl sessions --device A123456 --json | jq -r '.[0].device_report.clock_set_at')
python3 - "$WORK/cdb1.log" "$set_at" <<'PY' || fail "the clock set is not the station's time in Asia/Shanghai"
import datetime, sys
line = [l for l in open(sys.argv[1]) if l.startswith("fb8200000005")][0]
b = bytes.fromhex("".join(line.split(">")[1].split()))
sent = datetime.datetime(b[0] | b[1] << 8, b[2], b[3], b[4], b[5], b[6])
at = datetime.datetime.strptime(sys.argv[2][:19], "%Y-%m-%dT%H:%M:%S")
d = (sent - at).total_seconds()
if abs(d - 8 * 3600) > 2:
    sys.exit("sent %s for %s UTC: %+d s" % (sent, at, d))
PY
# the signed manifest carries what the device said, valid against its schema
sid=$(dockctl sessions --device A123456 --json | jq '.[0].id')
dockctl manifest show "$sid" >"$WORK/m.json"
jq -e '.session.device_report.officer.name == "张三" and .session.device_report.battery_pct == 64 and
	.session.device_report.clock_set_at != null' "$WORK/m.json" >/dev/null ||
	fail "the manifest does not carry the device's report: $(jq -c .session "$WORK/m.json")"
python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
	"$WORK/m.json" "$HERE/../../schema/manifest.schema.json" || fail "the manifest with a device report breaks its schema"
pass "a locked 行标 recorder: INQUIRY first, whitelisted CDBs only, unlocked once, its card ingested completely; officer 张三 (GBK) and battery from the device; its clock set to Asia/Shanghai time"

# 2. The ledger names another officer for that time: both kept, flagged.
harness_cmd remove 1 >/dev/null
dockctl officers add A100 --name "Alice" >/dev/null
dockctl assign A123456 A100 --at 2026-12-01T00:00 >/dev/null
mkdir -p "$WORK/src2/DCIM"
make_clip "$WORK/src2/DCIM/REC_0003.MP4" 1 2026-12-05T09:00:00Z
make_fat32 "$WORK/card2.img" 40 "$WORK/src2"
harness_cmd add 2 f055 d0c1 USB-1 "$WORK/card2.img" label=A123456 jl.serial=A123456 jl.badge=012345 >/dev/null
wait_status '.bays[] | select(.serial == "A123456") | .state == "complete"' 60
dockctl recordings --device A123456 --json | jq -e '[.[] | select(.device_path == "/DCIM/REC_0003.MP4")][0] |
	.officer == "012345" and .officer_source == "device" and .attribution_flag == "conflict"' >/dev/null ||
	fail "a device officer that disagrees with the ledger is not flagged: $(dockctl recordings --device A123456 --json | jq -c '.[-1]')"
pass "the device names 012345 while the ledger has A100 checked out: the recording is flagged conflict"

# 3. The same ZFY serial with another USB serial: flagged, kept apart.
harness_cmd add 3 f055 d0c1 USB-OTHER "$WORK/card2.img" label=A123456 jl.serial=A123456 jl.badge=012345 >/dev/null
wait_status '.bays[] | select(.serial == "A123456~USB-OTHER") | .state == "complete" and
	.identity_flag == "serial-mismatch"' 60
grep -q "A123456: its USB serial is 'USB-OTHER', not the 'USB-1' it was first seen with; recorded apart" \
	"$WORK/dockd.log" || fail "the mismatch is not explained in the log"
harness_cmd remove 3 >/dev/null
# the same ZFY serial and USB serial, another volume label: flagged too
harness_cmd add 15 f055 d0c1 USB-1 "$WORK/card2.img" label=OTHERLABEL jl.serial=A123456 jl.badge=012345 >/dev/null
wait_status '.bays[] | select(.serial == "A123456~USB-1") | .state == "complete" and
	.identity_flag == "serial-mismatch"' 60
grep -q "A123456: its volume label is 'OTHERLABEL', not the 'A123456' it was first seen with" "$WORK/dockd.log" ||
	fail "the label mismatch is not explained in the log"
harness_cmd remove 15 >/dev/null
pass "a recorder whose USB serial or volume label disagrees with what its 行标 serial is bound to is flagged and kept apart"

# 4. Broken and hostile recorders: each ends with a clear bay error; what
#    was sent stays on the whitelist; none is unlocked that should not be.
fault() { # fault BAY PID FAULT EXPECTED_ERROR [more harness options]
	local bay=$1 pid=$2 f=$3 want=$4
	shift 4
	harness_cmd add "$bay" f055 "$pid" "USB-F$bay" "$WORK/card.img" "jl.serial=F00000$bay" jl.badge=012345 \
		"jl.log=$WORK/cdb$bay.log" ${f:+"jl.fault=$f"} "$@" >/dev/null
	[ "$f" != never-card ] || # the bay says what it waits for, in the status JSON and the text table
		wait_status ".bays[] | select(.bay == \"pci-0000:00:14.0-usb-0:$bay:1.0\") | .state == \"unlocking\" and
			.step == \"waiting for the card\"" 10
	[ "$f" != never-card ] || "$BUILD/dockctl" --state "$STATE" status | grep -q "^    waiting for the card" ||
		fail "dockctl status does not say the bay waits for the card"
	wait_status ".bays[] | select(.bay == \"pci-0000:00:14.0-usb-0:$bay:1.0\") | .state == \"failed\"" 30
	local err
	err=$(status_json | jq -r ".bays[] | select(.bay == \"pci-0000:00:14.0-usb-0:$bay:1.0\") | .error")
	[[ $err == *"$want"* ]] || fail "fault '$f': the bay says '$err', not '$want'"
	touch "$WORK/cdb$bay.log"
	whitelisted "$WORK/cdb$bay.log" || fail "fault '$f': dockd sent a CDB off the whitelist"
}
fault 4 d0c1 uboot "loader (firmware update) mode"
[ ! -s "$WORK/cdb4.log" ] || fail "a loader-mode recorder (its INQUIRY known from sysfs) was sent: $(cat "$WORK/cdb4.log")"
fault 14 d0c1 uboot-inquiry "loader (firmware update) mode"
[ "$(wc -l <"$WORK/cdb14.log")" = 1 ] || fail "a recorder whose INQUIRY says UBOOT was sent more: $(cat "$WORK/cdb14.log")"
fault 5 d0c1 nocard "reports no memory card"
[ "$(sent "$WORK/cdb5.log" fb8200000006)" = 0 ] || fail "SET_MSDC sent to a recorder without a card"
fault 6 d0c1 never-card "card did not appear within 3 s"
fault 7 d0c1 timeout:1 "INIT_USB_DEVICE: the recorder did not answer"
fault 8 d0c1 sense:12 "GET_SD_STATUS: the recorder refused it (SCSI status 0x02, sense key 0x4"
fault 9 d0c1 init-fails "reports INIT failed"
fault 10 d0c2 "" "password is not the one in password_file" jl.password=D3vice-Pw
[ "$(sent "$WORK/cdb10.log" fb8200000006)" = 0 ] || fail "SET_MSDC sent with the wrong password"
! grep -q "S3cret-F1le\|D3vice-Pw" "$WORK/dockd.log" "$WORK/cdb10.log" || fail "a password appears in the log"
pass "loader mode (nothing sent; INQUIRY only when only it tells), no card, a card that never appears, a timeout, a sense error, a failed INIT, a wrong password: each a clear bay error, nothing unlocked that should not be, nothing off the whitelist"

# 5. ZFY_INFO unreadable (short, bad GBK): the card is still taken, under the
#    USB identity, flagged; the 94-byte layout reads as configured.
harness_cmd add 11 f055 d0c1 USB-SHORT "$WORK/card.img" jl.serial=S1 "jl.fault=short-info" >/dev/null
wait_status '.bays[] | select(.serial == "USB-SHORT") | .state == "complete" and .identity_flag == "info-unreadable"' 30
dockctl sessions --device USB-SHORT --json | jq -e '.[0].device_report.info_error | test("answered 84 bytes, not 89")' \
	>/dev/null || fail "the short ZFY_INFO is not recorded: $(dockctl sessions --device USB-SHORT --json | jq -c '.[0].device_report')"
harness_cmd add 12 f055 d0c1 USB-GBK "$WORK/card.img" jl.serial=G1 jl.name=张三 "jl.fault=bad-gbk" >/dev/null
wait_status '.bays[] | select(.serial == "USB-GBK") | .identity_flag == "info-unreadable"' 30
harness_cmd add 13 f055 d0c3 USB-94 "$WORK/card.img" jl.serial=L94 jl.layout=94 jl.badge=012345 jl.name=张三 \
	"jl.log=$WORK/cdb13.log" >/dev/null
wait_status '.bays[] | select(.serial == "L94") | .state == "complete"' 30
dockctl sessions --device L94 --json | jq -e '.[0].device_report.officer.name == "张三" and .[0].device_report.clock_set_at == null' \
	>/dev/null || fail "the 94-byte layout: $(dockctl sessions --device L94 --json | jq -c '.[0].device_report')"
[ "$(sent "$WORK/cdb13.log" fb8200000005)" = 0 ] || fail "clock = off, but the clock was set"
pass "an unreadable ZFY_INFO (short, bad GBK) is flagged and the card still taken; layout 94 reads; clock = off leaves the clock"

check=$("$BUILD/dockd" -c "$conf" --state "$STATE.check" --check 2>&1) || fail "dockd --check: $check"
grep -qF "recorder f055:d0c2: driver gat947-jl, clock sync, info 89, password from $WORK/password ([recorder.f055:d0c2])" \
	<<<"$check" || fail "dockd --check does not list the models: $check"
pass "dockd --check lists each model with its driver"
