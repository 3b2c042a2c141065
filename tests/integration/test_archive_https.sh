#!/bin/bash
# The archive is a real HTTPS server: nginx on 127.0.0.1 with a test CA,
# accepting PUT only from a station presenting a client certificate (mTLS).
# Delivered with the certificate; refused without one (a 4xx: not retried);
# refused by dockd when the server's certificate is not from the configured
# CA (queued, retried); delivered after the archive was down.
source "$(dirname "$0")/common.sh"

# shellcheck source=../lib/archive.sh
source "$HERE/../lib/archive.sh"
archive_setup "$WORK/nginx"
d=$ARCHIVE_DIR
port=$ARCHIVE_PORT
tport=$ARCHIVE_TPORT
nginx_start() { archive_start || fail "the archive did not start"; }
nginx_stop() { archive_stop; }
nginx_start
at_exit archive_teardown

archive_conf "$WORK/good.conf" "$d/pki/ca.crt" mtls
archive_conf "$WORK/nocert.conf" "$d/pki/ca.crt"
archive_conf "$WORK/wrongca.conf" "$d/pki/other-ca.crt" mtls

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$src"
got=$d/www/arch/manifests/station

ingest_rc "$WORK/rec.img" CAM-H -c "$WORK/good.conf" || fail "ingest exited $?: $(cat "$WORK/last.err")"
[ -f "$got/1.json" ] && [ -f "$got/1.json.sig" ] || fail "mTLS: not delivered: $(cat "$WORK/last.err")"
dockctl manifest show 1 | cmp -s - "$got/1.json" || fail "mTLS: the archive's copy differs"
pass "delivered over HTTPS with a client certificate"

ingest_rc "$WORK/rec.img" CAM-H -c "$WORK/nocert.conf" || true
[ ! -f "$got/2.json" ] || fail "the archive accepted a station without a client certificate"
dockctl -c "$WORK/nocert.conf" archive status --json | jq -e '.rejected == 1 and .queued == 0 and any(.alarms[]; .name == "archive-rejected")' >/dev/null ||
	fail "no client certificate: not recorded as refused: $(dockctl -c "$WORK/nocert.conf" archive status)"
pass "without a client certificate the archive refuses; the manifest is held as refused, not retried blindly"

ingest_rc "$WORK/rec.img" CAM-H -c "$WORK/wrongca.conf" || true
[ ! -f "$got/3.json" ] || fail "dockd delivered to a server whose certificate it cannot verify"
dockctl -c "$WORK/wrongca.conf" archive status --json | jq -e '.queued == 1 and (.last_error | test("certificate|SSL"; "i"))' >/dev/null ||
	fail "wrong server certificate: $(dockctl -c "$WORK/wrongca.conf" archive status)"
pass "a server certificate from another CA is refused by dockd; the manifest stays queued"

nginx_stop
ingest_rc "$WORK/rec.img" CAM-H -c "$WORK/good.conf" || true
dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 2' >/dev/null ||
	fail "archive down: $(dockctl -c "$WORK/good.conf" archive status)"
nginx_start
dockctl -c "$WORK/good.conf" archive retry >/dev/null || fail "retry after the archive came back failed"
for n in 2 3 4; do
	[ -f "$got/$n.json" ] || fail "manifest $n not delivered after the outage and retry: $(ls "$got")"
done
dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 0 and .delivered == 4 and .rejected == 0 and ([.alarms[].name | select(startswith("archive"))] == [])' >/dev/null ||
	fail "after the outage: $(dockctl -c "$WORK/good.conf" archive status)"
# Earliest deadline first: the refused manifest 2 (docked first) went before 3 and 4.
order=$(archive_puts | tr '\n' ' ')
[ "$order" = "station/1.json station/2.json station/3.json station/4.json " ] || fail "delivery order at the archive: $order"
pass "archive down then up: every queued manifest delivered once, earliest deadline first; retry re-sends a refused one"

# Bearer token instead of a client certificate.
printf '[archive]\nurl = https://127.0.0.1:%s/arch\nca = %s\ntoken = s3cret-token\ntimeout_s = 5\n' "$tport" "$d/pki/ca.crt" >"$WORK/token.conf"
printf '[archive]\nurl = https://127.0.0.1:%s/arch\nca = %s\ntoken = wrong\ntimeout_s = 5\n' "$tport" "$d/pki/ca.crt" >"$WORK/badtoken.conf"
STATE=$WORK/state-token
ingest_rc "$WORK/rec.img" CAM-T -c "$WORK/badtoken.conf" || true
[ ! -f "$d/www-token/arch/manifests/station/1.json" ] || fail "the archive accepted a wrong token"
dockctl -c "$WORK/badtoken.conf" archive status --json | jq -e '.rejected == 1 and (.last_error | test("HTTP 401"))' >/dev/null ||
	fail "wrong token: $(dockctl -c "$WORK/badtoken.conf" archive status)"
ingest_rc "$WORK/rec.img" CAM-T -c "$WORK/token.conf" || fail "token ingest exited $?"
[ -f "$d/www-token/arch/manifests/station/2.json" ] || fail "not delivered with the bearer token: $(cat "$WORK/last.err")"
pass "bearer token: accepted when right, refused (401, held) when wrong"
