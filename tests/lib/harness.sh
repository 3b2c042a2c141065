# shellcheck shell=bash disable=SC2034 # HARNESS_DIR is for the caller
# Drive tests/tools/bayharness (simulated docking-station bays under umockdev)
# from a bash test.  Source this file; do not execute it.
#
#   harness_start [BAYHARNESS]      start it as a coprocess; sets HARNESS_DIR
#                                   (the testbed, = UMOCKDEV_DIR of spawned
#                                   children) and HARNESS_PID
#   harness_cmd WORD...             send one command line, wait for its reply
#                                   line and print it; returns 1 on "error ..."
#                                   or when no reply came in $HARNESS_TIMEOUT s
#   harness_stop                    close its stdin (it SIGTERMs a running child
#                                   and prints "exited RC"), wait for it
#
#   harness_start "$BUILD/tests/bayharness"
#   harness_cmd add 1 1234 5678 ABC123 "$img"     # -> added 1 /dev/sdb1
#   harness_cmd spawn "$BUILD/dockd" --config "$cfg"   # -> spawned 4242
#   harness_cmd remove 1                           # -> removed 1
#   harness_cmd signal TERM; harness_cmd wait      # -> signalled / exited 0
#   harness_stop
#
# The words of harness_cmd are joined with single spaces; bayharness splits
# "spawn" arguments like a shell (g_shell_parse_argv), so an argument with
# blanks or quotes must be quoted inside the word:
#   harness_cmd spawn sh -c "'exec \"$BUILD/dockd\" >\"$WORK/dockd.out\"'"
#
# A spawned child inherits bayharness's stdout, which is the pipe replies come
# back on.  harness_cmd copies every line that is not the reply it waits for
# to $HARNESS_CHILD_OUT (default: stderr).  Output is only read while a
# harness_cmd runs, so a child that prints a lot must have its stdout
# redirected (as above) or it blocks once the pipe is full.
#
# Only one harness per shell (bash allows one coprocess at a time).

HARNESS_TIMEOUT=${HARNESS_TIMEOUT:-30}
HARNESS_CHILD_OUT=${HARNESS_CHILD_OUT:-/dev/stderr}
HARNESS_DIR=
HARNESS_PID=
_HARNESS_R=
_HARNESS_W=

_harness_fail() {
	echo "harness.sh: ${FUNCNAME[1]}: $*" >&2
	return 1
}

# _harness_read REGEX [TEXT]: print the first line that matches REGEX or is
# exactly TEXT; copy other lines to $HARNESS_CHILD_OUT.  Returns 1 on timeout
# or EOF.
_harness_read() {
	local re=$1 line
	while :; do
		if ! IFS= read -r -t "$HARNESS_TIMEOUT" line <&"$_HARNESS_R"; then
			return 1
		fi
		if [[ $line =~ $re ]] || { [ $# -ge 2 ] && [ "$line" = "$2" ]; }; then
			printf '%s\n' "$line"
			return 0
		fi
		printf '%s\n' "$line" >>"$HARNESS_CHILD_OUT"
	done
}

harness_start() {
	local bin=${1:-${BAYHARNESS:-}} ready
	[ -n "$bin" ] || _harness_fail "usage: harness_start PATH_TO_BAYHARNESS" || return
	[ -x "$bin" ] || _harness_fail "$bin is not executable" || return
	[ -z "$HARNESS_PID" ] || _harness_fail "already started (pid $HARNESS_PID)" || return
	coproc _HARNESS_CO { exec "$bin"; }
	HARNESS_PID=$_HARNESS_CO_PID
	# keep our own copies (bash forgets the coproc's fds as soon as it exits)
	# and close the originals, so that closing _HARNESS_W really is EOF
	exec {_HARNESS_R}<&"${_HARNESS_CO[0]}" {_HARNESS_W}>&"${_HARNESS_CO[1]}"
	eval "exec ${_HARNESS_CO[0]}<&- ${_HARNESS_CO[1]}>&-"
	ready=$(_harness_read '^ready ') || _harness_fail "$bin did not say ready" || return
	HARNESS_DIR=${ready#ready }
}

harness_cmd() {
	local line="$*" re='' text=''
	[ -n "$_HARNESS_W" ] || _harness_fail "harness not started" || return
	case $1 in
	add) re="^added $2 /dev/" ;;
	remove) re="^removed $2\$" ;;
	docktime) re="^docktime $2 [0-9]+\$" ;;
	spawn) re='^spawned [0-9]+$' ;;
	signal) re='^signalled$' ;;
	wait) re='^exited [0-9]+$' ;;
	echo) # the reply is the text itself (empty for a bare "echo")
		[ $# -lt 2 ] || text=${line#echo }
		;;
	esac
	# in a subshell: if bayharness died, SIGPIPE ends the subshell, not the test
	(printf '%s\n' "$line" >&"$_HARNESS_W") 2>/dev/null ||
		_harness_fail "bayharness is gone (writing \"$line\")" || return
	local reply
	reply=$(_harness_read "${re:+$re|}^error " "$text") ||
		_harness_fail "no reply to \"$line\" within ${HARNESS_TIMEOUT}s" || return
	printf '%s\n' "$reply"
	[[ $reply != error\ * ]]
}

# harness_stop: EOF on bayharness's stdin; print what it still says (the
# "exited RC" of a running child), return its exit status.
harness_stop() {
	local line rc=0
	[ -n "$HARNESS_PID" ] || return 0
	exec {_HARNESS_W}>&-
	while IFS= read -r -t "$HARNESS_TIMEOUT" line <&"$_HARNESS_R"; do
		if [[ $line =~ ^exited\ [0-9]+$ ]]; then
			printf '%s\n' "$line"
		else
			printf '%s\n' "$line" >>"$HARNESS_CHILD_OUT"
		fi
	done
	exec {_HARNESS_R}<&-
	wait "$HARNESS_PID" 2>/dev/null || rc=$?
	HARNESS_PID='' HARNESS_DIR='' _HARNESS_R='' _HARNESS_W=''
	return "$rc"
}
