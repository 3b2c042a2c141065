#!/bin/bash
# The control socket cannot stall the station (issue #12): a client that
# sends a byte every half second, clients that never finish, garbage and
# oversized requests, and a hundred clients at once; all the while
# `dockctl status` answers promptly from the same event loop.
source "$(dirname "$0")/common.sh"

printf '[metrics]\nlisten = off\n' >"$WORK/dockd.conf"
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" 2>"$WORK/dockd.log" &
dockd_pid=$!
at_exit "kill $dockd_pid 2>/dev/null; wait $dockd_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -S "$STATE/dockd.sock" ] && break; sleep 0.1; done
[ -S "$STATE/dockd.sock" ] || fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"

python3 - "$STATE/dockd.sock" "$BUILD/dockctl" "$STATE" <<'PY' || fail "the control socket stalled or misbehaved"
import socket, subprocess, sys, threading, time
path, dockctl, state = sys.argv[1:4]

def status_time():
    t = time.monotonic()
    # a hang detector, not a speed test: the old loop served one client at a
    # time, a second each for silent ones, so a hundred of them held it 100 s
    subprocess.run([dockctl, "--state", state, "status", "--json"], check=True, capture_output=True, timeout=20)
    return time.monotonic() - t

def dribble(stop):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    try:
        for ch in b"status\n":
            if stop.is_set(): break
            s.send(bytes([ch])); time.sleep(0.5)
    except OSError:
        pass
    s.close()

base = status_time()
stop = threading.Event()
slow = [threading.Thread(target=dribble, args=(stop,)) for _ in range(3)]
for t in slow: t.start()
# silent clients that connect and never send; one that sends a huge request
silent = []
for _ in range(100):
    s = socket.socket(socket.AF_UNIX); s.connect(path); silent.append(s)
big = socket.socket(socket.AF_UNIX); big.connect(path)
try:
    big.sendall(b"x" * 100000)
except OSError:
    pass
garbage = socket.socket(socket.AF_UNIX); garbage.connect(path)
garbage.sendall(b"\x00\xff\x1b[2J\r\nstatus\n")
worst = max(status_time() for _ in range(5))
stop.set()
for t in slow: t.join()
reply = big.recv(4096)
assert b"too long" in reply or reply == b"", reply
g = garbage.recv(4096)
assert b"unknown request" in g, g
for s in silent: s.close()
# after all that, still answering
after = status_time()
print("status: %.2f s alone, %.2f s worst under abuse, %.2f s after" % (base, worst, after))
PY
kill -0 $dockd_pid 2>/dev/null || fail "dockd died: $(tail -5 "$WORK/dockd.log")"
pass "slow, silent, garbage and oversized clients, a hundred at once: dockctl status still answers at once"
