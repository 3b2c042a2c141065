#!/bin/bash
# dockd owns the evidence (issue #13). dockd runs as the unit runs it (user
# dockd, umask 0027, a state directory of 0750), with no chmod of anything
# it made; real users in real groups run dockctl:
# - for every verb in dockctl's table, a user one role below is refused
#   with the role and group named, and a user of the role is not;
# - the caller's own -c file (naming their group admin) changes nothing;
# - the audit chain records the real caller and role;
# - the custodian verbs that once crashed work, as a custodian;
# - dockd reads an image only through the caller's own descriptor, and a
#   damaged or hostile one (lost clusters, a FIFO) is never called complete;
# - no evidence file is readable by the role users, and with dockd stopped
#   dockctl will not open dockd's state as a field kit.
source "$(dirname "$0")/common.sh"

tag=r$$
op=${tag}op cu=${tag}cu ad=${tag}ad
uo=${tag}o uc=${tag}c ua=${tag}a ub=${tag}b un=${tag}n
for g in "$op" "$cu" "$ad" "${tag}nn"; do groupadd "$g"; done
useradd -M -N -g "$op" "$uo"
useradd -M -N -g "$cu" "$uc"
useradd -M -N -g "$ad" "$ua"
useradd -M -N -g "$ad" "$ub"
useradd -M -N -g "${tag}nn" "$un"
at_exit "for u in $uo $uc $ua $ub $un; do userdel \$u; done; for g in $op $cu $ad ${tag}nn; do groupdel \$g; done"
if ! id dockd >/dev/null 2>&1; then
	useradd --system -M -U -s /usr/sbin/nologin dockd
	at_exit "userdel dockd; groupdel dockd 2>/dev/null"
fi

# The scratch directory stands in for / : traversable, like /var/lib and /run.
chmod 0755 "$WORK"
install -d -o dockd -g dockd -m 0755 "$WORK/run"
install -d -o dockd -g dockd -m 0750 "$STATE"
cat >"$WORK/dockd.conf" <<CONF
[station]
socket = $WORK/run/dockd.sock
[roles]
operator_group = $op
custodian_group = $cu
admin_group = $ad
[metrics]
listen = off
CONF
chmod 0644 "$WORK/dockd.conf"
runuser -u dockd -- sh -c "umask 0027; exec '$BUILD/dockd' -c '$WORK/dockd.conf' --state '$STATE'" >"$WORK/dockd.log" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null; wait $dpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -S "$WORK/run/dockd.sock" ] && break; sleep 0.1; done
[ -S "$WORK/run/dockd.sock" ] || fail "dockd did not come up: $(tail -5 "$WORK/dockd.log")"
as() {
	local u=$1
	shift
	runuser -u "$u" -- "$BUILD/dockctl" -c "$WORK/dockd.conf" "$@"
}

# An image only root may read: dockd (user dockd) cannot, and the custodian
# cannot either; dockd never opens a caller's file by its name.
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-24T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"
chmod 0600 "$WORK/rec.img"
rc=0
as "$uc" ingest --image "$WORK/rec.img" --serial CAM-1 >/dev/null 2>"$WORK/noread.err" || rc=$?
[ "$rc" = 1 ] && grep -q "rec.img: cannot open: Permission denied" "$WORK/noread.err" ||
	fail "an image the custodian cannot read was ingested, or refused unclearly (rc $rc): $(cat "$WORK/noread.err")"
chown "$uc" "$WORK/rec.img"
as "$uc" officers add A100 --name "Alice Smith" >/dev/null || fail "a custodian cannot add an officer"
as "$uc" ingest --image "$WORK/rec.img" --serial CAM-1 --json >"$WORK/ingest.json" 2>"$WORK/ingest.err" ||
	fail "a custodian's ingest failed: $(cat "$WORK/ingest.err")"
jq -e '.state == "complete" and .files_copied == 1' "$WORK/ingest.json" >/dev/null || fail "ingest: $(cat "$WORK/ingest.json")"
pass "dockd ingests through the custodian's own descriptor of the image, and not an image the custodian cannot read"

