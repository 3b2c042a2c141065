#!/bin/bash
# Custody: roles from Unix groups gate every command (an operator reads, a
# custodian changes the ledger, an admin reads the audit chain), on dockctl
# and on dockd's control socket; every change and export is an audit row
# chained by SHA-256; `dockctl audit verify` names the first row altered,
# deleted or inserted with the sqlite3 tool; the chain's head is in the
# manifest of every session.
source "$(dirname "$0")/common.sh"

tag=dt$$
op=${tag}op cust=${tag}cu none=${tag}no
groupadd "$op" && groupadd "$cust"
useradd -M -N -g "$op" "${op}u" && useradd -M -N -g "$cust" "${cust}u" && useradd -M -N -g "$op" "$none"
gpasswd -d "$none" "$op" >/dev/null 2>&1 || true
groupadd "${tag}nn" && usermod -g "${tag}nn" "$none"
at_exit "userdel '${op}u'; userdel '${cust}u'; userdel '$none'; groupdel '$op'; groupdel '$cust'; groupdel '${tag}nn'"
cat >"$WORK/dockd.conf" <<CONF
[roles]
operator_group = $op
custodian_group = $cust
admin_group = ${tag}ad
[metrics]
listen = off
CONF
dc() { dockctl -c "$WORK/dockd.conf" "$@"; }
as() { local u=$1; shift; runuser -u "$u" -- "$BUILD/dockctl" --state "$STATE" -c "$WORK/dockd.conf" "$@"; }

dc officers add A100 --name "Alice Smith" >/dev/null
dc devices add CAM-1 >/dev/null
chmod -R a+rwX "$WORK"

rc=0
as "${op}u" assign CAM-1 A100 2>"$WORK/deny.err" || rc=$?
[ "$rc" = 4 ] && grep -q "dockctl assign: needs the custodian role (group $cust); ${op}u has operator" "$WORK/deny.err" ||
	fail "an operator changed the ledger, or was refused unclearly (rc $rc): $(cat "$WORK/deny.err")"
as "${op}u" officers >/dev/null || fail "an operator cannot read the ledger"
rc=0
as "$none" officers 2>"$WORK/none.err" >/dev/null || rc=$?
[ "$rc" = 4 ] && grep -q "needs the operator role (group $op); $none has none" "$WORK/none.err" ||
	fail "a user with no role read the ledger (rc $rc): $(cat "$WORK/none.err")"
as "${cust}u" assign CAM-1 A100 --at 2026-11-24T06:00 >/dev/null || fail "a custodian cannot check out"
rc=0
as "${cust}u" audit 2>/dev/null >/dev/null || rc=$?
[ "$rc" = 4 ] || fail "a custodian read the audit chain"
pass "roles: an operator reads, a custodian changes the ledger, only an admin reads the audit chain; refusals name role and group"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-24T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"
ingest_rc "$WORK/rec.img" CAM-1 -c "$WORK/dockd.conf" || fail "ingest exited $?"
as "${cust}u" justify 1 --reason "remote mission" >/dev/null || fail "custodian justify refused"
dc recordings --csv >/dev/null
dc audit --json >"$WORK/audit.json"
jq -e --arg c "${cust}u" 'map(.action) == ["officer.add","device.add","assign","session.end","justify","export","export"]
	and .[2].who == $c and .[2].role == "custodian" and .[2].object == "device CAM-1"
	and .[2].why == "check-out to A100 at 2026-11-24T06:00:00.000Z"
	and .[3].role == "admin" and (.[3].object | startswith("session 1 device CAM-1"))
	and .[4].why == "remote mission" and .[5].object == "recordings" and .[6].object == "audit"' "$WORK/audit.json" >/dev/null ||
	fail "audit rows: $(jq -c 'map([.id, .who, .role, .action, .object, .why])' "$WORK/audit.json")"
dc manifest show 1 | jq -e '.audit_head.id == 4' >/dev/null || fail "manifest 1 lacks the chain's head: $(dc manifest show 1 | jq -c .audit_head)"
head4=$(sqlite3 "$STATE/catalog.sqlite" "SELECT sha256 FROM audit WHERE id = 4")
dc manifest show 1 | jq -e --arg h "$head4" '.audit_head.sha256 == $h' >/dev/null || fail "manifest's audit head differs"
dc audit verify | grep -q "audit chain intact: 7 row(s)" || fail "verify: $(dc audit verify)"
pass "every change and export is an audit row with who, role, what, object and why; the manifest carries the head"

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
tamper "INSERT INTO audit (id, at, who, role, action, object, why, prev_sha256, sha256)
	VALUES (8, '2026-11-26T00:00:00.000Z', 'mallory', 'admin', 'destroy', 'recording 1', NULL, 'aa', 'bb')" \
	"audit row 8 was inserted: it does not link to row 7"
cp "$WORK/good.sqlite" "$STATE/catalog.sqlite"
rm -f "$STATE/catalog.sqlite-wal" "$STATE/catalog.sqlite-shm"
rc=0
sqlite3 "$STATE/catalog.sqlite" "UPDATE audit SET why = 'x' WHERE id = 1" 2>"$WORK/trig.err" || rc=$?
[ "$rc" != 0 ] && grep -q "append-only" "$WORK/trig.err" || fail "the audit table took an UPDATE"
pass "audit verify names the first row altered, deleted or inserted with sqlite3; the table refuses plain updates"

# dockd's control socket checks the peer's credentials itself.
chmod -R a+rwX "$WORK"
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" >>"$WORK/dockd.log" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -S "$STATE/dockd.sock" ] && break; sleep 0.1; done
chmod a+rw "$STATE/dockd.sock"
ask() { runuser -u "$1" -- python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"status\n"); print(s.makefile().read())' "$STATE/dockd.sock"; }
ask "$none" | grep -q "status needs the operator role (group $op)" || fail "dockd answered status to a user with no role"
ask "${op}u" | jq -e '.bays == []' >/dev/null || fail "dockd refused an operator: $(ask "${op}u")"
pass "dockd's control socket answers an operator and refuses a user without a role (SO_PEERCRED)"
