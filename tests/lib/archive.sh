# shellcheck shell=bash
# The central archive for tests and benchmarks: a real nginx on 127.0.0.1
# with a test CA, accepting PUT (WebDAV) into a directory.
#
#   archive_setup DIR     PKI in DIR/pki, nginx.conf in DIR; sets the ports:
#     ARCHIVE_PORT        mTLS (client certificate required) -> DIR/www
#     ARCHIVE_TPORT       bearer token "s3cret-token" -> DIR/www-token
#     ARCHIVE_FAILPORT    every request answered 500 (an archive that is up but broken)
#     ARCHIVE_SLOWPORT    accepts TLS and the PUT, then never answers (timeouts)
#   archive_start / archive_stop   nginx in the foreground, as $ARCHIVE_PID
#   archive_conf FILE CA [mtls] [PORT]   a dockd [archive] section
#   archive_puts          the manifest PUTs nginx answered with 2xx, in order

archive_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

archive_ca() {          # archive_ca NAME: a test CA, NAME.crt and NAME.key here
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$1.key" -out "$1.crt" \
		-days 2 -subj "/CN=$1" 2>/dev/null
}

archive_cert() {        # archive_cert NAME CN CA SAN
	printf 'subjectAltName=%s\n' "$4" >"$1.ext"
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" -days 2 \
		-extfile "$1.ext" 2>/dev/null
}

archive_setup() {
	ARCHIVE_DIR=$1
	local d=$1
	mkdir -p "$d/www" "$d/www-token" "$d/logs" "$d/tmp" "$d/pki"
	(
		cd "$d/pki"
		archive_ca ca
		archive_ca other-ca
		archive_cert server 127.0.0.1 ca IP:127.0.0.1
		archive_cert client station-test ca DNS:station-test
	)
	# five ports held open together, so no two can be the same (taken one at
	# a time, the kernel may hand a just-released port out again)
	local blackhole
	read -r ARCHIVE_PORT ARCHIVE_TPORT ARCHIVE_FAILPORT ARCHIVE_SLOWPORT blackhole < <(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
	cat >"$d/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events {}
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp;
    client_max_body_size 16m;
    keepalive_requests 100000;
    ssl_certificate $d/pki/server.crt;
    ssl_certificate_key $d/pki/server.key;
    server {
        listen 127.0.0.1:$ARCHIVE_PORT ssl;
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
        listen 127.0.0.1:$ARCHIVE_TPORT ssl;
        root $d/www-token;
        location / {
            if (\$http_authorization != "Bearer s3cret-token") { return 401; }
            dav_methods PUT;
            create_full_put_path on;
        }
    }
    # up, but failing
    server {
        listen 127.0.0.1:$ARCHIVE_FAILPORT ssl;
        location / { return 500; }
    }
    # up, but its storage never answers: nginx waits on an upstream that
    # accepts connections and says nothing
    server {
        listen 127.0.0.1:$ARCHIVE_SLOWPORT ssl;
        location / {
            proxy_pass http://127.0.0.1:$blackhole;
            proxy_read_timeout 600s;
        }
    }
}
CONF
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$blackhole" </dev/null >/dev/null 2>&1 &
	ARCHIVE_BLACKHOLE_PID=$!
}

archive_start() {
	nginx -p "$ARCHIVE_DIR" -c "$ARCHIVE_DIR/nginx.conf" -g 'daemon off;' >>"$ARCHIVE_DIR/logs/stderr" 2>&1 </dev/null &
	ARCHIVE_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $ARCHIVE_PORT), 1)" 2>/dev/null && return
		sleep 0.1
	done
	echo "nginx did not start: $(cat "$ARCHIVE_DIR/logs/stderr" "$ARCHIVE_DIR/logs/error.log")" >&2
	return 1
}

archive_stop() {
	kill "$ARCHIVE_PID" 2>/dev/null
	wait "$ARCHIVE_PID" 2>/dev/null || true
}

archive_teardown() {
	archive_stop
	kill "$ARCHIVE_BLACKHOLE_PID" 2>/dev/null
	wait "$ARCHIVE_BLACKHOLE_PID" 2>/dev/null || true
}

archive_conf() {        # archive_conf FILE CA [mtls] [PORT]
	printf '[archive]\nurl = https://127.0.0.1:%s/arch\nca = %s\ntimeout_s = 5\n' "${4:-$ARCHIVE_PORT}" "$2" >"$1"
	[ "${3:-}" != mtls ] || printf 'cert = %s\nkey = %s\n' "$ARCHIVE_DIR/pki/client.crt" "$ARCHIVE_DIR/pki/client.key" >>"$1"
}

archive_puts() {
	grep -o 'PUT /arch/manifests/[^ ]*\.json HTTP/[0-9.]*" 20[014]' "$ARCHIVE_DIR/logs/access.log" |
		sed 's/^PUT \/arch\/manifests\///; s/ HTTP.*//'
}
