#!/bin/bash
# The HTTP endpoint as a sysadmin secures it (issue #17): it listens on IPv6
# as configured, speaks TLS with the station's certificate, and with
# [metrics] token_file set, /metrics and /admin need the token (a bearer
# token for Prometheus, the password of a browser's login for /admin), while
# the officers' page and the bays in /status.json stay open; the alarms and
# the archive's deliveries are in /status.json only for a caller with the
# token. A token anyone may read is refused.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"

port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=station" \
	-addext "subjectAltName=IP:::1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null || fail "openssl req"
chmod 0600 "$WORK/key.pem"
printf 'a-station-token-0123456789\n' >"$WORK/token"
chmod 0600 "$WORK/token"
conf=$WORK/dockd.conf
printf '[metrics]\nlisten = [::1]:%s\ntls_cert = %s\ntls_key = %s\ntoken_file = %s\n' "$port" "$WORK/cert.pem" \
	"$WORK/key.pem" "$WORK/token" >"$conf"

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"
url="https://[::1]:$port"
c() { curl -sS --cacert "$WORK/cert.pem" -o "$WORK/body" -w '%{http_code}' "$@"; }

[ "$(c "$url/metrics")" = 401 ] || fail "/metrics without the token: $(cat "$WORK/body")"
[ "$(c -H 'Authorization: Bearer wrong-token-0123456789' "$url/metrics")" = 401 ] || fail "/metrics with a wrong token"
[ "$(c -H 'Authorization: Bearer a-station-token-0123456789' "$url/metrics")" = 200 ] || fail "/metrics with the token"
promtool check metrics <"$WORK/body" || fail "promtool rejects /metrics over TLS"
[ "$(c "$url/admin")" = 401 ] || fail "/admin without the token"
curl -sS --cacert "$WORK/cert.pem" -D "$WORK/hdr" -o /dev/null "$url/admin" || true
grep -qi '^WWW-Authenticate: Basic realm="dockd admin"' "$WORK/hdr" || fail "/admin does not ask a browser to log in: $(cat "$WORK/hdr")"
[ "$(c -u 'admin:a-station-token-0123456789' "$url/admin")" = 200 ] && grep -q '<h2>Alarms</h2>' "$WORK/body" ||
	fail "/admin with the token as the login's password"
[ "$(c "$url/")" = 200 ] && grep -q '<title>dockd</title>' "$WORK/body" || fail "the officers' page is not open"
[ "$(c "$url/status.json")" = 200 ] && jq -e '.bays == [] and .alarms == [] and .restricted' "$WORK/body" >/dev/null ||
	fail "/status.json without the token: $(cat "$WORK/body")"
[ "$(c -H 'Authorization: Bearer a-station-token-0123456789' "$url/status.json")" = 200 ] &&
	jq -e '(.restricted | not) and (.alarms | type == "array")' "$WORK/body" >/dev/null ||
	fail "/status.json with the token: $(cat "$WORK/body")"
# A recorder docks and its manifest reaches the archive: the deliveries
# are in /status.json for the token's holder, not for a caller without it.
mkdir -p "$WORK/src/DCIM"
make_clip "$WORK/src/DCIM/CLIP0001.MP4" 1 2026-11-25T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$WORK/src"
harness_cmd add 1 f055 d0c0 CAM-H "$WORK/rec.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-H") | .state == "complete"' 60
bearer='Authorization: Bearer a-station-token-0123456789'
for ((i = 0; i < 100; i++)); do
	c -H "$bearer" "$url/status.json" >/dev/null && jq -e '.delivered[0].seq == 1' "$WORK/body" >/dev/null && break
	sleep 0.1
done
jq -e '.delivered[0].seq == 1' "$WORK/body" >/dev/null || fail "no delivery listed for the token's holder: $(cat "$WORK/body")"
[ "$(c "$url/status.json")" = 200 ] &&
	jq -e '.delivered == [] and .restricted and (.bays[] | select(.serial == "CAM-H") | .state == "complete")' \
		"$WORK/body" >/dev/null || fail "/status.json without the token after a delivery: $(cat "$WORK/body")"
rc=0
curl -sS -o /dev/null "http://[::1]:$port/" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "plain HTTP answered on the TLS port"
pass "IPv6 and TLS: /metrics and /admin need the token (bearer, or a browser's login), the officers' page and the bays stay open, the alarms and deliveries only with the token"

chmod 0644 "$WORK/token"
out=$("$BUILD/dockd" -c "$conf" --state "$WORK/s2" --check 2>&1) && fail "a token anyone may read was accepted"
grep -q "token_file $WORK/token is mode 0644: a secret for root and dockd only" <<<"$out" || fail "the refusal: $out"
printf '[metrics]\nlisten = [::1]:%s\ntls_cert = %s\n' "$port" "$WORK/cert.pem" >"$WORK/half.conf"
out=$("$BUILD/dockd" -c "$WORK/half.conf" --state "$WORK/s3" --check 2>&1) && fail "a certificate without its key was accepted"
grep -q "tls_cert and tls_key come together" <<<"$out" || fail "the refusal: $out"
pass "a token anyone may read, and a certificate without its key, are refused naming what is wrong"
