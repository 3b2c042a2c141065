#!/bin/bash
# Retention and legal holds: a recording is due its class's period after it
# ended (6 months by default, 24 for a configured class), never while a hold
# covers it (the recording, its device, its officer or a case it belongs
# to); releasing the hold makes it due; time moving on makes the rest due.
# Holds are a custodian's, classes an admin's; both are in the audit chain.
source "$(dirname "$0")/common.sh"

cat >"$WORK/dockd.conf" <<'CONF'
[retention]
default_months = 6
class.evidence = 24
[metrics]
listen = off
CONF
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }
export DOCKD_TEST_CLOCK_FILE=$WORK/clock
echo 0 >"$DOCKD_TEST_CLOCK_FILE"

src=$WORK/src
mkdir -p "$src/DCIM"
# months ended: 1 Mar, 1 Apr, 1 May, 1 Feb (all more than 6 months ago), and 1 Nov (not)
make_clip "$src/DCIM/A.MP4" 1 2026-03-01T08:00:00Z
make_clip "$src/DCIM/B.MP4" 1 2026-04-01T08:00:00Z
make_clip "$src/DCIM/C.MP4" 1 2026-05-01T08:00:00Z
make_clip "$src/DCIM/D.MP4" 1 2026-02-01T08:00:00Z
make_clip "$src/DCIM/E.MP4" 1 2026-11-01T08:00:00Z
make_fat32 "$WORK/cam1.img" 40 "$src"
mkdir -p "$WORK/src2/DCIM"
make_clip "$WORK/src2/DCIM/F.MP4" 1 2026-01-15T08:00:00Z
make_fat32 "$WORK/cam2.img" 40 "$WORK/src2"
ingest_rc "$WORK/cam1.img" CAM-1 -c "$WORK/dockd.conf" || fail "ingest cam1 exited $?"
ingest_rc "$WORK/cam2.img" CAM-2 -c "$WORK/dockd.conf" || fail "ingest cam2 exited $?"
id() { dc recordings --json | jq --arg p "$1" '.[] | select(.device_path == $p) | .id'; }
A=$(id /DCIM/A.MP4) B=$(id /DCIM/B.MP4) C=$(id /DCIM/C.MP4) D=$(id /DCIM/D.MP4) E=$(id /DCIM/E.MP4) F=$(id /DCIM/F.MP4)
due() { dc retention due --json | jq -c 'map(.recording) | sort'; }
[ "$(due)" = "$(jq -nc "[$A,$B,$C,$D,$F] | sort")" ] || fail "due before any hold: $(due), expected A B C D F"
dc retention due --json | jq -e --argjson a "$A" '.[] | select(.recording == $a) | .due_at == "2026-09-01T08:00:01.000Z"
	and .retention_class == "default"' >/dev/null || fail "A's due date: $(dc retention due --json | jq -c '.[0]')"
pass "due 6 months after the recorded end: $(due)"

dc hold add "$B" --reason "complaint 2026-117" >/dev/null || fail "hold on a recording refused"
dc hold add --device CAM-2 --reason "device under investigation" >/dev/null || fail "hold on a device refused"
dc hold add --case CASE-9 "$C" --reason "court case 9" >/dev/null || fail "hold on a case refused"
dc retention class "$D" evidence --reason "exhibit 4" >/dev/null || fail "retention class refused"
rc=0
dc retention class "$D" nosuch --reason x 2>"$WORK/cls.err" || rc=$?
[ "$rc" = 2 ] && grep -q "retention class 'nosuch' is not configured" "$WORK/cls.err" || fail "unknown class accepted"
[ "$(due)" = "[$A]" ] || fail "due with holds on B, CAM-2, case 9 and D as evidence: $(due), expected only A"
dc hold list --json | jq -e 'length == 3 and (map(.recordings) == [1,1,1])' >/dev/null || fail "hold list: $(dc hold list --json)"
pass "a hold on the recording, its device or its case keeps it; a 24-month class keeps it"

hold_c=$(dc hold list --json | jq '.[] | select(.scope == "case") | .id')
dc hold remove "$hold_c" --reason "case closed" >/dev/null || fail "release refused"
[ "$(due)" = "$(jq -nc "[$A,$C] | sort")" ] || fail "after releasing the case hold: $(due)"
dc hold list --all --json | jq -e --argjson h "$hold_c" '.[] | select(.id == $h) | .release_reason == "case closed"
	and .released_by != null' >/dev/null || fail "released hold not recorded"
rc=0
dc hold remove "$hold_c" --reason again 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "releasing a released hold did not fail"
pass "releasing a hold (recorded with who and why) makes its recordings due"

echo $((200 * 86400)) >"$DOCKD_TEST_CLOCK_FILE"        # seven months on
[ "$(due)" = "$(jq -nc "[$A,$C,$E] | sort")" ] || fail "seven months on: $(due), expected A C E"
echo $((700 * 86400)) >"$DOCKD_TEST_CLOCK_FILE"        # two years on: D's 24 months have passed too
[ "$(due)" = "$(jq -nc "[$A,$C,$D,$E] | sort")" ] || fail "two years on: $(due)"
pass "as time passes, the rest fall due in turn; held ones never"

dc audit --json | jq -e '[.[] | select(.action | startswith("hold.") or . == "retention.class") | .action]
	== ["hold.add","hold.add","hold.add","retention.class","hold.remove"]' >/dev/null ||
	fail "holds and classes not audited: $(dc audit --json | jq -c 'map(.action)')"
pass "every hold, release and class change is in the audit chain"