# Damaged and hostile input through dockd, by the custodian's descriptors: a
# recorder with lost clusters is never called complete, its session names
# why; a FIFO given as the image is refused at once; and the recording it
# could read still has both copies.
cp "$WORK/rec.img" "$WORK/lost.img"
python3 "$HERE/../lib/fatedit.py" "$WORK/lost.img" lost-chain 3 >/dev/null
chown "$uc" "$WORK/lost.img"
rc=0
as "$uc" ingest --image "$WORK/lost.img" --serial CAM-L --json >"$WORK/lost.json" 2>"$WORK/lost.err" || rc=$?
[ "$rc" = 3 ] && jq -e '.state == "incomplete" and .unread >= 1 and .unaccounted_bytes > 0 and (.unread_first | test("belong to no file"))' \
	"$WORK/lost.json" >/dev/null || fail "a damaged recorder through dockd: rc $rc, $(cat "$WORK/lost.json") $(cat "$WORK/lost.err")"
as "$uc" sessions --device CAM-L --json | jq -e '.[-1].state == "incomplete" and (.[-1].unread | length) >= 1' >/dev/null ||
	fail "the damaged recorder's session does not say it is incomplete: $(as "$uc" sessions --device CAM-L --json)"
as "$uc" recordings --device CAM-L --json | jq -e 'length == 1 and (.[0].copies | length) == 2' >/dev/null ||
	fail "the readable recording of the damaged recorder lacks its copies"
mkfifo "$WORK/fifo"
chown "$uc" "$WORK/fifo"
rc=0
timeout 20 runuser -u "$uc" -- "$BUILD/dockctl" -c "$WORK/dockd.conf" ingest --image "$WORK/fifo" --serial CAM-F \
	>/dev/null 2>"$WORK/fifo.err" || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "not a block device or image file" "$WORK/fifo.err" ||
	fail "a FIFO given to dockd as the image: rc $rc: $(cat "$WORK/fifo.err")"
pass "through dockd: a recorder with lost clusters is incomplete and says why, a FIFO is refused at once"

# The verbs that crashed on a catalog they could not open, as a custodian.
as "$uc" devices add CAM-2 --model X1 >/dev/null || fail "devices add"
as "$uc" assign CAM-1 A100 --at 2026-11-24T06:00 >/dev/null || fail "assign"
as "$uc" justify 1 --reason "remote mission" >/dev/null || fail "justify"
as "$uc" reattribute 1 A100 --reason "badge typo" >/dev/null || fail "reattribute"
as "$uc" unassign CAM-1 --at 2026-11-24T20:00 >/dev/null || fail "unassign"
pass "assign, unassign, devices add, justify and reattribute work for a custodian"

# Every verb of the table: one role below is refused, the role is not.
declare -A ARGS=(
	["manifest show"]="1" ["officers add"]="B200 --name Bob" ["officers import"]="$WORK/officers.csv"
	["devices add"]="CAM-3" ["device"]="CAM-1" ["device --status"]="CAM-1 --status repair"
	["assign"]="CAM-2 A100" ["unassign"]="CAM-2" ["justify"]="1 --reason r" ["reattribute"]="1 A100 --reason r"
	["hold add"]="1 --reason case" ["hold remove"]="1 --reason closed" ["retention class"]="1 long --reason r"
	["destroy request"]="1 --reason r" ["destroy approve"]="99" ["catalog accept-new"]="--reason r"
	["ingest"]="--image $WORK/rec.img --serial CAM-1"
)
printf 'badge,name,unit\nC300,Carol,East\n' >"$WORK/officers.csv"
chmod 0644 "$WORK/officers.csv" "$WORK/rec.img"
declare -A USER_OF=([operator]=$uo [custodian]=$uc [admin]=$ua)
declare -A BELOW=([operator]=$un [custodian]=$uo [admin]=$uc)
declare -A ROLE_BELOW=([operator]=none [custodian]=operator [admin]=custodian)
declare -A GROUP_OF=([operator]=$op [custodian]=$cu [admin]=$ad)
n=0
while IFS=$'\t' read -r name role _; do
	words=$name
	[ "$name" = "device --status" ] && words=device
	# shellcheck disable=SC2086 # the arguments are words
	set -- $words ${ARGS[$name]:-}
	[ "$name" = "device --status" ] && set -- device CAM-1 --status repair
	rc=0
	as "${BELOW[$role]}" "$@" >/dev/null 2>"$WORK/deny.err" </dev/null || rc=$?
	grep -q "needs the $role role (group ${GROUP_OF[$role]}); ${BELOW[$role]} has ${ROLE_BELOW[$role]}" "$WORK/deny.err" &&
		[ "$rc" = 4 ] || fail "'$name' ran for a user with role ${ROLE_BELOW[$role]} (it needs $role), or was refused unclearly (rc $rc): $(cat "$WORK/deny.err")"
	rc=0
	timeout 60 runuser -u "${USER_OF[$role]}" -- "$BUILD/dockctl" -c "$WORK/dockd.conf" "$@" >/dev/null 2>"$WORK/may.err" </dev/null || rc=$?
	[ "$rc" != 4 ] && ! grep -q "needs the" "$WORK/may.err" ||
		fail "'$name' was refused to a user with the $role role (rc $rc): $(cat "$WORK/may.err")"
	n=$((n + 1))
