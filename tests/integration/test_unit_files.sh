#!/bin/bash
# The service files are valid and hardened: systemd-analyze verify says
# nothing at all (it exits 0 on warnings, so any output fails), the offline
# security exposure is at most 2.0, and sysusers/tmpfiles create the dockd
# user and its directories in an empty root.
source "$(dirname "$0")/common.sh"
SRC=$HERE/../..

# The unit names /usr/bin/dockd; verify it against the binary just built.
sed "s|/usr/bin/dockd|$BUILD/dockd|g" "$SRC/systemd/dockd.service" >"$WORK/dockd.service"
out=$(systemd-analyze verify "$WORK/dockd.service" 2>&1) || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify complained: $out"
systemd-analyze security --offline=yes "$WORK/dockd.service" >"$WORK/security.txt" 2>&1 || true
exposure=$(grep -o 'Overall exposure level for dockd.service: [0-9.]*' "$WORK/security.txt" | grep -o '[0-9.]*$')
[ -n "$exposure" ] || fail "no exposure level: $(tail -3 "$WORK/security.txt")"
systemd-analyze security --offline=yes --threshold=20 "$WORK/dockd.service" >/dev/null 2>&1 ||
	fail "exposure $exposure is above 2.0: $(grep '✗' "$WORK/security.txt" | head -5)"
pass "unit verifies cleanly; exposure $exposure (at most 2.0)"

root=$WORK/root
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$SRC/systemd/sysusers.d/dockd.conf" >/dev/null 2>&1 || fail "sysusers failed"
grep -q '^dockd:x:[0-9]*:[0-9]*:.*:/var/lib/dockd:' "$root/etc/passwd" || fail "no dockd user: $(cat "$root/etc/passwd")"
grep -q '^dockd:x:' "$root/etc/group" || fail "no dockd group"
systemd-tmpfiles --root="$root" --create "$SRC/systemd/tmpfiles.d/dockd.conf" || fail "tmpfiles failed"
for d in var/lib/dockd srv/dockd; do
	[ "$(stat -c %a "$root/$d")" = 750 ] || fail "$d mode $(stat -c %a "$root/$d")"
	[ "$(stat -c %u "$root/$d")" = "$(awk -F: '$1 == "dockd" { print $3 }' "$root/etc/passwd")" ] || fail "$d not owned by dockd"
done
pass "sysusers creates dockd; tmpfiles creates its directories 0750 owned by it"
