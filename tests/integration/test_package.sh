#!/bin/bash
# scripts/package builds the release .deb (Debian's hardening flags,
# stripped, shlibdeps) and lintian passes it with no error and no
# unjustified warning; it installs, into a scratch root with dpkg --root, the
# binaries, the units, udev rules, sysusers/tmpfiles, the default config (a
# conffile that passes --check and warns of one disk), copyright, changelog
# and gzipped man pages that list every verb with its role; every file is
# root's and none is writable by others; the maintainer scripts create the
# dockd user, the role groups, the state (0750 dockd) and the socket's
# directory, enable the scrub timer but not dockd, say that the targets are
# not configured, and on remove and purge disable the units and keep the
# evidence.
source "$(dirname "$0")/common.sh"

REPO=$(cd "$HERE/../.." && pwd)
"$REPO/scripts/package" "$REPO/build-pkg" >"$WORK/package.out" 2>"$WORK/package.err" ||
	fail "scripts/package (build or lintian) failed: $(tail -20 "$WORK/package.err")"
deb=$(tail -1 "$WORK/package.out")
info=$(dpkg-deb -I "$deb")     # not piped into grep -q: under pipefail its early exit fails the pipe
grep -q "Depends:.*libtsk" <<<"$info" || fail "no library dependencies: $info"
grep -q "Depends:.*init-system-helpers" <<<"$info" || fail "deb-systemd-helper is not a dependency: $info"
x=$WORK/x
dpkg-deb -x "$deb" "$x"
for b in usr/bin/dockd usr/bin/dockctl usr/libexec/dockd/dockd-probe usr/libexec/dockd/dockd-pdf; do
	hdr=$(readelf -hW "$x/$b") dyn=$(readelf -dW "$x/$b") seg=$(readelf -lW "$x/$b") syms=$(nm -D "$x/$b")
	grep -q "DYN (Position-Independent" <<<"$hdr" || fail "$b is not PIE"
	grep -q "BIND_NOW" <<<"$dyn" || fail "$b is not linked with -z now"
	grep -q "GNU_RELRO" <<<"$seg" || fail "$b has no RELRO"
	grep -q "__stack_chk_fail" <<<"$syms" || fail "$b has no stack protector"
	readelf -SW "$x/$b" | grep -q "\.debug_info" && fail "$b is not stripped"
done
grep -q "_chk@" <<<"$(nm -D "$x/usr/bin/dockd")" || fail "dockd calls no fortified functions"
bad=$(find "$x" \( ! -user root -o ! -group root -o -perm -o+w -o -perm -4000 -o -perm -2000 \) ! -type l)
[ -z "$bad" ] || fail "files in the package that are not root's, are writable by others or set-id: $bad"
[ "$(stat -c %a "$x/etc/dockd/dockd.conf")" = 644 ] || fail "the config is not 0644"
for f in usr/share/doc/dockd/copyright usr/share/doc/dockd/changelog.gz usr/share/lintian/overrides/dockd \
	usr/share/bash-completion/completions/dockctl usr/share/dockd/dockd-rawio.conf usr/share/dockd/dockd-alerts.yml \
	usr/share/dockd/dockd-dashboard.json; do
	[ -f "$x/$f" ] || fail "the package has no /$f"
done
pass "release .deb: lintian clean, hardened (PIE, relro, bindnow, stack protector, fortify), stripped, every file root's"
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
: >"$root/etc/passwd"
: >"$root/etc/group"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >"$WORK/dpkg.log" 2>&1 ||
	fail "dpkg -i into a scratch root failed: $(cat "$WORK/dpkg.log")"
for f in usr/bin/dockd usr/bin/dockctl usr/libexec/dockd/dockd-probe usr/libexec/dockd/dockd-pdf usr/lib/systemd/system/dockd.service usr/lib/systemd/system/dockd-scrub.timer \
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
uid=$(awk -F: '$1 == "dockd" { print $3 }' "$root/etc/passwd")
[ "$(stat -c '%a %u' "$root/var/lib/dockd")" = "750 $uid" ] || fail "/var/lib/dockd is not 0750 dockd: $(stat -c '%a %U' "$root/var/lib/dockd")"
[ "$(stat -c '%a %u' "$root/run/dockd")" = "755 $uid" ] || fail "/run/dockd (the socket's directory) is not 0755 dockd"
for g in dockd dockd-operator dockd-custodian dockd-admin; do
	grep -q "^$g:" "$root/etc/group" || fail "postinst did not create the group $g: $(cat "$root/etc/group")"
done
[ -L "$root/etc/systemd/system/timers.target.wants/dockd-scrub.timer" ] || fail "the scrub timer is not enabled: $(find "$root/etc/systemd" 2>&1)"
[ -e "$root/etc/systemd/system/multi-user.target.wants/dockd.service" ] && fail "dockd was enabled before it is configured"
grep -q "names no targets: both copies would be kept" "$WORK/dpkg.log" || fail "the install does not say that both copies share one disk: $(cat "$WORK/dpkg.log")"
grep -q "^socket = /run/dockd/dockd.sock" "$root/etc/dockd/dockd.conf" || fail "the shipped config does not put the socket in /run/dockd"
sed 's|^socket = .*|socket = '"$WORK"'/dockd.sock|' "$root/etc/dockd/dockd.conf" >"$WORK/shipped.conf"
"$BUILD/dockd" -c "$WORK/shipped.conf" --state "$WORK/state" --check >"$WORK/check.log" 2>&1 ||
	fail "the shipped config does not pass dockd --check: $(cat "$WORK/check.log")"
grep -q "targets a and b are on one filesystem .* configure two targets on two disks" "$WORK/check.log" ||
	fail "--check does not say that the shipped config keeps both copies on one disk: $(cat "$WORK/check.log")"
grep -q "media probe: $BUILD/dockd-probe" "$WORK/check.log" || fail "--check does not name the media probe: $(cat "$WORK/check.log")"
# A dockd with no dockd-probe beside it or installed says so, and still runs.
if [ ! -e /usr/libexec/dockd/dockd-probe ]; then
	mkdir -p "$WORK/lonely" && cp "$BUILD/dockd" "$WORK/lonely/"
	"$WORK/lonely/dockd" -c "$WORK/shipped.conf" --state "$WORK/state" --check >"$WORK/check2.log" 2>&1 ||
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

# Remove, then purge: the units are disabled, the evidence stays.
mkdir -p "$root/var/lib/dockd/targets/a" && echo evidence >"$root/var/lib/dockd/targets/a/copy"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -r dockd >"$WORK/rm.log" 2>&1 ||
	fail "dpkg -r in the scratch root failed: $(cat "$WORK/rm.log")"
[ -e "$root/usr/bin/dockd" ] && fail "remove left /usr/bin/dockd"
# Debian's way: remove masks the units (a reinstall restores them), purge forgets them.
[ "$(readlink "$root/etc/systemd/system/dockd-scrub.timer")" = /dev/null ] || fail "remove did not mask the scrub timer"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -P dockd >"$WORK/purge.log" 2>&1 ||
	fail "dpkg -P in the scratch root failed: $(cat "$WORK/purge.log")"
[ -f "$root/var/lib/dockd/targets/a/copy" ] || fail "purge deleted evidence under /var/lib/dockd"
left=$(find "$root/etc/systemd" -name 'dockd*' 2>/dev/null)
[ -z "$left" ] || fail "purge left the units enabled or masked: $left"
pass "remove masks the units and purge forgets them (maintainer scripts in the scratch root); the evidence is kept"
