#!/bin/bash
# The service files are valid and hardened: systemd-analyze verify says
# nothing at all (it exits 0 on warnings, so any output fails), the offline
# security exposure of dockd.service and dockd-scrub.service is at most 2.0,
# and sysusers/tmpfiles create the dockd user, the role groups and its
# directories in an empty root.
source "$(dirname "$0")/common.sh"
SRC=$HERE/../..

# The units name /usr/bin/dockd and dockctl; verify them against the binaries just built.
for unit in dockd.service dockd-scrub.service; do
	sed "s|/usr/bin/dockd|$BUILD/dockd|g; s|/usr/bin/dockctl|$BUILD/dockctl|g" "$SRC/systemd/$unit" >"$WORK/$unit"
done
cp "$SRC/systemd/dockd-scrub.timer" "$WORK/"
for unit in dockd.service dockd-scrub.service; do
	out=$(cd "$WORK" && systemd-analyze verify "$WORK/$unit" 2>&1) || fail "systemd-analyze verify $unit failed: $out"
	[ -z "$out" ] || fail "systemd-analyze verify $unit complained: $out"
	systemd-analyze security --offline=yes "$WORK/$unit" >"$WORK/security.txt" 2>&1 || true
	exposure=$(grep -o "Overall exposure level for $unit: [0-9.]*" "$WORK/security.txt" | grep -o '[0-9.]*$')
	[ -n "$exposure" ] || fail "$unit: no exposure level: $(tail -3 "$WORK/security.txt")"
	systemd-analyze security --offline=yes --threshold=20 "$WORK/$unit" >/dev/null 2>&1 ||
		fail "$unit: exposure $exposure is above 2.0: $(grep '✗' "$WORK/security.txt" | head -5)"
	pass "$unit verifies cleanly; exposure $exposure (at most 2.0)"
done

# The drop-in for 行标 recorders (CAP_SYS_RAWIO) keeps the unit at most 2.0,
# and verifies; a drop-in's [Service] lines read as if appended to the unit.
mkdir -p "$WORK/rawio"
cat "$WORK/dockd.service" "$SRC/systemd/dockd-rawio.conf" >"$WORK/rawio/dockd.service"
out=$(cd "$WORK/rawio" && systemd-analyze verify "$WORK/rawio/dockd.service" 2>&1) || fail "verify with rawio.conf: $out"
[ -z "$out" ] || fail "systemd-analyze verify with rawio.conf complained: $out"
systemd-analyze security --offline=yes "$WORK/rawio/dockd.service" >"$WORK/security.txt" 2>&1 || true
grep -q "✗ CapabilityBoundingSet=~CAP_SYS_RAWIO" "$WORK/security.txt" || fail "the drop-in does not grant CAP_SYS_RAWIO"
exposure=$(grep -o "Overall exposure level for dockd.service: [0-9.]*" "$WORK/security.txt" | grep -o '[0-9.]*$')
systemd-analyze security --offline=yes --threshold=20 "$WORK/rawio/dockd.service" >/dev/null 2>&1 ||
	fail "dockd.service with rawio.conf: exposure $exposure is above 2.0"
grep -q "1.6 without it, $exposure with it" "$SRC/systemd/dockd-rawio.conf" ||
	fail "systemd/dockd-rawio.conf does not state its measured cost ($exposure)"
pass "with the 行标 drop-in (CAP_SYS_RAWIO) dockd.service verifies; exposure $exposure (at most 2.0, as the drop-in says)"

root=$WORK/root
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$SRC/systemd/sysusers.d/dockd.conf" >/dev/null 2>&1 || fail "sysusers failed"
grep -q '^dockd:x:[0-9]*:[0-9]*:.*:/var/lib/dockd:' "$root/etc/passwd" || fail "no dockd user: $(cat "$root/etc/passwd")"
for g in dockd dockd-operator dockd-custodian dockd-admin; do
	grep -q "^$g:x:" "$root/etc/group" || fail "no $g group: $(cat "$root/etc/group")"
done
systemd-tmpfiles --root="$root" --create "$SRC/systemd/tmpfiles.d/dockd.conf" || fail "tmpfiles failed"
for d in var/lib/dockd srv/dockd; do
	[ "$(stat -c %a "$root/$d")" = 750 ] || fail "$d mode $(stat -c %a "$root/$d")"
	[ "$(stat -c %u "$root/$d")" = "$(awk -F: '$1 == "dockd" { print $3 }' "$root/etc/passwd")" ] || fail "$d not owned by dockd"
done
[ "$(stat -c %a "$root/run/dockd")" = 755 ] || fail "/run/dockd (the control socket's directory) mode $(stat -c %a "$root/run/dockd")"
pass "sysusers creates dockd and the role groups; tmpfiles creates its directories 0750 owned by it, /run/dockd 0755"
