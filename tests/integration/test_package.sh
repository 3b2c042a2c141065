#!/bin/bash
# cpack -G DEB builds a package that installs, into a scratch root with
# dpkg --root, the binaries, the unit, udev rules, sysusers/tmpfiles, the
# default config (a conffile that loads as the embedded defaults) and the man
# pages; its postinst creates the dockd user and state directory there.
source "$(dirname "$0")/common.sh"

(cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) ||
	fail "cpack failed: $(tail -5 "$WORK/cpack.log")"
deb=$(ls "$WORK"/pkg/dockd_*.deb)
info=$(dpkg-deb -I "$deb")     # not piped into grep -q: under pipefail its early exit fails the pipe
grep -q "Depends:.*libtsk" <<<"$info" || fail "no library dependencies: $info"
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
: >"$root/etc/passwd"
: >"$root/etc/group"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >"$WORK/dpkg.log" 2>&1 ||
	fail "dpkg -i into a scratch root failed: $(cat "$WORK/dpkg.log")"
for f in usr/bin/dockd usr/bin/dockctl usr/libexec/dockd/dockd-probe usr/lib/systemd/system/dockd.service usr/lib/systemd/system/dockd-scrub.timer \
	usr/lib/systemd/system/dockd-scrub.service usr/lib/sysusers.d/dockd.conf \
	usr/lib/tmpfiles.d/dockd.conf usr/lib/udev/rules.d/70-dockd.rules etc/dockd/dockd.conf \
	usr/share/man/man8/dockd.8.gz usr/share/man/man8/dockctl.8.gz usr/share/man/man5/dockd.conf.5.gz; do
	[ -f "$root/$f" ] || fail "the package did not install /$f"
done
[ -x "$root/usr/bin/dockd" ] || fail "dockd is not executable"
[ -x "$root/usr/libexec/dockd/dockd-probe" ] || fail "dockd-probe is not executable"
# dockd looks for its media probe where the package puts it.
grep -q /usr/libexec/dockd "$root/usr/bin/dockd" || fail "dockd does not look for dockd-probe in /usr/libexec/dockd"
dpkg --root="$root" -s dockd | grep -q "Status: install ok installed" || fail "dpkg does not record dockd as installed"
grep -q '^/etc/dockd/dockd.conf$' "$root/var/lib/dpkg/info/dockd.conffiles" || fail "the config is not a conffile"
grep -q '^dockd:' "$root/etc/passwd" || fail "postinst did not create the dockd user in the root: $(cat "$root/etc/passwd")"
[ -d "$root/var/lib/dockd" ] || fail "postinst did not create /var/lib/dockd in the root"
"$BUILD/dockd" -c "$root/etc/dockd/dockd.conf" --state "$WORK/state" --check >"$WORK/check.log" 2>&1 ||
	fail "the shipped config does not pass dockd --check: $(cat "$WORK/check.log")"
grep -q "media probe: $BUILD/dockd-probe" "$WORK/check.log" || fail "--check does not name the media probe: $(cat "$WORK/check.log")"
# A dockd with no dockd-probe beside it or installed says so, and still runs.
if [ ! -e /usr/libexec/dockd/dockd-probe ]; then
	mkdir -p "$WORK/lonely" && cp "$BUILD/dockd" "$WORK/lonely/"
	"$WORK/lonely/dockd" -c "$root/etc/dockd/dockd.conf" --state "$WORK/state" --check >"$WORK/check2.log" 2>&1 ||
		fail "dockd --check fails without its media probe: $(cat "$WORK/check2.log")"
	grep -q "media probe /usr/libexec/dockd/dockd-probe: No such file or directory: recordings will be tagged from their names and times only" \
		"$WORK/check2.log" || fail "a missing media probe is not reported: $(cat "$WORK/check2.log")"
fi
for m in dockd.8 dockctl.8; do
	page=$(MANWIDTH=80 man -l "$root/usr/share/man/man8/$m.gz" 2>&1)
	grep -q "^NAME" <<<"$page" || fail "man page $m does not render"
done
# dockctl(8) lists every verb of the table with its role.
page=$(MANWIDTH=200 man -l "$root/usr/share/man/man8/dockctl.8.gz" 2>&1)
while IFS=$'\t' read -r name role _; do
	grep -qE "^ +$name( |$)" <<<"$page" || fail "dockctl(8) does not list the verb '$name'"
	grep -A3 -E "^ +$name( |$)" <<<"$page" | grep -q "\[$role\]" || fail "dockctl(8) does not give '$name' its role $role"
done < <("$BUILD/dockctl" help --table)
page=$(MANWIDTH=80 man -l "$root/usr/share/man/man5/dockd.conf.5.gz" 2>&1)
grep -q "^NAME" <<<"$page" || fail "dockd.conf(5) does not render"
pass "the .deb installs every file into a scratch root, the config is a conffile that passes --check, postinst made the user"
