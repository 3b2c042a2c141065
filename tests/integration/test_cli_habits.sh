#!/bin/bash
# Everyday habits (issue #13): --version on both binaries; `dockctl VERB
# --help` for every verb of the table prints that verb's usage and exits 0;
# `dockctl alarms` exits 3 while an alarm is active and 0 when none is, so a
# monitor can use it (an officer name that is not UTF-8 keeps `officers
# --json` valid JSON, a Chinese one stays aligned in the text table);
# dockd.conf(5) names every key the parser knows; SIGHUP
# leaves dockd running and says why; alarms and key events reach the journal
# (sd_journal_sendv) with a MESSAGE_ID that systemd/dockd.catalog explains; Ctrl-C on an ingest that dockd runs
# says that the work stops, and it stops at a safe point and resumes.
source "$(dirname "$0")/common.sh"
SRC=$HERE/../..

v=$("$BUILD/dockd" --version) && [[ $v =~ ^dockd\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "dockd --version: '$v'"
v=$("$BUILD/dockctl" --version) && [[ $v =~ ^dockctl\ [0-9.]+\ \(control\ protocol\ 1\)$ ]] || fail "dockctl --version: '$v'"
n=0
while IFS=$'\t' read -r name _ args; do
	first=${name%% *}
	out=$("$BUILD/dockctl" "$first" --help) || fail "dockctl $first --help exited $?"
	grep -qF "  $name" <<<"$out" || fail "dockctl $first --help does not show '$name': $out"
	if [ "$name" != "$first" ] && [[ $name != *--* ]]; then
		# shellcheck disable=SC2086
		out=$("$BUILD/dockctl" $name --help) || fail "dockctl $name --help exited $?"
	fi
	n=$((n + 1))
done < <("$BUILD/dockctl" help --table)
# bash completion, made from the same table: verbs, subverbs, options
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dockctl; echo "${COMPREPLY[*]}"' _ \
		"$BUILD/dockctl.bash-completion" "$@"
}
[ "$(complete_words dockctl ho)" = hold ] || fail "completion of 'dockctl ho': $(complete_words dockctl ho)"
[ "$(complete_words dockctl hold '')" = "--help add --officer --device --case --reason remove --reason list --all --json --csv" ] ||
	fail "completion of 'dockctl hold ': $(complete_words dockctl hold '')"
[ "$(complete_words dockctl --state /tmp ingest --im)" = --image ] || fail "completion after --state: $(complete_words dockctl --state /tmp ingest --im)"
rc=0
"$BUILD/dockctl" frobnicate >/dev/null 2>"$WORK/unk.err" || rc=$?
[ "$rc" = 2 ] && grep -q "unknown verb 'frobnicate'" "$WORK/unk.err" || fail "an unknown verb: rc $rc: $(cat "$WORK/unk.err")"
pass "--version on dockd and dockctl; --help on all $n verbs exits 0 with its usage; bash completion from the table; an unknown verb exits 2"

# Every key the parser knows (its own "known:" lists) is in dockd.conf(5).
page=$(MANWIDTH=200 man -l "$SRC/man/dockd.conf.5" 2>/dev/null)
for s in station target.x ingest archive recorders metrics roles alarms retention policy; do
	printf '[%s]\nno_such_key = 1\n' "$s" >"$WORK/bad.conf"
	known=$({ "$BUILD/dockd" -c "$WORK/bad.conf" --check 2>&1 || true; } | sed -n 's/.*(known: \(.*\))$/\1/p')
	[ -n "$known" ] || fail "[$s]: the parser lists no known keys"
	for k in ${known//,/ }; do
		k=${k%.NAME}
		grep -qE "(^|[^a-z_])$k([^a-z_]|$)" <<<"$page" || fail "dockd.conf(5) does not name [$s] $k"
	done
done
pass "dockd.conf(5) names every key of every section the parser knows"

# alarms: 0 with none; 3 while one is active (a target gone).
cat >"$WORK/dockd.conf" <<CONF
[target.a]
path = $WORK/ta
[target.b]
path = $WORK/tb
[station]
allow_same_filesystem = yes
[metrics]
listen = off
CONF
mkdir -p "$WORK/ta" "$WORK/tb"
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-24T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"
ingest_rc "$WORK/rec.img" CAM-1 -c "$WORK/dockd.conf" || fail "ingest exited $?: $(cat "$WORK/last.err")"
dc officers add A1 --name A >/dev/null
# an officer whose name arrived in GBK, not UTF-8: the JSON listing stays JSON
printf 'badge,name,unit\nG1,\xd5\xc5\xc8\xfd,East\n' >"$WORK/gbk.csv"
dc officers import "$WORK/gbk.csv" >/dev/null 2>&1 || true
dc officers --json | jq -e 'any(.[]; .badge == "G1" and .name == "\\xD5\\xC5\\xC8\\xFD")' >/dev/null ||
	fail "an officer name that is not UTF-8 broke the JSON listing: $(dc officers --json | head -c 300)"
# text tables align by display width: a Chinese name takes two columns a character
dc officers add Z9 --name "张三丰" --unit "东区" >/dev/null
table=$(dc officers)
col() { python3 -c 'import sys, unicodedata
for line in sys.stdin.read().splitlines():
    if sys.argv[1] in line:
        i = line.index(sys.argv[2]); print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[:i]))' "$1" "$2"; }
[ "$(col A1 2026- <<<"$table")" = "$(col Z9 2026- <<<"$table")" ] && [ -n "$(col Z9 2026- <<<"$table")" ] ||
	fail "the CREATED AT column is not aligned by display width after a Chinese name:
$table"
dc reattribute 1 A1 --reason "known" >/dev/null
rc=0
dc alarms >"$WORK/al.out" || rc=$?
[ "$rc" = 0 ] && grep -q "no alarms" "$WORK/al.out" || fail "alarms with none active: rc $rc: $(cat "$WORK/al.out")"
mv "$WORK/tb" "$WORK/tb.gone"
rc=0
dc alarms >"$WORK/al.out" || rc=$?
[ "$rc" = 3 ] && grep -q "target-unavailable:b" "$WORK/al.out" || fail "alarms with target b gone: rc $rc: $(cat "$WORK/al.out")"
mv "$WORK/tb.gone" "$WORK/tb"
pass "dockctl alarms exits 0 with no alarm and 3 while one is active"

# SIGHUP: dockd keeps running, and says the config is read at start.
cat >"$WORK/dockd.conf" <<CONF
[station]
allow_same_filesystem = yes
socket = $WORK/dockd.sock
[target.a]
path = $WORK/ta
[target.b]
path = $WORK/tb
[metrics]
listen = off
CONF
mkdir -p "$WORK/journal"
journal_listen "$WORK/journal/socket" "$WORK/journal.jsonl"
# a field kit still reading the state as dockd starts: dockd waits for it,
# and starts once the kit lets go (the kit holds on until $WORK/hold goes)
touch "$WORK/hold"
flock -s "$STATE/dockd.lock" sh -c "while [ -e '$WORK/hold' ]; do sleep 0.05; done" &
for ((i = 0; i < 100; i++)); do flock -n -x "$STATE/dockd.lock" true 2>/dev/null || break; sleep 0.05; done
in_journal "$WORK/journal" "$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" >"$WORK/dockd.log" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null; wait $dpid 2>/dev/null"
journal_has 'any(.[]; .MESSAGE | test("is in use \\(a dockctl field kit\\?\\); waiting for it"))' "$WORK/journal.jsonl" ||
	fail "dockd did not wait for a field kit holding its state: $(tail -3 "$WORK/journal.jsonl")"
[ ! -S "$WORK/dockd.sock" ] || fail "dockd answered while a field kit held its state"
rm "$WORK/hold"
for ((i = 0; i < 100; i++)); do [ -S "$WORK/dockd.sock" ] && break; sleep 0.1; done
[ -S "$WORK/dockd.sock" ] || fail "dockd did not start once the field kit let go: $(tail -3 "$WORK/dockd.log")"
kill -HUP "$dpid"
journal_has 'any(.[]; .MESSAGE | test("SIGHUP ignored: dockd reads its configuration at start only"))' "$WORK/journal.jsonl" ||
	fail "SIGHUP not explained: $(tail -3 "$WORK/journal.jsonl")"
kill -0 "$dpid" 2>/dev/null || fail "SIGHUP killed dockd: $(tail -3 "$WORK/dockd.log")"
dc officers >/dev/null || fail "dockd does not answer after SIGHUP"
pass "dockd waits for a field kit still reading its state; SIGHUP leaves dockd running and the journal says to restart it to apply a change"

# Alarms and key events in the journal: a MESSAGE_ID from systemd/dockd.catalog, and DOCKD_ALARM.
has() { jq -e -s "any(.[]; $1)" "$WORK/journal.jsonl" >/dev/null; }
for id in $(sed -n 's/^-- //p' "$SRC/systemd/dockd.catalog"); do ids+=" $id"; done
mv "$WORK/tb" "$WORK/tb.gone"
journal_has 'any(.[]; .DOCKD_ALARM == "target-unavailable:b")' "$WORK/journal.jsonl" 15 || true
mv "$WORK/tb.gone" "$WORK/tb"
journal_has 'any(.[]; .MESSAGE_ID == "5abf2a323f384026b6605186b7dd85f3")' "$WORK/journal.jsonl" 15 || true
has '.MESSAGE_ID == "787468ebe5a34dea941d292aed73b46a" and .DOCKD_ALARM == "target-unavailable:b" and .PRIORITY == "3"' ||
	fail "no alarm in the journal with its MESSAGE_ID and DOCKD_ALARM: $(grep -i alarm "$WORK/journal.jsonl" | tail -3)"
has '.MESSAGE_ID == "5abf2a323f384026b6605186b7dd85f3" and .DOCKD_ALARM == "target-unavailable:b"' ||
	fail "the alarm's clearing is not in the journal: $(tail -3 "$WORK/journal.jsonl")"
has '.MESSAGE_ID == "8ece063d46214a4193ba427c8ced7aa5"' || fail "no 'ready' event in the journal"
has '.MESSAGE_ID == "38755fcf0d394b539ce605738ec6d639" and (.MESSAGE | test("officers. by root .uid 0.: exit 0"))' ||
	fail "no request event in the journal: $(grep control "$WORK/journal.jsonl" | tail -2)"
for id in $(jq -r -s 'map(.MESSAGE_ID // empty) | unique | .[]' "$WORK/journal.jsonl"); do
	[[ $ids == *"$id"* ]] || fail "MESSAGE_ID $id is not in systemd/dockd.catalog"
done
mkdir -p "$WORK/cat/usr/lib/systemd/catalog" && cp "$SRC/systemd/dockd.catalog" "$WORK/cat/usr/lib/systemd/catalog/"
journalctl --root="$WORK/cat" --update-catalog && [ "$(journalctl --root="$WORK/cat" --list-catalog | grep -c .)" = 8 ] ||
	fail "journalctl does not read systemd/dockd.catalog: $(journalctl --root="$WORK/cat" --list-catalog 2>&1)"
pass "alarms, their clearing, readiness and requests reach the journal with a catalogued MESSAGE_ID (and DOCKD_ALARM)"

# On a 70-column terminal, through dockd: each progress line fits, keeps the
# end of the file's name, and a warning (random bytes are unplayable footage)
# never lands on a progress line.
mkdir -p "$WORK/long/DCIM/a directory with a rather long name"
for i in 1 2; do
	head -c $((3 << 20)) /dev/urandom >"$WORK/long/DCIM/a directory with a rather long name/recording number 000$i.MP4"
done
make_fat32 "$WORK/long.img" 40 "$WORK/long"
script -qec "stty cols 70; '$BUILD/dockctl' -c '$WORK/dockd.conf' --state '$STATE' ingest --image '$WORK/long.img' --serial LONG" \
	"$WORK/narrow.log" >/dev/null
python3 - "$WORK/narrow.log" <<'PY' || fail "the progress lines on a 70-column terminal: $(tr '\r' '\n' <"$WORK/narrow.log" | tail -5)"
import re, sys, unicodedata
raw = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read()
lines = [seg for seg in re.split(r"\r\x1b\[K|\r|\n", raw)]
progress = [l for l in lines if l.startswith("[") and "files]" in l]
assert progress, "no progress line"
width = lambda s: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
assert all(width(l) <= 70 for l in progress), [l for l in progress if width(l) > 70]
# the file's own name, its start cut to fit
assert any(l.endswith("number 0001.MP4") and "…" in l for l in progress), progress
# a warning always begins its own line: never after progress text
for m in re.finditer(r"dockctl: [^\r\n]*unplayable", raw):
    before = raw[:m.start()]
    assert before.endswith("\r\x1b[K") or before.endswith("\n"), repr(before[-80:])
PY
pass "progress on a 70-column terminal: every line fits, keeps the file's name, and no warning lands on it"

# Ctrl-C on an ingest dockd runs: dockctl says it stops; it stops at a safe
# point; the next ingest resumes and completes.
head -c $((160 << 20)) /dev/urandom >"$src/DCIM/BIG0002.MP4"
make_fat32 "$WORK/big.img" 400 "$src"
"$BUILD/dockctl" -c "$WORK/dockd.conf" --state "$STATE" ingest --image "$WORK/big.img" --serial CAM-2 --json \
	>"$WORK/int.json" 2>"$WORK/int.err" &
cpid=$!
for ((i = 0; i < 200; i++)); do
	[ -n "$(find "$WORK/ta" -name '*.part*' -o -name '.dockd-tmp*' 2>/dev/null | head -1)" ] && break
	grep -q "control: 'ingest'" "$WORK/dockd.log" && break
	sleep 0.05
done
sleep 0.5
kill -INT "$cpid"
rc=0
wait "$cpid" || rc=$?
grep -q "asking dockd to stop 'ingest' at its next safe point; what is verified stays recorded" "$WORK/int.err" ||
	fail "Ctrl-C did not say what happens to the work: $(cat "$WORK/int.err")"
[ "$rc" = 3 ] && jq -e '.state == "interrupted"' "$WORK/int.json" >/dev/null ||
	fail "the interrupted ingest: rc $rc, $(cat "$WORK/int.json") $(cat "$WORK/int.err")"
"$BUILD/dockctl" -c "$WORK/dockd.conf" --state "$STATE" ingest --image "$WORK/big.img" --serial CAM-2 --json >"$WORK/res.json" ||
	fail "the ingest after Ctrl-C failed: $(cat "$WORK/res.json")"
jq -e '.state == "complete"' "$WORK/res.json" >/dev/null || fail "after Ctrl-C: $(cat "$WORK/res.json")"
pass "Ctrl-C on an ingest in dockd: dockctl says it stops; interrupted at a safe point; the next ingest completes"
