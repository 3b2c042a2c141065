# shellcheck shell=bash
# Shared setup for the integration tests: a scratch directory cleaned on exit,
# the real dockctl from the build, and assertions whose messages say what a
# user would have lost.
set -euo pipefail

BUILD=${1:-${DOCKD_BUILD:?usage: test.sh BUILD_DIR}}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/images.sh
source "$HERE/../lib/images.sh"
export LC_ALL=C.UTF-8
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/../lsan.supp:print_suppressions=0}

WORK=$(mktemp -d /tmp/dockd-it.XXXXXX)
STATE=$WORK/state
CLEANUPS=()
cleanup() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
at_exit() { CLEANUPS+=("$1"); }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
pass() { echo "ok: $*"; }

dockctl() { "$BUILD/dockctl" --state "$STATE" "$@"; }

# serve_dockd CONF: dockd (as root) on $STATE in the background, so that
# other users' dockctl goes through it and gets their roles (issue #13).
# CONF must put its [station] socket outside $STATE; $WORK becomes
# traversable, as / is.
serve_dockd() {
	local sock i
	sock=$(sed -n 's/^socket *= *//p' "$1")
	[ -n "$sock" ] || fail "serve_dockd: $1 sets no [station] socket"
	chmod 0755 "$WORK"
	"$BUILD/dockd" -c "$1" --state "$STATE" >>"$WORK/dockd.log" 2>&1 &
	SERVE_PID=$!
	at_exit "kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
	for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && return 0; sleep 0.1; done
	fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"
}

# in_journal DIR CMD...: CMD as under systemd (JOURNAL_STREAM set), in a
# mount namespace where /run/systemd/journal is DIR, the stand-in's.
# In the background (`in_journal ... &`), $! is CMD's own pid.
in_journal() {
	local dir=$1 run=()
	shift
	[ "$BASHPID" != "$$" ] && run=(exec)   # a subshell: become CMD
	"${run[@]}" env JOURNAL_STREAM=0:0 unshare -m -- sh -c 'mount -t tmpfs none /run/systemd &&
		mkdir /run/systemd/journal && mount --bind "$0" /run/systemd/journal && exec "$@"' "$dir" "$@"
}

# allow_alarm CMD...: runs `dockctl ... alarms`, which exits 3 while an alarm
# is active (a monitor's check), as a step that succeeds then too.
allow_alarm() { "$@" || [ $? = 3 ]; }

# ingest_rc IMAGE SERIAL [args...]: runs an ingest, saves its JSON summary in
# $WORK/last.json and returns dockctl's exit status without tripping set -e.
ingest_rc() {
	local img=$1 serial=$2
	shift 2
	local rc=0
	dockctl "$@" ingest --image "$img" --serial "$serial" --json >"$WORK/last.json" 2>"$WORK/last.err" || rc=$?
	return $rc
}
last() { jq -r "$1" "$WORK/last.json"; }

# Every copy the catalog calls verified must hash to the recording's SHA-256,
# and that must be the SHA-256 of the file on the device (via libtsk's icat,
# an independent reader; or, given SRC_DIR, the file the image was built
# from, for volumes too damaged for libtsk). Returns the number of
# recordings checked.
check_catalog_against_disk() {
	local img=$1 serial=$2 srcdir=${3:-} n
	dockctl recordings --device "$serial" --json >"$WORK/recs.json"
	n=$(python3 "$HERE/../lib/catcheck.py" "$WORK/recs.json" "$img" ${srcdir:+"$srcdir"} 2>"$WORK/catcheck.err") ||
		fail "$serial: the catalog claims what the disk does not hold: $(cat "$WORK/catcheck.err")"
	# The completeness oracle: a session that ended complete must account for
	# every file in use on the volume, as an independent reader lists it
	# (tests/lib/fatedit.py), with a recording of its SHA-256 and two
	# verified copies.
	dockctl sessions --device "$serial" --json >"$WORK/oracle-sess.json"
	if [ "$(jq -r '.[-1].state // empty' "$WORK/oracle-sess.json")" = complete ] && [ -f "$img" ]; then
		python3 "$HERE/../lib/fatedit.py" "$img" oracle "$WORK/recs.json" "$WORK/oracle-sess.json" >"$WORK/oracle.out" 2>&1 ||
			fail "$serial: the session says complete, but files on the volume have no verified copies: $(cat "$WORK/oracle.out")"
	fi
	echo "$n"
}

# SHA-256 of a file on a volume image, read by sleuthkit (not by dockd).
device_sha() {
	python3 "$HERE/../lib/catcheck.py" --sha "$1" "$2" || fail "device_sha: no SHA-256 of $2 on $1 (above)"
}

no_partials_left() {
	local left
	left=$(find "$STATE"/targets/*/.partial "$@" -type f 2>/dev/null | wc -l)
	[ "$left" -eq 0 ] || fail "$left partial file(s) left behind: $(find "$STATE"/targets/*/.partial "$@" -type f)"
}

