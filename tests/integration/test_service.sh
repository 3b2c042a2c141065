#!/bin/bash
# dockd as a systemd service: READY=1 once it listens, watchdog pings while it
# runs, STOPPING=1 and exit 0 on SIGTERM; a broken config stops it with the
# file and line; dockctl status --watch redraws; the udev rules in udev/ are
# the ones dockd renders from the allow-list.
source "$(dirname "$0")/common.sh"

# A stand-in for systemd's notify socket.
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        for line in msg.split("\n"):
            log.write(line + "\n")
        if "STOPPING=1" in msg:
            break
PY
listener=$!
at_exit "kill $listener 2>/dev/null"
for ((i = 0; i < 50; i++)); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=400000 \
	sh -c 'WATCHDOG_PID=$$ exec "$0" --state "$1"' "$BUILD/dockd" "$STATE" 2>"$WORK/dockd.log" &
pid=$!
at_exit "kill -9 $pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q READY=1 "$WORK/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q READY=1 "$WORK/notify.log" || fail "no READY=1: $(cat "$WORK/dockd.log")"
"$BUILD/dockctl" --state "$STATE" status | grep -q "no recorder docked" || fail "status does not answer once READY"
sleep 1.5
pings=$(grep -c WATCHDOG=1 "$WORK/notify.log" || true)
[ "$pings" -ge 3 ] || fail "only $pings watchdog pings in 1.5 s with WatchdogSec=0.4s"
# --foreground: no SIGCONT after the SIGTERM. A SIGCONT that lands while the
# exiting dockctl's LeakSanitizer stops its threads (PTRACE_ATTACH's SIGSTOP
# still pending) cancels that stop, and the leak check waits forever: 4 runs
# in 30 hung here without it, 0 in 40 with it.
timeout --foreground 2.5 "$BUILD/dockctl" --state "$STATE" status --watch >"$WORK/watch.out" || true
[ "$(grep -c 'SAFE TO REMOVE' "$WORK/watch.out")" -ge 2 ] || fail "status --watch did not redraw: $(cat -v "$WORK/watch.out")"
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] || fail "dockd exited $rc on SIGTERM"
wait $listener || true
grep -q STOPPING=1 "$WORK/notify.log" || fail "no STOPPING=1"
[ ! -e "$STATE/dockd.sock" ] || fail "control socket left behind"
pass "READY, watchdog ($pings pings), status --watch, STOPPING and exit 0"

printf '[station]\nid = ok\n[recorders]\nallow = f055-d0c0\n' >"$WORK/bad.conf"
rc=0
"$BUILD/dockd" -c "$WORK/bad.conf" --state "$STATE" 2>"$WORK/bad.err" || rc=$?
[ $rc = 1 ] && grep -q "bad.conf:4: \[recorders\] allow: 'f055-d0c0' is not a USB vendor:product pair" "$WORK/bad.err" ||
	fail "broken config: exit $rc: $(cat "$WORK/bad.err")"
pass "a broken config stops dockd with file, line and problem"

"$BUILD/dockd" --udev-rules | diff - "$HERE/../../udev/70-dockd.rules" >/dev/null ||
	fail "udev/70-dockd.rules is not what dockd renders from the default allow-list: run scripts/render-udev-rules -o udev/70-dockd.rules"
printf '[recorders]\nallow = 1d6b:0104, 2e8a:000a\n' >"$WORK/allow.conf"
rules=$("$BUILD/dockd" -c "$WORK/allow.conf" --udev-rules)
for pair in '"1d6b", ATTR{idProduct}=="0104"' '"2e8a", ATTR{idProduct}=="000a"'; do
	grep -qF "ATTR{idVendor}==$pair, TAG+=\"dockd\", GROUP=\"dockd\", MODE=\"0660\"" <<<"$rules" || fail "rules lack $pair"
done
! grep -q f055 <<<"$rules" || fail "a configured allow-list still lets the demo recorder in"
pass "udev rules rendered from the allow-list, and the shipped file is current"
