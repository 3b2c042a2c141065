#!/bin/bash
# The crash test at every write (issue #14), as SQLite's are: an ingest is
# killed with SIGKILL just before each call that changes a file on disk in
# turn (write, pwrite, fsync, fdatasync, ftruncate, fallocate, rename, link,
# unlink, mkdir: tests/tools/crashwrite.so), every one of them, not
# hand-picked points. After each kill the catalog claims nothing the disk
# lacks: every copy it records is on its target with the recording's size and
# SHA-256, and every SHA-256 it records is the device file's. Then the same
# recorder is ingested again without a crash: it completes, every file on the
# device has its two verified copies, and every ended session has its
# manifest. Nothing lost, nothing claimed that was not verified.
#
# In the suite it kills at every STRIDE-th write (DOCKD_EVERY_WRITE_STRIDE,
# default 4) from an offset that changes each run (printed; set
# DOCKD_EVERY_WRITE_OFFSET to repeat a run), so every point is covered across
# runs; scripts/crash-every-write runs each point in one go (stride 1).
source "$(dirname "$0")/common.sh"
stride=${DOCKD_EVERY_WRITE_STRIDE:-4}
offset=${DOCKD_EVERY_WRITE_OFFSET:-$((RANDOM % stride + 1))}
echo "killing at writes $offset, $((offset + stride)), ... (stride $stride; DOCKD_EVERY_WRITE_OFFSET=$offset repeats it)"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-24T08:00:00Z
head -c 300000 /dev/urandom >"$src/DCIM/CLIP0002.MP4"
make_fat32 "$WORK/rec.img" 40 "$src"
printf '[metrics]\nlisten = off\n' >"$WORK/dockd.conf"
# The state as a station has it before this recorder docks: catalog made,
# migrations applied (their writes are the catalog's own tests' business).
"$BUILD/dockctl" --state "$WORK/base" -c "$WORK/dockd.conf" officers >/dev/null 2>&1 || fail "cannot make the base state"

python3 - "$BUILD" "$WORK" "$src" "$stride" "$offset" <<'PY' || fail "a crash at some write lost or misclaimed something (above)"
import hashlib, json, os, shutil, sqlite3, subprocess, sys
build, work, src = sys.argv[1:4]
stride, offset = int(sys.argv[4]), int(sys.argv[5])
env = dict(os.environ, ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
shim = os.path.join(build, "tests", "crashwrite.so")
truth = {}
for d, _, files in os.walk(src):
    for f in files:
        p = os.path.join(d, f)
        truth["/" + os.path.relpath(p, src)] = hashlib.sha256(open(p, "rb").read()).hexdigest()

def ingest(state, at=None, count=None):
    e = dict(env)
    if at is not None or count is not None:
        e["LD_PRELOAD"] = shim
    if at is not None:
        e["CRASHWRITE_AT"] = str(at)
    if count is not None:
        e["CRASHWRITE_COUNT"] = count
    return subprocess.run([os.path.join(build, "dockctl"), "--state", state, "-c", os.path.join(work, "dockd.conf"),
                           "ingest", "--image", os.path.join(work, "rec.img"), "--serial", "CAM-W", "--json"],
                          env=e, capture_output=True, timeout=120)

def claims(state, at, after):
    """What the catalog claims, checked against the disk and the device."""
    db = sqlite3.connect("file:%s/catalog.sqlite?mode=ro" % state, uri=True)
    bad = []
    for rid, path, size, sha in db.execute("SELECT id, device_path, size, sha256 FROM recordings"):
        if sha is not None and sha != truth.get(path):
            bad.append("recording %s %s: SHA-256 %s is not the device file's" % (rid, path, sha))
        for root, rel in db.execute("SELECT t.path, k.path FROM copies k JOIN targets t ON t.id = k.target_id "
                                    "WHERE k.recording_id = ?", (rid,)):
            f = os.path.join(root, rel)
            if sha is None:
                bad.append("recording %s %s: a verified copy with no SHA-256" % (rid, path))
            elif not os.path.isfile(f):
                bad.append("recording %s %s: its copy %s is not on the disk" % (rid, path, f))
            elif os.path.getsize(f) != size or hashlib.sha256(open(f, "rb").read()).hexdigest() != sha:
                bad.append("recording %s %s: its copy %s is not the recording" % (rid, path, f))
    if after:
        for path, sha in truth.items():
            n = db.execute("SELECT count(*) FROM copies k JOIN recordings r ON r.id = k.recording_id "
                           "WHERE r.device_path = ? AND r.sha256 = ?", (path, sha)).fetchone()[0]
            if n != 2:
                bad.append("%s: %d verified copies after the re-dock, not 2" % (path, n))
        n = db.execute("SELECT count(*) FROM dock_sessions s WHERE s.state <> 'ingesting' AND NOT EXISTS "
                       "(SELECT 1 FROM manifests m WHERE m.session_id = s.id)").fetchone()[0]
        if n:
            bad.append("%d ended session(s) without a manifest after the re-dock" % n)
    db.close()
    for b in bad:
        print("FAIL: killed at write %d%s: %s" % (at, ", then re-docked" if after else "", b), file=sys.stderr)
    return not bad

count = os.path.join(work, "points")
probe = os.path.join(work, "probe")
shutil.copytree(os.path.join(work, "base"), probe)
r = ingest(probe, count=count)
assert r.returncode == 0, r.stderr.decode()
points = int(open(count).read())
assert points > 50, "only %d write points counted: the shim sees nothing" % points
ok, killed = True, 0
chosen = range(offset, points + 1, stride)
for at in chosen:
    state = os.path.join(work, "s")
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(os.path.join(work, "base"), state)
    r = ingest(state, at=at)
    killed += r.returncode == -9
    ok &= claims(state, at, False)
    r = ingest(state)
    if r.returncode != 0 or json.loads(r.stdout or b"{}").get("state") != "complete":
        print("FAIL: killed at write %d, the re-dock did not complete (exit %d): %s %s"
              % (at, r.returncode, r.stdout.decode()[-300:], r.stderr.decode()[-500:]), file=sys.stderr)
        ok = False
    ok &= claims(state, at, True)
# the last points may come after the work (the manifest, the exit): most kills must have landed
assert killed >= len(chosen) - 5, "only %d of %d runs were killed" % (killed, len(chosen))
print("killed at %d of %d writes in turn (%d kills landed): nothing lost, nothing misclaimed"
      % (len(chosen), points, killed))
sys.exit(0 if ok else 1)
PY
pass "an ingest killed at one write in every $stride, in turn: the catalog never claims what the disk lacks; every re-dock completes"
