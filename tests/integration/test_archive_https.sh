#!/bin/bash
# The archive is a real HTTPS server: nginx on 127.0.0.1 with a test CA,
# accepting PUT only from a station presenting a client certificate (mTLS).
# Delivered with the certificate; refused without one (a 4xx: not retried);
# refused by dockd when the server's certificate is not from the configured
# CA (queued, retried); delivered after the archive was down.
source "$(dirname "$0")/common.sh"

d=$WORK/nginx
mkdir -p "$d/www" "$d/logs" "$d/tmp" "$d/pki"
cd "$d/pki"
cert() {        # cert NAME CN [CA] [SAN]
	local ext=$WORK/ext.$1
	printf 'subjectAltName=%s\n' "${4:-DNS:$2}" >"$ext"
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "${3:-ca}.crt" -CAkey "${3:-ca}.key" -CAcreateserial -out "$1.crt" -days 2 \
		-extfile "$ext" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout $ca.key -out $ca.crt -days 2 \
		-subj "/CN=$ca" 2>/dev/null
done
cert server 127.0.0.1 ca IP:127.0.0.1
cert client station-test ca
cd - >/dev/null
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
tport=$(free_port)
mkdir -p "$d/www-token"
cat >"$d/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events {}
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $d/pki/server.crt;
        ssl_certificate_key $d/pki/server.key;
        ssl_client_certificate $d/pki/ca.crt;
        ssl_verify_client on;
        root $d/www;
        location / {
            dav_methods PUT;
            create_full_put_path on;
        }
    }
    # the same archive for stations that authenticate with a bearer token
    server {
        listen 127.0.0.1:$tport ssl;
        ssl_certificate $d/pki/server.crt;
        ssl_certificate_key $d/pki/server.key;
        root $d/www-token;
        location / {
            if (\$http_authorization != "Bearer s3cret-token") { return 401; }
            dav_methods PUT;
            create_full_put_path on;
        }
    }
}
CONF
nginx_start() {
	nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' >>"$d/logs/stderr" 2>&1 </dev/null &
	NGINX_PID=$!
	for ((i = 0; i < 50; i++)); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return
		sleep 0.1
	done
	fail "nginx did not start: $(cat "$d/logs/stderr" "$d/logs/error.log")"
}
nginx_stop() { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null || true; }
nginx_start
at_exit nginx_stop      # whichever nginx runs at exit

conf() {        # conf FILE CA [with-client-cert]
	printf '[archive]\nurl = https://127.0.0.1:%s/arch\nca = %s\ntimeout_s = 5\n' "$port" "$2" >"$1"
	[ -z "${3:-}" ] || printf 'cert = %s\nkey = %s\n' "$d/pki/client.crt" "$d/pki/client.key" >>"$1"
}
conf "$WORK/good.conf" "$d/pki/ca.crt" mtls
conf "$WORK/nocert.conf" "$d/pki/ca.crt"
conf "$WORK/wrongca.conf" "$d/pki/other-ca.crt" mtls

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
dockctl -c "$WORK/nocert.conf" archive status --json | jq -e '.rejected == 1 and .queued == 0' >/dev/null ||
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
[ -f "$got/3.json" ] && [ -f "$got/4.json" ] || fail "queued manifests not delivered after the outage: $(ls "$got")"
dockctl -c "$WORK/good.conf" archive status --json | jq -e '.queued == 0 and .delivered == 3 and .rejected == 1' >/dev/null ||
	fail "after the outage: $(dockctl -c "$WORK/good.conf" archive status)"
puts=$(grep -c 'PUT /arch/manifests/station/[0-9]*.json HTTP' "$d/logs/access.log" || true)
[ "$puts" -ge 3 ] || fail "only $puts manifest PUTs reached nginx"
pass "archive down then up: every queued manifest delivered"

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