# faulty_mount IMAGE MNT [BPS]: serve IMAGE as MNT/disk.img through faultyfs;
# `touch $WORK/fail` makes every read fail with EIO until it is removed;
# `faulty_pull MNT` yanks the device: reads fail and the node is gone.
faulty_mount() {
	local img=$1 mnt=$2 bps=${3:-0}
	mkdir -p "$mnt"
	FAULTYFS_FAIL=$WORK/fail FAULTYFS_BPS=$bps FAULTYFS_BAD=${FAULTYFS_BAD:-} "$BUILD/tests/faultyfs" "$img" "$mnt" &
	FAULTY_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$mnt/disk.img" ] && break
		sleep 0.1
	done
	[ -e "$mnt/disk.img" ] || fail "faultyfs did not come up on $mnt"
	at_exit "fusermount -u -z '$mnt' 2>/dev/null"
}

faulty_pull() {
	kill -9 "$FAULTY_PID"
	wait "$FAULTY_PID" 2>/dev/null || true
	fusermount -u -z "$1" 2>/dev/null || umount -l "$1"
}

# wait_for_partial MIN_BYTES: until some partial copy holds at least
# MIN_BYTES of written data. A partial's size is its whole file from the start
# (dockd reserves the space), so this counts the data extents (SEEK_DATA):
# the reserved, unwritten rest reads as a hole.
wait_for_partial() {
	local min=$1 i size
	for ((i = 0; i < 600; i++)); do
		size=$(python3 -c '
import os, sys
best = 0
for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        continue
    end, off, data = os.fstat(fd).st_size, 0, 0
    while off < end:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        off = os.lseek(fd, start, os.SEEK_HOLE)
        data += off - start
    os.close(fd)
    best = max(best, data)
print(best)' "$STATE"/targets/*/.partial/* 2>/dev/null) || true
		[ -n "$size" ] && [ "$size" -ge "$min" ] && return 0
		sleep 0.1
	done
	fail "no partial copy reached $min bytes in 60 s"
}

# A config with frequent resume points, so kills land between and after them.
small_checkpoints_conf() {
	cat >"$WORK/dockd.conf" <<-CONF
	[ingest]
	checkpoint_mib = 16
	chunk_kib = 1024
	chunks = 8
	CONF
	echo "$WORK/dockd.conf"
}

# ---- docking: the real dockd under umockdev (tests/tools/bayharness) ----

# dockd_start [ARGS...]: spawn dockd in the harness testbed; its log goes to
# $WORK/dockd.log. The harness must be started (harness_start).
dockd_start() {
	local reply
	reply=$(harness_cmd spawn sh -c "'exec \"$BUILD/dockd\" --state \"$STATE\" $* >>\"$WORK/dockd.log\" 2>&1'")
	DOCKD_PID=${reply#spawned }
	local i
	for ((i = 0; i < 100; i++)); do
		"$BUILD/dockctl" --state "$STATE" "$@" status --json >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"
}

status_json() { "$BUILD/dockctl" --state "$STATE" status --json; }

# wait_log REGEX [SECONDS]: until dockd's log ($WORK/dockd.log) has a line
# matching the extended regular expression (up to SECONDS, default 20).
wait_log() {
	local i
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		grep -qE "$1" "$WORK/dockd.log" && return 0
		sleep 0.1
	done
	fail "dockd never logged /$1/: $(tail -5 "$WORK/dockd.log")"
}

# wait_status JQ_EXPR [SECONDS]: until dockctl status --json satisfies the expression.
wait_status() {
	local expr=$1 secs=${2:-60} i
	for ((i = 0; i < secs * 10; i++)); do
		status_json 2>/dev/null | jq -e "$expr" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "status never satisfied: $expr; last: $(status_json 2>&1); log: $(tail -5 "$WORK/dockd.log")"
}

# bay_of SERIAL: the status entry of the docked recorder with that serial.
bay_of() { status_json | jq -c --arg s "$1" '.bays[] | select(.serial == $s)'; }

# journal_listen SOCKET OUT: a stand-in for journald's native socket; each
# datagram becomes one JSON object (its fields) per line in OUT. Run dockd or
# dockctl with in_journal DIR (SOCKET's directory) so that sd_journal_sendv
# finds it at /run/systemd/journal/socket.
journal_listen() {
	python3 - "$1" "$2" <<'PY' &
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        d = s.recv(1 << 20)
        f, i = {}, 0
        while i < len(d):
            nl = d.index(b"\n", i)
            line = d[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1)
                i = nl + 1
            else:
                k, n = line, struct.unpack("<Q", d[nl + 1:nl + 9])[0]
                v = d[nl + 9:nl + 9 + n]
                i = nl + 9 + n + 1
            f[k.decode()] = v.decode("utf-8", "replace")
        out.write(json.dumps(f) + "\n")
PY
	JOURNAL_PID=$!
	at_exit "kill $JOURNAL_PID 2>/dev/null"
	local i
	for ((i = 0; i < 50; i++)); do [ -S "$1" ] && return 0; sleep 0.1; done
	fail "the journal stand-in did not start"
}

# journal_has JQ_EXPR OUT [SECONDS]: true once the entries in OUT
# (journal_listen's), read as one array, satisfy the expression; the stand-in
# writes them a moment after the sender is done, so this waits for them (up
# to SECONDS, default 10).
journal_has() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		jq -e -s "$1" "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