done < <("$BUILD/dockctl" help --table)
[ "$n" -ge 30 ] || fail "the verb table lists only $n verbs"
pass "all $n verbs of the table: refused one role below with role and group named, allowed with the role"

# The caller's own config, naming their group admin, changes nothing.
sed "s/^admin_group = .*/admin_group = $op/" "$WORK/dockd.conf" >"$WORK/mine.conf"
chmod 0644 "$WORK/mine.conf"
rc=0
runuser -u "$uo" -- "$BUILD/dockctl" -c "$WORK/mine.conf" audit >/dev/null 2>"$WORK/own.err" || rc=$?
[ "$rc" = 4 ] && grep -q "needs the admin role (group $ad); $uo has operator" "$WORK/own.err" ||
	fail "an operator's own -c file made them admin (rc $rc): $(cat "$WORK/own.err")"
DOCKD_ROLE=admin runuser -u "$uo" -- "$BUILD/dockctl" -c "$WORK/mine.conf" hold add 1 --reason x >/dev/null 2>&1 &&
	fail "an operator placed a hold"
pass "a caller's own -c file and environment change nothing about what they may do"

# The audit chain names the real callers.
as "$uo" recordings --csv >/dev/null
as "$ua" audit --json >"$WORK/audit.json"
jq -e --arg c "$uc" --arg o "$uo" '
	(map(select(.action == "assign"))[0] | .who == $c and .role == "custodian")
	and (map(select(.action == "session.end"))[0] | .who == $c and .role == "custodian")
	and (map(select(.action == "export" and .object == "recordings")) | any(.who == $o and .role == "operator"))
	and (map(select(.action == "read" and .object == "assignments")) | any(.who == $o and .role == "operator"))
	and (map(select(.who == $o and (.action | IN("export", "read") | not))) | length == 0)' "$WORK/audit.json" >/dev/null ||
	fail "the audit chain does not name the real callers: $(jq -c 'map([.who, .role, .action, .object])' "$WORK/audit.json")"
as "$ua" audit verify >/dev/null || fail "the chain does not verify: $(as "$ua" audit verify 2>&1)"
pass "every change, ingest, export and read is in the audit chain with the real caller and role; the operator changed nothing"

# Evidence files: none readable by the role users.
for u in "$uo" "$uc" "$ua"; do
	for f in catalog.sqlite station.key targets; do
		runuser -u "$u" -- ls "$STATE/$f" >/dev/null 2>&1 && fail "$u can reach $STATE/$f"
	done
done
kill "$dpid"
wait "$dpid" 2>/dev/null || true
rc=0
as "$uc" --state "$STATE" officers >/dev/null 2>"$WORK/kit.err" || rc=$?
[ "$rc" = 5 ] || fail "with dockd stopped, a custodian read dockd's state directly (rc $rc): $(cat "$WORK/kit.err")"
rc=0
as "$uc" officers >/dev/null 2>"$WORK/down.err" || rc=$?
[ "$rc" = 5 ] && grep -q "cannot reach dockd at $WORK/run/dockd.sock" "$WORK/down.err" ||
	fail "dockd down: not said clearly (rc $rc): $(cat "$WORK/down.err")"
pass "the catalog, key and copies are dockd's alone; with dockd stopped, dockctl says so and opens nothing"
