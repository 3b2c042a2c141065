#!/bin/bash
# The control socket cannot stall the station (issues #12, #13): a client
# that sends a byte every half second, clients that never finish, garbage,
# truncated, oversized and wrong-version requests each refused with an error
# that names what is wrong, and many requests at once all answered; all the
# while `dockctl status` answers promptly from the same event loop.
source "$(dirname "$0")/common.sh"

printf '[metrics]\nlisten = off\n' >"$WORK/dockd.conf"
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" 2>"$WORK/dockd.log" &
dockd_pid=$!
at_exit "kill $dockd_pid 2>/dev/null; wait $dockd_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -S "$STATE/dockd.sock" ] && break; sleep 0.1; done
[ -S "$STATE/dockd.sock" ] || fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"

python3 - "$STATE/dockd.sock" "$BUILD/dockctl" "$STATE" <<'PY' || fail "the control socket stalled or misbehaved"
import os, socket, subprocess, sys, threading, time
path, dockctl, state = sys.argv[1:4]

def frame(t, b=b""):
    return t + str(len(b)).encode() + b":" + b + b","

def request(*args):
    return frame(b"V", b"1") + b"".join(frame(b"A", a.encode()) for a in args) + frame(b".")

def reply_of(raw, timeout=10):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(timeout)
    try:
        s.sendall(raw)
    except OSError:
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out

def status_time():
    t = time.monotonic()
    # a hang detector, not a speed test: the old loop served one client at a
    # time, a second each for silent ones, so a hundred of them held it 100 s
    subprocess.run([dockctl, "--state", state, "status", "--json"], check=True, capture_output=True, timeout=20)
    return time.monotonic() - t

def dribble(stop):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    try:
        for ch in request("status"):
            if stop.is_set(): break
            s.send(bytes([ch])); time.sleep(0.5)
    except OSError:
        pass
    s.close()

base = status_time()
stop = threading.Event()
slow = [threading.Thread(target=dribble, args=(stop,)) for _ in range(3)]
for t in slow: t.start()
# silent clients that connect and never send
silent = []
for _ in range(100):
    s = socket.socket(socket.AF_UNIX); s.connect(path); silent.append(s)
worst = max(status_time() for _ in range(5))
stop.set()
for t in slow: t.join()
for s in silent: s.close()

def refused(raw, words, code=b"X1:2,"):
    r = reply_of(raw)
    assert words in r and r.endswith(code), (raw[:60], r)

# one frame larger than a request frame may be; a request larger than a request may be
refused(frame(b"V", b"1") + b"A99999:" + b"x" * 99999 + b",", b"larger than 4096 bytes")
refused(frame(b"V", b"1") + frame(b"A", b"y" * 4000) * 20 + frame(b"."), b"request larger than 65536 bytes")
refused(frame(b"V", b"1") + frame(b"A", b"officers") * 70 + frame(b"."), b"more than 64 arguments")
# garbage, an old line request, another version, a NUL inside an argument, a file without its descriptor
refused(b"\x00\xff\x1b[2J\r\nstatus\n", b"not control protocol 1")
refused(b"status\n", b"not control protocol 1")
refused(frame(b"V", b"2") + frame(b"A", b"status") + frame(b"."), b"speaks control protocol 1; this request is version 2")
refused(frame(b"V", b"1") + frame(b"A", b"offi\x00cers") + frame(b"."), b"with a NUL byte")
refused(frame(b"V", b"1") + frame(b"A", b"ingest") + frame(b"F", b"/etc/passwd") + frame(b"."), b"must carry a descriptor")
refused(request("frobnicate"), b"unknown verb 'frobnicate'")
# truncated: the peer leaves mid-request; nothing is run, dockd goes on
r = reply_of(frame(b"V", b"1") + b"A6:sta")
assert r in (b"",) or b"ended before its end frame" in r, r
# a whole request answered in frames: the bays, exit 0
r = reply_of(request("status", "--json"))
assert r.startswith(b"O") and r.endswith(b"X1:0,"), r

# many clients at once, each a worker's request: every one answered, none refused as busy
def officers(results, i):
    p = subprocess.run([dockctl, "--state", state, "officers", "--json"], capture_output=True, timeout=120)
    results[i] = (p.returncode, p.stderr)
results = [None] * 24
ts = [threading.Thread(target=officers, args=(results, i)) for i in range(24)]
for t in ts: t.start()
for t in ts: t.join()
bad = [r for r in results if r[0] != 0]
assert not bad, bad
after = status_time()
print("status: %.2f s alone, %.2f s worst under abuse, %.2f s after; 24 requests at once all answered" % (base, worst, after))
PY
kill -0 $dockd_pid 2>/dev/null || fail "dockd died: $(tail -5 "$WORK/dockd.log")"
pass "slow, silent, garbage, truncated, oversized, wrong-version clients and a hundred at once: refused by name, and dockctl status still answers at once"
