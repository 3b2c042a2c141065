#!/bin/bash
# Custody: every change and export is an audit row (here by the offline
# field kit, whose rows say so; the roles are test_roles) chained by
# SHA-256; `dockctl audit verify` names the first row altered, deleted or
# inserted with the sqlite3 tool; the chain's head is in the manifest of
# every session.
source "$(dirname "$0")/common.sh"

cat >"$WORK/dockd.conf" <<CONF
[metrics]
listen = off
CONF
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }

dc officers add A100 --name "Alice Smith" >/dev/null
dc devices add CAM-1 >/dev/null
dc assign CAM-1 A100 --at 2026-11-24T06:00 >/dev/null || fail "check-out refused"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-24T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"
ingest_rc "$WORK/rec.img" CAM-1 -c "$WORK/dockd.conf" || fail "ingest exited $?"
dc justify 1 --reason "remote mission" >/dev/null || fail "justify refused"
dc recordings --csv >/dev/null
dc audit --json >"$WORK/audit.json"
jq -e 'map(.action) == ["officer.add","device.add","assign","session.end","justify","export","export"]
	and .[2].who == "root" and .[2].role == "field kit" and .[2].object == "device CAM-1"
	and .[2].why == "check-out to A100 at 2026-11-24T06:00:00.000Z"
	and .[3].role == "field kit" and (.[3].object | startswith("session 1 device CAM-1"))
	and .[4].why == "remote mission" and .[5].object == "recordings" and .[6].object == "audit"' "$WORK/audit.json" >/dev/null ||
	fail "audit rows: $(jq -c 'map([.id, .who, .role, .action, .object, .why])' "$WORK/audit.json")"
dc manifest show 1 | jq -e '.audit_head.id == 4' >/dev/null || fail "manifest 1 lacks the chain's head: $(dc manifest show 1 | jq -c .audit_head)"
head4=$(sqlite3 "$STATE/catalog.sqlite" "SELECT sha256 FROM audit WHERE id = 4")
dc manifest show 1 | jq -e --arg h "$head4" '.audit_head.sha256 == $h' >/dev/null || fail "manifest's audit head differs"
dc audit verify | grep -q "audit chain intact: 9 row(s)" || fail "verify: $(dc audit verify)"
# the two manifest reads and the verify itself are rows too
dc audit --json | jq -e 'map(.action)[7:10] == ["read","read","read"] and .[7].object == "manifest show"
	and .[7].why == "show 1" and .[9].object == "audit verify" and .[7].who == "root"' >/dev/null ||
	fail "reads are not in the chain: $(dc audit --json | jq -c '.[7:] | map([.action, .object, .why])')"
pass "every change, export and read is an audit row with who, role, what, object and why; the manifest carries the head"

# Tampering with the sqlite3 tool, each from the same good copy.
sqlite3 "$STATE/catalog.sqlite" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$STATE/catalog.sqlite" "$WORK/good.sqlite"
tamper() {
	cp "$WORK/good.sqlite" "$STATE/catalog.sqlite"
	rm -f "$STATE/catalog.sqlite-wal" "$STATE/catalog.sqlite-shm"
	sqlite3 "$STATE/catalog.sqlite" "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete; $1"
	rc=0
	dc audit verify >"$WORK/verify.out" || rc=$?
	[ "$rc" = 1 ] && grep -q "$2" "$WORK/verify.out" || fail "tampering ($1) not named as '$2' (rc $rc): $(cat "$WORK/verify.out")"
}
tamper "UPDATE audit SET why = 'nothing happened' WHERE id = 3" "audit row 3 was altered"
tamper "DELETE FROM audit WHERE id = 2" "audit row 3: row(s) 2 to 2 were deleted"
last=$(sqlite3 "$WORK/good.sqlite" "SELECT MAX(id) FROM audit")
tamper "INSERT INTO audit (id, at, who, role, action, object, why, prev_sha256, sha256)
	VALUES ($((last + 1)), '2026-11-26T00:00:00.000Z', 'mallory', 'admin', 'destroy', 'recording 1', NULL, 'aa', 'bb')" \
	"audit row $((last + 1)) was inserted: it does not link to row $last"
cp "$WORK/good.sqlite" "$STATE/catalog.sqlite"
rm -f "$STATE/catalog.sqlite-wal" "$STATE/catalog.sqlite-shm"
rc=0
sqlite3 "$STATE/catalog.sqlite" "UPDATE audit SET why = 'x' WHERE id = 1" 2>"$WORK/trig.err" || rc=$?
[ "$rc" != 0 ] && grep -q "append-only" "$WORK/trig.err" || fail "the audit table took an UPDATE"
pass "audit verify names the first row altered, deleted or inserted with sqlite3; the table refuses plain updates"

