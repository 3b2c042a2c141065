# shellcheck shell=bash
# A real single-node Ceph cluster with RGW (S3) for the tests: one mon, one
# memstore OSD, radosgw on 127.0.0.1, everything under DIR, started in about
# 3 s (facts and settings: shared/notes/s3-and-ceph.md). Nothing listens on
# any other address.
#
#   ceph_rgw_start DIR S3_PORT MON_PORT   start; writes DIR/s3.env (S3_ENDPOINT,
#                                         S3_ACCESS_KEY, S3_SECRET_KEY)
#   ceph_rgw_stop DIR                     stop every daemon (clean)
#   ceph_rgw_restart DIR                  start the same cluster again
#   ceph_rgw_kill_rgw DIR / ceph_rgw_start_rgw DIR   RGW alone down / up
#   ceph_rgw_destroy DIR                  stop and remove DIR
#   ceph_rgw_start_retry DIR              ceph_rgw_start on free ports, up to
#                                         3 tries (a port taken meanwhile)
#   ceph_free_port                        a free loopback TCP port

ceph_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_ceph() { ceph -c "$1/ceph.conf" --connect-timeout 20 "${@:2}"; }

_ceph_wait_pid_gone() {
	local pid=$1 i st
	for ((i = 0; i < 150; i++)); do
		st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 0
		case "$st" in Z*) return 0 ;; esac # PID 1 here reaps late
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

_ceph_stop_daemon() {
	local pidfile=$1 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null && _ceph_wait_pid_gone "$pid"
	rm -f "$pidfile"
}

ceph_rgw_start_rgw() {
	local dir=$1 i port
	port=$(cat "$dir/s3.port")
	radosgw -c "$dir/ceph.conf" -n client.rgw.gw --pid-file "$dir/run/rgw.pid" >>"$dir/log/rgw.out" 2>&1
	for ((i = 0; i < 400; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	echo "ceph: RGW did not answer on 127.0.0.1:$port within 40 s" >&2
	tail -20 "$dir/log/client.rgw.gw.log" >&2 2>/dev/null
	return 1
}

ceph_rgw_kill_rgw() { _ceph_stop_daemon "$1/run/rgw.pid"; }

_ceph_start_daemons() {
	local dir=$1
	ceph-mon -c "$dir/ceph.conf" -i a || return 1
	ceph-osd -c "$dir/ceph.conf" -i 0 || return 1
	ceph_rgw_start_rgw "$dir"
}

ceph_rgw_start() {
	local dir=$1 s3port=$2 monport=$3 fsid uuid key secret
	mkdir -p "$dir"/{run,log,mon,osd}
	dir=$(cd "$dir" && pwd)
	echo "$s3port" >"$dir/s3.port"
	fsid=$(uuidgen)
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$monport,v1:127.0.0.1:$((monport + 1))]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind port min = $((monport + 2))
ms bind port max = $((monport + 40))
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
paxos propose interval = 0.1
mon warn on pool no redundancy = false
[mon]
mon data = $dir/mon/\$name
[osd]
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-4294967296}
osd fast shutdown = false
[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$s3port tcp_nodelay=1
rgw dns name = 127.0.0.1
# SSE-C over plain http: the tests reach RGW on 127.0.0.1 only
rgw crypt require ssl = false
rgw data = $dir/rgw
EOF
	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null &&
		ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
			--cap mgr 'allow *' >/dev/null &&
		ceph-authtool "$dir/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
			--cap mgr 'allow profile osd' >/dev/null &&
		ceph-authtool "$dir/keyring" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' \
			>/dev/null || return 1
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport,v1:127.0.0.1:$((monport + 1))]" \
		"$dir/monmap" >/dev/null || return 1
	mkdir -p "$dir/mon/mon.a" "$dir/osd/osd.0" "$dir/rgw"
	ceph-mon -c "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
		>>"$dir/log/mkfs.out" 2>&1 || return 1
	ceph-mon -c "$dir/ceph.conf" -i a || return 1
	uuid=$(uuidgen)
	_ceph "$dir" osd new "$uuid" 0 >/dev/null || return 1
	ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs --osd-uuid "$uuid" >>"$dir/log/mkfs.out" 2>&1 || return 1
	ceph-osd -c "$dir/ceph.conf" -i 0 || return 1
	ceph_rgw_start_rgw "$dir" || return 1
	key=DOCKDTEST$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
	radosgw-admin -c "$dir/ceph.conf" -n client.admin user create --uid=dockd --display-name=dockd \
		--access-key="$key" --secret-key="$secret" >/dev/null || return 1
	cat >"$dir/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$s3port
S3_ACCESS_KEY=$key
S3_SECRET_KEY=$secret
EOF
}

ceph_rgw_stop() {
	local dir=$1
	_ceph_stop_daemon "$dir/run/rgw.pid"
	_ceph_stop_daemon "$dir/run/osd.0.pid"
	_ceph_stop_daemon "$dir/run/mon.a.pid"
}

ceph_rgw_restart() { _ceph_start_daemons "$1"; }

ceph_rgw_destroy() {
	ceph_rgw_stop "$1"
	rm -rf "$1"
}

ceph_rgw_start_retry() {
	local dir=$1 try
	for try in 1 2 3; do
		ceph_rgw_start "$dir" "$(ceph_free_port)" $((20000 + RANDOM % 20000)) && return 0
		echo "ceph: start $try failed; logs: $(tail -3 "$dir"/log/*.log 2>/dev/null | tail -6)" >&2
		[ "$try" = 3 ] || ceph_rgw_destroy "$dir"
	done
	return 1
}
