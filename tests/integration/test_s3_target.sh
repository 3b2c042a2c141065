#!/bin/bash
# An S3 target on a real Ceph cluster (RGW on 127.0.0.1, issue #15): two
# copies, one on a filesystem and one as an object version in a bucket with
# Object Lock; each object read back by GET before it counts, its SHA-256
# checked by the server on upload, locked until its retention, never deleted
# by a plain DELETE; RGW down mid-way leaves the recording under-copied with
# the reason and a later run completes it; wrong credentials, an unlocked
# bucket or a credentials file others can read are clear errors.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/ceph.sh"

ceph=$WORK/ceph
ceph_rgw_start_retry "$ceph" || fail "the Ceph test cluster did not start: $(tail -5 "$ceph"/log/*.log "$ceph"/log/*.out 2>/dev/null)"
at_exit "ceph_rgw_destroy '$ceph'"
# shellcheck disable=SC1091
source "$ceph/s3.env"
s3curl() { curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "$@"; }
# uri PATH: an object's path (bucket/key, or s3://bucket/key) as the URL's path
uri() { jq -rn --arg k "${1#s3://}" '$k|@uri|gsub("%2F";"/")'; }
# versions_of BUCKET SERIAL: how many object versions in BUCKET are of that recorder's
versions_of() {
	s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$1?versions=" |
		{ grep -o "<Key>[^<]*/$2/[^<]*</Key>" || true; } | wc -l
}
s3curl -X PUT -H "x-amz-bucket-object-lock-enabled: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-o /dev/null -w '%{http_code}' "$S3_ENDPOINT/evidence" | grep -q 200 || fail "cannot create the locked bucket"
s3curl -X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null "$S3_ENDPOINT/unlocked"

printf 'access_key_id = %s\nsecret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$WORK/s3.cred"
chmod 0600 "$WORK/s3.cred"
mkdir -p "$WORK/disk"
tag=s3$$
groupadd "${tag}ad"
useradd -M -N -g "${tag}ad" "${tag}u"
at_exit "userdel '${tag}u'; groupdel '${tag}ad'"
conf() { # conf BUCKET CREDENTIALS
	cat >"$WORK/dockd.conf" <<-CONF
	[station]
	id = s3test
	socket = $WORK/dockd.sock
	[roles]
	admin_group = ${tag}ad
	[recorders]
	name_pattern = {*}_{YYYY}{MM}{DD}{hh}{mm}{ss}
	[metrics]
	listen = off
	[retention]
	class.evidence = 24
	[target.disk]
	path = $WORK/disk
	[target.vault]
	type = s3
	endpoint = $S3_ENDPOINT
	bucket = $1
	prefix = station-7
	credentials = $2
	object_lock = governance
	CONF
}
conf evidence "$WORK/s3.cred"
C=(-c "$WORK/dockd.conf")

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
head -c $((2 << 20)) /dev/urandom >"$src/DCIM/OLD_20260105080000.MP4" # past its 6 months: due
head -c $((5 << 20)) /dev/urandom >"$src/DCIM/A0002.MP4"
head -c 1000 /dev/urandom >"$src/DCIM/note 1.txt"
img=$WORK/r1.img
make_fat32 "$img" 40 "$src"

# 1. Two copies: the filesystem and the bucket; the object is what the device held.
ingest_rc "$img" CAM-S3 "${C[@]}" || fail "ingest to fs + s3: rc $?: $(cat "$WORK/last.err")"
[ "$(last .state)" = complete ] || fail "ingest to fs + s3: state $(last .state): $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --json >"$WORK/recs.json"
jq -e 'length == 4 and all(.[]; .copies_verified == 2)' "$WORK/recs.json" >/dev/null ||
	fail "not every recording has its two copies: $(jq -c 'map([.device_path, .copies_verified, .last_error])' "$WORK/recs.json")"
n=0
while IFS=$'\t' read -r path sha url version until; do
	key=${url#s3://}
	[ "$version" != null ] || fail "$path: the object copy has no version id"
	# an independent reader: curl, by version, and sleuthkit for the device
	got=$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$key")?versionId=$version" | sha256_hex)
	[ "$got" = "$sha" ] || fail "$path: object $key version $version hashes to $got, catalog says $sha"
	[ "$(device_sha "$img" "$path")" = "$sha" ] || fail "$path: the device's file does not hash to $sha"
	# locked: GOVERNANCE about six months on; a plain DELETE of the version is refused
	head=$(s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$key")?versionId=$version")
	grep -qi "^x-amz-object-lock-mode: GOVERNANCE" <<<"$head" || fail "$path: object not locked: $head"
	[[ "$until" == "$(date -u -d '+6 months' +%Y-%m)"* ]] || fail "$path: retained until $until, not six months on"
	code=$(s3curl -o /dev/null -w '%{http_code}' -X DELETE -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		"$S3_ENDPOINT/$(uri "$key")?versionId=$version")
	[ "$code" = 403 ] || fail "$path: DELETE of the locked version answered $code, not 403"
	n=$((n + 1))
done < <(jq -r '.[] | [.device_path, .sha256, (.copies[] | select(.target == "vault") | .path, .version_id, .retain_until)] | @tsv' "$WORK/recs.json")
[ "$n" = 4 ] || fail "$n object copies found, 4 expected"
jq -e 'all(.[]; any(.copies[]; .target == "vault" and .method == "s3-get" and (.path | startswith("s3://evidence/station-7/"))))' \
	"$WORK/recs.json" >/dev/null || fail "object copies not named by bucket, prefix and key, or not read back by GET"
# the signed manifest names each object copy's version, as the ledger does
m=$(ls "$STATE"/archive/manifests/s3test/*.json | head -1)
jq -e --slurpfile r "$WORK/recs.json" '[.recordings[].copies[] | select(.target == "vault") | .version_id] | sort ==
	([$r[0][].copies[] | select(.target == "vault") | .version_id] | sort)' "$m" >/dev/null ||
	fail "the manifest's object copies do not name the versions the ledger holds: $(jq -c '[.recordings[].copies]' "$m")"
python3 -c 'import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
	"$m" "$HERE/../../schema/manifest.schema.json" || fail "the manifest with object copies is not valid against its schema"
pass "fs + s3: 4 recordings, each an object version equal to the device's file, locked GOVERNANCE 6 months, DELETE refused"

# 2. Docking again copies nothing.
ingest_rc "$img" CAM-S3 "${C[@]}" || fail "re-dock: rc $?"
[ "$(last .files_copied)" = 0 ] || fail "re-dock copied $(last .files_copied) files again"
# "versions=": curl 7.88's signer mis-canonicalises a valueless parameter
versions=$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/evidence?prefix=station-7%2F2&versions=" |
	{ grep -o '<Version>' || true; } | wc -l)
[ "$versions" = 4 ] || fail "the bucket holds $versions versions under the prefix, 4 expected"
pass "re-dock: nothing copied twice, 4 object versions"

# 3. RGW down: the filesystem copy stands, the recording is under-copied
#    with the reason; RGW back: the next run completes it.
mkdir -p "$WORK/s2/DCIM"
head -c $((3 << 20)) /dev/urandom >"$WORK/s2/DCIM/B0001.MP4"
make_fat32 "$WORK/r2.img" 40 "$WORK/s2"
ceph_rgw_kill_rgw "$ceph"
rc=0
ingest_rc "$WORK/r2.img" CAM-S3B "${C[@]}" || rc=$?
[ $rc = 3 ] || fail "RGW down: expected exit 3 (incomplete), got $rc: $(cat "$WORK/last.err")"
grep -q "target vault" "$WORK/last.err" || fail "RGW down: the error does not name the target: $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --device CAM-S3B --json >"$WORK/recs.json"
jq -e 'length == 1 and .[0].copies_verified == 1 and .[0].under_copied and .[0].copies[0].target == "disk"' \
	"$WORK/recs.json" >/dev/null || fail "RGW down: $(jq -c . "$WORK/recs.json")"
ceph_rgw_start_rgw "$ceph" || fail "RGW did not come back"
ingest_rc "$WORK/r2.img" CAM-S3B "${C[@]}" || fail "RGW back: rc $?: $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --device CAM-S3B --json | jq -e '.[0].copies_verified == 2 and (.[0].under_copied | not)' \
	>/dev/null || fail "RGW back: the missing object copy was not made"
pass "RGW down: under-copied 1 of 2 naming target vault; back: completed"

# 3a. Faults RGW will not make on demand, through a proxy in front of it: a
#     500, the connection cut mid-upload (the server dying), a server that
#     stops answering. Each fails only the object copy, with the reason; the
#     filesystem copy stands; nothing is left in the bucket; and once the
#     server behaves, the next run completes the recording.
pport=$(ceph_free_port)
python3 "$HERE/../tools/faultproxy.py" "$pport" "${S3_ENDPOINT##*:}" "$WORK/proxy.mode" >"$WORK/proxy.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
for ((i = 0; i < 50; i++)); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
sed "s|^endpoint = .*|endpoint = http://127.0.0.1:$pport|" "$WORK/dockd.conf" >"$WORK/proxy.conf"
mkdir -p "$WORK/s6/DCIM"
head -c $((3 << 20)) /dev/urandom >"$WORK/s6/DCIM/F0001.MP4"
make_fat32 "$WORK/r6.img" 40 "$WORK/s6"
proxied() { # proxied MODE ARGS...: ingest_rc ARGS with the proxy in MODE, then passing again; exit code in rc
	echo "$1" >"$WORK/proxy.mode"
	shift
	rc=0
	ingest_rc "$@" || rc=$?
	echo pass >"$WORK/proxy.mode"
}
fault() { # fault MODE PATTERN: one ingest with the proxy in MODE
	DOCKD_TEST_S3_TIMEOUT_S=2 proxied "$1" "$WORK/r6.img" CAM-S3F -c "$WORK/proxy.conf"
	[ $rc = 3 ] && grep -q "target vault.*$2" "$WORK/last.err" ||
		fail "server fault $1: rc $rc, no reason naming target vault and '$2': $(cat "$WORK/last.err")"
	dockctl -c "$WORK/proxy.conf" recordings --device CAM-S3F --json |
		jq -e '.[0].copies_verified == 1 and .[0].under_copied and .[0].copies[0].target == "disk"' >/dev/null ||
		fail "server fault $1: $(dockctl -c "$WORK/proxy.conf" recordings --device CAM-S3F --json | jq -c .)"
}
fault 500 "500"
fault cut:200000 "failed"
fkey=$(printf '%s' "station-7/" ; dockctl -c "$WORK/proxy.conf" recordings --device CAM-S3F --json | jq -r '.[0].copies[0].path' | sed 's|.*/disk/||')
code=$(s3curl -o /dev/null -w '%{http_code}' -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/evidence/$(uri "$fkey")")
[ "$code" = 404 ] || fail "the upload cut mid-way left an object ($code) at $fkey"
fault stall "Timeout"
# a server that lies on read-back: the object stored is right, the GET that
# checks it gives a flipped byte; the copy must not count
fault flip:1000000 "failed: read back .* were written"
# Logged as under systemd: a new recorder's object copy, uploaded from its
# verified disk copy in the background and cut mid-way, fails; that failure
# is collected from the upload thread between files, and its journal entry
# still names the recording, the target and the device (a monitor's query
# for one recording's history).
mkdir -p "$WORK/journal" "$WORK/s7/DCIM"
journal_listen "$WORK/journal/socket" "$WORK/journal.jsonl"
head -c $((3 << 20)) /dev/urandom >"$WORK/s7/DCIM/G0001.MP4"
make_fat32 "$WORK/r7.img" 40 "$WORK/s7"
echo cut:200000 >"$WORK/proxy.mode"
DOCKD_TEST_S3_TIMEOUT_S=2 in_journal "$WORK/journal" "$BUILD/dockctl" --state "$STATE" -c "$WORK/proxy.conf" \
	ingest --image "$WORK/r7.img" --serial CAM-S3J --json >"$WORK/last.json" 2>"$WORK/last.err" || true
echo pass >"$WORK/proxy.mode"
jrec=$(dockctl -c "$WORK/proxy.conf" recordings --device CAM-S3J --json | jq -r '.[0].id')
journal_has 'any(.[]; .PRIORITY == "3" and .DOCKD_TARGET == "vault" and .DOCKD_DEVICE == "CAM-S3J"
	and .DOCKD_RECORDING == "'"$jrec"'" and (.MESSAGE | test("G0001")))' "$WORK/journal.jsonl" ||
	fail "an object copy's failure: no journal entry naming recording $jrec and target vault: $(grep vault "$WORK/journal.jsonl")"
ingest_rc "$WORK/r6.img" CAM-S3F -c "$WORK/proxy.conf" || fail "server back: rc $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/proxy.conf" recordings --device CAM-S3F --json | jq -e '.[0].copies_verified == 2' >/dev/null ||
	fail "server back: the object copy was not made"
pass "a 500, an upload cut mid-way, a server that stops answering, one that lies on read-back: each fails only the object copy, naming it; then completed"

# 3b. kill -9 after the object is stored, before the ledger records it: the
#     next run finds it, reads it back and adopts it; no second version.
mkdir -p "$WORK/s3k/DCIM"
head -c $((2 << 20)) /dev/urandom >"$WORK/s3k/DCIM/K0001.MP4"
make_fat32 "$WORK/r3.img" 40 "$WORK/s3k"
rc=0
DOCKD_CRASHPOINT=s3-after-put ingest_rc "$WORK/r3.img" CAM-S3K "${C[@]}" || rc=$?
[ $rc = 137 ] || fail "the crash point after the upload was not reached (rc $rc): $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --device CAM-S3K --json | jq -e '.[0].copies_verified == 1' >/dev/null ||
	fail "after kill -9: the ledger claims more than the filesystem copy"
ingest_rc "$WORK/r3.img" CAM-S3K "${C[@]}" || fail "after kill -9: rc $?: $(cat "$WORK/last.err")"
grep -q "adopting .* on target vault, left by an interrupted run" "$WORK/last.err" ||
	fail "the stored object was not adopted: $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --device CAM-S3K --json | jq -e '.[0].copies_verified == 2' >/dev/null ||
	fail "after kill -9 and a re-dock: not two copies"
kv=$(versions_of evidence CAM-S3K)
[ "$kv" = 1 ] || fail "after kill -9 and a re-dock: $kv versions of the recording in the bucket, 1 expected"
pass "kill -9 between the upload and the ledger: the object adopted on re-dock, one version"

# 3c. A copy above the single-PUT limit goes up in parts, each signed over
#     its own SHA-256, and reads back whole (the test build lowers the limit
#     to 8 MiB with 5 MiB parts: S3's is 5 GiB); nothing is left pending.
mkdir -p "$WORK/s3m/DCIM"
head -c $((12 << 20)) /dev/urandom >"$WORK/s3m/DCIM/BIG.MP4"
make_fat32 "$WORK/r4.img" 40 "$WORK/s3m"
DOCKD_TEST_S3_MULTIPART=$((8 << 20)),$((5 << 20)) ingest_rc "$WORK/r4.img" CAM-S3M "${C[@]}" ||
	fail "multipart: rc $?: $(cat "$WORK/last.err")"
IFS=$'\t' read -r msha u v < <(dockctl "${C[@]}" recordings --device CAM-S3M --json |
	jq -r '.[0] | [.sha256, (.copies[] | select(.target == "vault") | .path, .version_id)] | @tsv')
[ -n "$v" ] || fail "multipart: no object copy recorded"
mkey=$(uri "$u")
[ "$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$mkey?versionId=$v" | sha256_hex)" = "$msha" ] ||
	fail "multipart: the object does not hold the recording"
s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$mkey?versionId=$v" | tr -d '\r' | grep -qi '^etag: "[0-9a-f]*-3"' ||
	fail "multipart: not uploaded in 3 parts: $(s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$mkey?versionId=$v")"
s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/evidence?uploads=" >"$WORK/uploads.xml"
grep -q '<ListMultipartUploadsResult' "$WORK/uploads.xml" && ! grep -q '<Upload>' "$WORK/uploads.xml" ||
	fail "multipart: an upload was left pending (or the listing failed): $(cat "$WORK/uploads.xml")"
pass "a copy above the single-PUT limit: 3 signed parts, read back whole, nothing pending"

# 4. Only S3 targets (two buckets): the SHA-256 from one read of the device,
#    uploads from the device checked by the server against it.
s3curl -X PUT -H "x-amz-bucket-object-lock-enabled: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-o /dev/null "$S3_ENDPOINT/evidence2"
sed -e 's/^\[target.disk\]/[target.vault2]\ntype = s3\nendpoint = '"${S3_ENDPOINT//\//\\/}"'\nbucket = evidence2\ncredentials = '"${WORK//\//\\/}"'\/s3.cred/' \
	-e '/^path = /d' -e 's/^prefix = station-7$/prefix = s3only/' "$WORK/dockd.conf" >"$WORK/s3only.conf"
STATE=$WORK/state-s3only
ingest_rc "$img" CAM-S3 -c "$WORK/s3only.conf" || fail "s3 + s3: rc $?: $(cat "$WORK/last.err")"
# each file counted once as copied, the session complete
[ "$(last .files_copied)" = 4 ] && [ "$(last .files_under_copied)" = 0 ] && [ "$(last .state)" = complete ] ||
	fail "s3 + s3: the summary does not count what was uploaded: $(cat "$WORK/last.json")"
dockctl -c "$WORK/s3only.conf" recordings --json >"$WORK/recs.json"
jq -e 'length == 4 and all(.[]; .copies_verified == 2 and all(.copies[]; .method == "s3-get"))' "$WORK/recs.json" >/dev/null ||
	fail "s3 + s3: $(jq -c 'map([.device_path, .copies_verified, .last_error])' "$WORK/recs.json")"
jq -e 'all(.[]; .time_source != null)' "$WORK/recs.json" >/dev/null || fail "s3 + s3: recordings left untagged"
# the footage probed on the device (ranges asked by dockd-probe, checked against the hashed read), as from a file
jq -e '.[] | select(.device_path == "/DCIM/A0001.MP4") | .time_source == "media" and .codec == "h264"
	and .duration_s > 0.5 and .recorded_start_utc == "2026-11-25T08:00:00.000Z"' "$WORK/recs.json" >/dev/null ||
	fail "s3 + s3: the clip's media facts were not read from its object: $(jq -c '.[] | select(.device_path == "/DCIM/A0001.MP4")' "$WORK/recs.json")"
jq -e '[.[] | select(.device_path != "/DCIM/A0001.MP4") | .media_flag] | all(. == "unplayable")' "$WORK/recs.json" >/dev/null ||
	fail "s3 + s3: random bytes not flagged unplayable: $(jq -c 'map([.device_path, .media_flag])' "$WORK/recs.json")"
pass "s3 + s3: every recording in both buckets, read back by GET; its media probed on the device by ranges"

# A device that gives the probe other bytes (one bit, in the first range)
# than it gives the read that is hashed and uploaded: no media fact of it is
# used, the session says why, and the copies stand.
rc=0
DOCKD_TEST_PROBE_LIE=9 ingest_rc "$img" CAM-S3L -c "$WORK/s3only.conf" || rc=$?
[ $rc = 3 ] || fail "probe liar: expected exit 3 (incomplete), got $rc: $(cat "$WORK/last.err")"
grep -q "A0001.MP4: INTEGRITY: the media probe was given other bytes at offset 0 than the hashed read" "$WORK/last.err" ||
	fail "probe liar: not named: $(cat "$WORK/last.err")"
dockctl -c "$WORK/s3only.conf" recordings --device CAM-S3L --json >"$WORK/recs.json"
jq -e 'length == 4 and all(.[]; .copies_verified == 2 and .media_flag == "unverified" and .codec == null
	and .time_source != "media")' "$WORK/recs.json" >/dev/null ||
	fail "probe liar: $(jq -c 'map([.device_path, .copies_verified, .media_flag, .codec, .time_source])' "$WORK/recs.json")"
pass "a device that lies to the media probe alone: its facts unused, flagged unverified, the session incomplete, the copies made"

# 4c. One S3 target (copies = 1): the device is read once, by the upload
#     that hashes it (in chunks the server checks as they come), besides
#     the volume's own structures and the probe's ranges; the SHA-256 the
#     read-back confirmed is the object's tag.
s3curl -X PUT -H "x-amz-bucket-object-lock-enabled: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-o /dev/null "$S3_ENDPOINT/evidence3"
sed -e '/^\[target.vault\]/,/^object_lock/d' -e 's/^id = s3test$/id = s3test\ncopies = 1/' \
	-e 's/^bucket = evidence2$/bucket = evidence3/' "$WORK/s3only.conf" >"$WORK/s3one.conf"
STATE=$WORK/state-s3one
rc=0
# (LeakSanitizer cannot run under ptrace)
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat,pread64 -e signal=none -o "$WORK/reads.trace" \
	"$BUILD/dockctl" --state "$STATE" -c "$WORK/s3one.conf" ingest --image "$img" --serial CAM-S3O --json \
	>"$WORK/last.json" 2>"$WORK/last.err" || rc=$?
[ $rc = 0 ] && [ "$(last .files_copied)" = 4 ] && [ "$(last .state)" = complete ] ||
	fail "one S3 target: rc $rc: $(cat "$WORK/last.err")"
# bytes pread from the image's file descriptor(s)
read_bytes=$(awk -v img="$img" '
	$2 ~ /^openat\(/ && index($0, "\"" img "\"") { fd[$NF] = 1 }
	$2 ~ /^pread64\(/ { split($2, a, /[(,]/); if (a[2] in fd && $NF + 0 > 0) n += $NF }
	END { print n + 0 }' "$WORK/reads.trace")
file_bytes=$(dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3O --json | jq '[.[].size] | add')
[ "$file_bytes" -gt 0 ] && [ "$read_bytes" -lt $((file_bytes * 2)) ] ||
	fail "one S3 target: $read_bytes bytes read from the device for $file_bytes bytes of recordings (once is the aim)"
dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3O --json |
	jq -r '.[] | [.sha256, (.copies[0] | .path, .version_id)] | @tsv' | while IFS=$'\t' read -r sha path ver; do
	okey=$(uri "$path")
	s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$okey?tagging=&versionId=$ver" |
		tee "$WORK/tags.xml" | grep -q "<Key>sha256</Key><Value>$sha</Value>" || fail "one S3 target: $okey has no tag sha256=$sha: $(cat "$WORK/tags.xml")"
	s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$okey?versionId=$ver" | tr -d '\r' |
		grep -qi '^x-amz-object-lock-mode: GOVERNANCE' || fail "one S3 target: $okey version $ver is not locked"
done
pass "one S3 target: the device read once ($read_bytes bytes for $file_bytes), each object locked and tagged with its SHA-256"

# An empty recording (RGW refuses an aws-chunked body of nothing): copied
# and read back all the same.
mkdir -p "$WORK/s3z/DCIM"
: >"$WORK/s3z/DCIM/EMPTY.MP4"
head -c 1000 /dev/urandom >"$WORK/s3z/DCIM/SMALL.MP4"
make_fat32 "$WORK/r8.img" 40 "$WORK/s3z"
ingest_rc "$WORK/r8.img" CAM-S3Z -c "$WORK/s3one.conf" && [ "$(last .files_copied)" = 2 ] ||
	fail "one S3 target, an empty recording: rc $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3Z --json | jq -e '.[] | select(.device_path == "/DCIM/EMPTY.MP4")
	| .copies_verified == 1 and .sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' >/dev/null ||
	fail "one S3 target: the empty recording is not copied"
pass "one S3 target: an empty recording copied and read back"

# kill -9 after a streamed upload, before the ledger records it: the object
# has no SHA-256 in its metadata, so the re-dock hashes the device, reads
# the object back, adopts it; still one version.
rc=0
DOCKD_CRASHPOINT=s3-after-put ingest_rc "$WORK/r3.img" CAM-S3OK -c "$WORK/s3one.conf" || rc=$?
[ $rc = 137 ] || fail "one S3 target: the crash point after the upload was not reached (rc $rc): $(cat "$WORK/last.err")"
ingest_rc "$WORK/r3.img" CAM-S3OK -c "$WORK/s3one.conf" || fail "one S3 target, after kill -9: rc $?: $(cat "$WORK/last.err")"
grep -q "adopting .* on target vault2, left by an interrupted run" "$WORK/last.err" ||
	fail "one S3 target: the streamed object was not adopted: $(cat "$WORK/last.err")"
kv=$(versions_of evidence3 CAM-S3OK)
[ "$kv" = 1 ] || fail "one S3 target, after kill -9 and a re-dock: $kv versions, 1 expected"
pass "one S3 target: kill -9 between the streamed upload and the ledger: adopted on re-dock, one version"

# kill -9 after the ledger records the object, before its tags: the re-dock
# tags it without media facts (no filesystem copy to probe), flagged so.
rc=0
DOCKD_CRASHPOINT=s3-after-record ingest_rc "$WORK/r3.img" CAM-S3OT -c "$WORK/s3one.conf" || rc=$?
[ $rc = 137 ] || fail "one S3 target: the crash point after the ledger was not reached (rc $rc): $(cat "$WORK/last.err")"
ingest_rc "$WORK/r3.img" CAM-S3OT -c "$WORK/s3one.conf" || fail "one S3 target, after kill -9 past the ledger: rc $?: $(cat "$WORK/last.err")"
[ "$(last .state)" = complete ] || fail "one S3 target, re-dock after the tags were lost: $(cat "$WORK/last.json")"
dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3OT --json >"$WORK/recs.json"
jq -e 'length > 0 and all(.[]; .time_source != null and .ingested_at != null and (.codec != null or .media_flag != null))' \
	"$WORK/recs.json" >/dev/null || fail "one S3 target: a recording left untagged: $(jq -c 'map({device_path, time_source, media_flag})' "$WORK/recs.json")"
jq -e 'any(.[]; .media_flag == "unprobed")' "$WORK/recs.json" >/dev/null ||
	fail "one S3 target: the recording whose tags were lost is not flagged unprobed: $(jq -c 'map({device_path, media_flag})' "$WORK/recs.json")"
pass "one S3 target: kill -9 between the ledger and the tags: the re-dock tags it, flagged unprobed"

# A recording above the single-PUT limit on an S3-only station cannot be
# streamed in one PUT: hashed on the device first, then sent in signed parts.
DOCKD_TEST_S3_MULTIPART=$((8 << 20)),$((5 << 20)) ingest_rc "$WORK/r4.img" CAM-S3OM -c "$WORK/s3one.conf" ||
	fail "one S3 target, multipart: rc $?: $(cat "$WORK/last.err")"
IFS=$'\t' read -r osha ou ov < <(dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3OM --json |
	jq -r '.[0] | [.sha256, .copies[0].path, .copies[0].version_id] | @tsv')
[ "$osha" = "$msha" ] || fail "one S3 target, multipart: SHA-256 $osha, the file's is $msha"
okey=$(uri "$ou")
[ "$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$okey?versionId=$ov" | sha256_hex)" = "$msha" ] ||
	fail "one S3 target, multipart: the object does not hold the recording"
s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$okey?versionId=$ov" | tr -d '\r' | grep -qi '^etag: "[0-9a-f]*-3"' ||
	fail "one S3 target, multipart: not uploaded in 3 parts"
pass "one S3 target: a recording above the single-PUT limit hashed first, then sent in 3 signed parts, read back whole"

# One bit of a streamed upload altered on its way (through the proxy): the
# server refuses the chunk it is in, so no object holds bytes the device
# did not give; once the path is sound, the next run completes it.
sed "s|^endpoint = .*|endpoint = http://127.0.0.1:$pport|" "$WORK/s3one.conf" >"$WORK/s3one-proxy.conf"
proxied upflip:400000 "$WORK/r6.img" CAM-S3U -c "$WORK/s3one-proxy.conf"
[ $rc = 3 ] && grep -q "F0001.MP4: copy to target vault2 failed: PUT .*: 403" "$WORK/last.err" ||
	fail "one S3 target, an upload altered on its way: rc $rc, not refused by the server: $(cat "$WORK/last.err")"
kv=$(versions_of evidence3 CAM-S3U)
[ "$kv" = 0 ] || fail "one S3 target: an upload altered on its way left $kv object versions"
ingest_rc "$WORK/r6.img" CAM-S3U -c "$WORK/s3one-proxy.conf" && [ "$(last .state)" = complete ] ||
	fail "one S3 target: the path sound again, not completed: $(cat "$WORK/last.err")"
pass "one S3 target: one bit of a streamed upload altered on its way: refused by the server, nothing stored; then completed"

# A store that lies on the read-back of a streamed upload (one byte of the
# GET flipped): compared with the SHA-256 of the device's pass, so the copy
# does not count and the session is incomplete.
proxied flip:1000000 "$WORK/r6.img" CAM-S3R -c "$WORK/s3one-proxy.conf"
[ $rc = 3 ] && grep -q "F0001.MP4: copy to target vault2 failed: read back .* were written" "$WORK/last.err" ||
	fail "one S3 target, a store lying on read-back: rc $rc, not caught: $(cat "$WORK/last.err")"
dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3R --json |
	jq -e 'length == 1 and .[0].copies_verified == 0 and .[0].sha256 == null' >/dev/null ||
	fail "one S3 target: a copy that read back other bytes counts: $(dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3R --json)"
pass "one S3 target: a store that lies on a streamed upload's read-back: the copy does not count, the session incomplete"

# The recorder fails mid-upload (a bad sector): the upload is aborted, so
# the bucket holds nothing of it and nothing is recorded as hashed or
# copied; the next dock completes it.
mkdir -p "$WORK/s3f/DCIM"
head -c $((24 << 20)) /dev/urandom >"$WORK/s3f/DCIM/LONG.MP4"
make_fat32 "$WORK/r7.img" 60 "$WORK/s3f"
# a bad sector 12 MiB into the file
off=$(python3 -c 'import sys; d = open(sys.argv[2], "rb").read(); s = open(sys.argv[1], "rb").read()[12 << 20:(12 << 20) + 64]; print(d.find(s))' \
	"$WORK/s3f/DCIM/LONG.MP4" "$WORK/r7.img")
[ "$off" -gt 0 ] || fail "one S3 target: the file's bytes not found in its image"
FAULTYFS_BAD="$off:4096" faulty_mount "$WORK/r7.img" "$WORK/mnt7"
rc=0
ingest_rc "$WORK/mnt7/disk.img" CAM-S3E -c "$WORK/s3one.conf" || rc=$?
[ $rc = 3 ] && grep -q "CAM-S3E: /DCIM/LONG.MP4: .*read failed" "$WORK/last.err" ||
	fail "one S3 target, the recorder failing mid-upload: rc $rc, not named: $(cat "$WORK/last.err")"
kv=$(versions_of evidence3 CAM-S3E)
[ "$kv" = 0 ] || fail "one S3 target: an upload the recorder failed mid-way left $kv object versions"
dockctl -c "$WORK/s3one.conf" recordings --device CAM-S3E --json |
	jq -e 'length == 1 and all(.[]; .sha256 == null and (.copies | length) == 0)' >/dev/null ||
	fail "one S3 target: a recording the recorder failed mid-upload is recorded as hashed or copied"
ingest_rc "$WORK/r7.img" CAM-S3E -c "$WORK/s3one.conf" && [ "$(last .state)" = complete ] ||
	fail "one S3 target: the re-dock after the recorder's fault did not complete: $(cat "$WORK/last.err")"
pass "one S3 target: the recorder failing mid-upload: upload aborted, nothing stored or recorded; the re-dock completes"

# A server that takes no chunk-signed PUT (AWS S3 wants a checksum header
# before a body with lock parameters): said once, then each recording is
# hashed on the device before a PUT signed over the whole; all copied.
proxied nostream "$img" CAM-S3N -c "$WORK/s3one-proxy.conf"
[ $rc = 0 ] || fail "one S3 target, no streaming: rc $rc: $(cat "$WORK/last.err")"
[ "$(last .files_copied)" = 4 ] && [ "$(last .state)" = complete ] ||
	fail "one S3 target, no streaming: $(cat "$WORK/last.json")"
[ "$(grep -c "takes no chunk-signed upload.*hashing each recording on the device before its upload" "$WORK/last.err")" = 1 ] ||
	fail "one S3 target, no streaming: not said once: $(cat "$WORK/last.err")"
pass "one S3 target: a server that takes no chunk-signed upload: said once, each recording hashed first, all copied"
STATE=$WORK/state

# 4b. The archive is an S3 bucket (s3://BUCKET/PREFIX): manifests and their
#     signatures PUT signed, locked, read back; what the bucket holds
#     verifies with openssl; a different manifest already under the next
#     name is an INTEGRITY refusal, never replaced.
s3curl -X PUT -H "x-amz-bucket-object-lock-enabled: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-o /dev/null "$S3_ENDPOINT/archive"
cat >"$WORK/s3arch.conf" <<CONF
[station]
id = s3arch
[archive]
url = s3://archive/agency-1
endpoint = $S3_ENDPOINT
credentials = $WORK/s3.cred
CONF
STATE=$WORK/state-s3arch
ingest_rc "$img" CAM-S3 -c "$WORK/s3arch.conf" || fail "ingest with an S3 archive: rc $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/s3arch.conf" archive status --json | jq -e '.queued == 0 and .delivered == 1' >/dev/null ||
	fail "S3 archive: not delivered: $(dockctl -c "$WORK/s3arch.conf" archive status)"
s3get() { s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/archive/agency-1/manifests/s3arch/$1"; }
s3get 1.json >"$WORK/m1.json"
s3get 1.json.sig >"$WORK/m1.sig"
dockctl -c "$WORK/s3arch.conf" manifest show 1 | cmp -s - "$WORK/m1.json" || fail "S3 archive: the bucket's manifest differs from the catalog's"
dockctl -c "$WORK/s3arch.conf" key show >"$WORK/pub.pem"
openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/m1.json" -sigfile "$WORK/m1.sig" >/dev/null ||
	fail "S3 archive: the manifest in the bucket does not verify"
s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/archive/agency-1/manifests/s3arch/1.json" |
	grep -qi "^x-amz-object-lock-mode: GOVERNANCE" || fail "S3 archive: the manifest is not locked"
printf 'not the manifest' >"$WORK/junk"
s3curl -X PUT -T "$WORK/junk" -H "x-amz-content-sha256: $(sha256_hex <"$WORK/junk")" \
	"$S3_ENDPOINT/archive/agency-1/manifests/s3arch/2.json" >/dev/null
ingest_rc "$WORK/r2.img" CAM-S3B -c "$WORK/s3arch.conf" || true
dockctl -c "$WORK/s3arch.conf" archive status --json | jq -e '.rejected == 1 and .delivered == 1' >/dev/null ||
	fail "S3 archive: other bytes under the name: $(dockctl -c "$WORK/s3arch.conf" archive status)"
[ "$(s3get 2.json)" = "not the manifest" ] || fail "S3 archive: the object under the name was replaced"
pass "S3 archive: manifest and signature in the bucket, locked, verify with openssl; other bytes under the name refused, kept"
STATE=$WORK/state

# 4c. One archive, many stations: two stations write to one prefix; an
#     auditor checks every signature against each station's key in the
#     archive, every chain link and sequence number; a manifest removed
#     (governance bypass) is a gap, one replaced by other bytes a bad
#     signature and a broken link.
for st in st-a st-b; do
	mkdir -p "$WORK/disk-$st"
	cat >"$WORK/$st.conf" <<CONF
[station]
id = $st
[target.disk]
path = $WORK/disk-$st
[target.vault]
type = s3
endpoint = $S3_ENDPOINT
bucket = evidence
prefix = $st
credentials = $WORK/s3.cred
[archive]
url = s3://archive/agency-2
endpoint = $S3_ENDPOINT
credentials = $WORK/s3.cred
CONF
	STATE=$WORK/state-$st
	for k in 1 2 3; do
		ingest_rc "$img" CAM-$st -c "$WORK/$st.conf" || fail "$st: ingest $k: rc $?: $(cat "$WORK/last.err")"
	done
done
STATE=$WORK/state-auditor
audit() { dockctl -c "$WORK/st-a.conf" archive audit s3://archive/agency-2 --json >"$WORK/audit.json" 2>"$WORK/audit.err"; }
audit || fail "archive audit of a clean archive: rc $?: $(cat "$WORK/audit.json" "$WORK/audit.err")"
jq -e 'length == 2 and all(.[]; .manifests == 3 and .first == 1 and .last == 3 and .gaps == 0 and .broken_links == 0
	and .bad_signatures == 0 and .key_sha256 != null and .objects == 4 and .missing_objects == 0)' "$WORK/audit.json" >/dev/null ||
	fail "archive audit of a clean archive: $(cat "$WORK/audit.json")"
m2=agency-2/manifests/st-a/2.json
ver=$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/archive?prefix=$(jq -rn --arg k "$m2" '$k|@uri')&versions=" |
	grep -o '<Key>[^<]*</Key><VersionId>[^<]*</VersionId>' | head -1 | sed 's|.*<VersionId>\(.*\)</VersionId>|\1|')
s3curl -X DELETE -H "x-amz-bypass-governance-retention: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	"$S3_ENDPOINT/archive/$m2?versionId=$ver" >/dev/null
s3curl -X DELETE -H "x-amz-bypass-governance-retention: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	"$S3_ENDPOINT/archive/$m2.sig?versionId=$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/archive?prefix=$(jq -rn --arg k "$m2.sig" '$k|@uri')&versions=" |
		grep -o '<VersionId>[^<]*</VersionId>' | head -1 | sed 's|<VersionId>\(.*\)</VersionId>|\1|')" >/dev/null
# an object copy that st-b's first manifest names, removed behind its back
IFS=$'\t' read -r obj ov < <(jq -r '[.recordings[0].copies[] | select(.object) | .object, .version_id] | @tsv' \
	<(dockctl -c "$WORK/st-b.conf" --state "$WORK/state-st-b" manifest show 1))
s3curl -X DELETE -H "x-amz-bypass-governance-retention: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	"$S3_ENDPOINT/$(uri "$obj")?versionId=$ov" >/dev/null
jq '.session.state = "complete, honestly"' <(dockctl -c "$WORK/st-b.conf" --state "$WORK/state-st-b" manifest show 1) >"$WORK/forged.json"
s3curl -X PUT -T "$WORK/forged.json" -H "x-amz-content-sha256: $(sha256_hex <"$WORK/forged.json")" \
	"$S3_ENDPOINT/archive/agency-2/manifests/st-b/1.json" >/dev/null
rc=0
audit || rc=$?
[ $rc = 3 ] || fail "archive audit after tampering: rc $rc, not 3: $(cat "$WORK/audit.json" "$WORK/audit.err")"
jq -e '(.[] | select(.station == "st-a") | .gaps == 1 and .manifests == 2 and (.problems | test("missing before 3")))
	and (.[] | select(.station == "st-b") | .bad_signatures == 1 and .broken_links == 1 and .missing_objects >= 1
	and (.problems | test("bad signature: 1.*object missing: s3://evidence/st-b/.*chain broken at 2")))' "$WORK/audit.json" >/dev/null ||
	fail "archive audit after tampering: $(cat "$WORK/audit.json")"
pass "archive audit: two stations in one bucket verified, with the object copies their manifests name; a removed manifest is a gap, an altered one a bad signature and a broken link, a removed object is named"
STATE=$WORK/state

# 4d. Encrypted at rest: with sse_c_key the server encrypts each object with
#     dockd's key (SSE-C); the read-back compares the plaintext; without the
#     key the object cannot be read, and the bytes RADOS stores are not the
#     recording's.
s3curl -X PUT -H "x-amz-bucket-object-lock-enabled: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-o /dev/null "$S3_ENDPOINT/sealed"
head -c 32 /dev/urandom >"$WORK/sse.key"
chmod 0600 "$WORK/sse.key"
cat >"$WORK/sse.conf" <<CONF
[station]
id = sse
[target.disk]
path = $WORK/disk-sse
[target.sealed]
type = s3
endpoint = $S3_ENDPOINT
bucket = sealed
credentials = $WORK/s3.cred
sse_c_key = $WORK/sse.key
[policy]
require_encryption = no
CONF
mkdir -p "$WORK/disk-sse"
STATE=$WORK/state-sse
ingest_rc "$img" CAM-SSE -c "$WORK/sse.conf" || fail "ingest to an SSE-C target: rc $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/sse.conf" recordings --json >"$WORK/recs.json"
jq -e 'length == 4 and all(.[]; .copies_verified == 2)' "$WORK/recs.json" >/dev/null || fail "SSE-C: $(jq -c . "$WORK/recs.json")"
IFS=$'\t' read -r u v < <(jq -r '.[] | select(.device_path == "/DCIM/A0002.MP4") | .copies[] | select(.target == "sealed") | "\(.path)\t\(.version_id)"' "$WORK/recs.json")
code=$(s3curl -o /dev/null -w '%{http_code}' -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u")?versionId=$v")
[ "$code" = 400 ] || fail "SSE-C: a GET without the key answered $code, not 400"
sig=$(dd if="$src/DCIM/A0002.MP4" bs=1 skip=100000 count=32 status=none | od -An -tx1 | tr -d ' \n')
found=0 n_raw=0
# the bucket's own RADOS objects: BUCKET-MARKER_KEY and its tail objects
marker=$(radosgw-admin -c "$ceph/ceph.conf" -n client.admin bucket stats --bucket=sealed | jq -r .marker)
while read -r obj; do
	rados -c "$ceph/ceph.conf" -p default.rgw.buckets.data get "$obj" "$WORK/raw.bin" 2>/dev/null || continue
	python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' "$WORK/raw.bin" "$sig" && found=1
	n_raw=$((n_raw + 1))
done < <(rados -c "$ceph/ceph.conf" -p default.rgw.buckets.data ls | grep -F "${marker}_")
[ "$n_raw" -gt 0 ] || fail "SSE-C: no RADOS objects of the bucket found to check"
[ $found = 0 ] || fail "SSE-C: the recording's plaintext is in the cluster's stored objects"
"$BUILD/dockd" -c "$WORK/sse.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || true
grep -q "target sealed: .*encryption at rest: SSE-C" "$WORK/check.out" ||
	fail "dockd --check does not report the SSE-C target's encryption: $(cat "$WORK/check.out")"
pass "SSE-C: objects encrypted with dockd's key, read back in plaintext; unreadable without the key; no plaintext in RADOS"

# An S3-only station streams into the same bucket (another prefix): a
# chunk-signed body is encrypted with the key too, and reads back in plaintext.
sed -e '/^\[target.disk\]/,/^path = /d' -e 's/^id = sse$/id = sse1\ncopies = 1/' \
	-e 's/^bucket = sealed$/bucket = sealed\nprefix = streamed/' "$WORK/sse.conf" >"$WORK/sse1.conf"
STATE=$WORK/state-sse1
ingest_rc "$img" CAM-SSE1 -c "$WORK/sse1.conf" || fail "S3-only ingest to an SSE-C target: rc $?: $(cat "$WORK/last.err")"
dockctl -c "$WORK/sse1.conf" recordings --json >"$WORK/recs.json"
jq -e 'length == 4 and all(.[]; .copies_verified == 1 and .copies[0].method == "s3-get")' "$WORK/recs.json" >/dev/null ||
	fail "SSE-C, streamed: $(jq -c . "$WORK/recs.json")"
IFS=$'\t' read -r u v < <(jq -r '.[] | select(.device_path == "/DCIM/A0002.MP4") | .copies[0] | "\(.path)\t\(.version_id)"' "$WORK/recs.json")
code=$(s3curl -o /dev/null -w '%{http_code}' -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u")?versionId=$v")
[ "$code" = 400 ] || fail "SSE-C, streamed: a GET without the key answered $code, not 400"
pass "SSE-C on an S3-only station: streamed objects encrypted with dockd's key, read back in plaintext"
STATE=$WORK/state

# 5. A hold is an S3 legal hold on the recording's object version; its
#    release removes it.
vault_copy() { dockctl "${C[@]}" recordings --json | jq -r --arg p "$1" '.[] | select(.device_path == $p) | .copies[] | select(.target == "vault") | "\(.path)\t\(.version_id)"'; }
rec_id() { dockctl "${C[@]}" recordings --json | jq --arg p "$1" '.[] | select(.device_path == $p) | .id'; }
legal_hold() { IFS=$'\t' read -r u v < <(vault_copy "$1"); s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u")?versionId=$v" | tr -d '\r' | sed -n 's/^x-amz-object-lock-legal-hold: //Ip'; }
A=$(rec_id /DCIM/A0001.MP4)
dockctl "${C[@]}" hold add "$A" --reason "complaint 7" >/dev/null || fail "hold add failed"
[ "$(legal_hold /DCIM/A0001.MP4)" = ON ] || fail "hold add: the object's legal hold is '$(legal_hold /DCIM/A0001.MP4)', not ON"
dockctl "${C[@]}" hold remove 1 --reason "closed" >/dev/null || fail "hold remove failed"
[ "$(legal_hold /DCIM/A0001.MP4)" = OFF ] || fail "hold remove: the object's legal hold is '$(legal_hold /DCIM/A0001.MP4)', not OFF"
# a longer retention class lengthens the object's lock
until_of() { IFS=$'\t' read -r u v < <(vault_copy "$1"); s3curl -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u")?versionId=$v" | tr -d '\r' | sed -n 's/^x-amz-object-lock-retain-until-date: //Ip'; }
dockctl "${C[@]}" retention class "$A" evidence --reason "case 7" >/dev/null || fail "retention class failed"
[[ "$(until_of /DCIM/A0001.MP4)" == "$(date -u -d '+24 months' +%Y-%m)"* ]] ||
	fail "a 24-month class did not lengthen the object's lock: $(until_of /DCIM/A0001.MP4)"
dockctl "${C[@]}" recordings --json | jq -e --argjson a "$A" '.[] | select(.id == $a) | .copies[] | select(.target == "vault") |
	.retain_until | startswith("'"$(date -u -d '+24 months' +%Y-%m)"'")' >/dev/null || fail "the ledger does not follow the longer lock"
pass "hold add sets the object version's legal hold; its release clears it; a longer retention class lengthens its lock"

# 6. Scrub reads object copies by GET. A version removed behind dockd's back
#    (an admin's governance bypass) is found missing and uploaded anew from
#    the filesystem copy; a filesystem copy deleted is restored from the
#    bucket; the ledger follows the new version.
IFS=$'\t' read -r u v < <(vault_copy /DCIM/A0002.MP4)
s3curl -X DELETE -H "x-amz-bypass-governance-retention: true" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	"$S3_ENDPOINT/$(uri "$u")?versionId=$v" || fail "cannot remove the version with the governance bypass"
rm "$(dockctl "${C[@]}" recordings --json | jq -r '.[] | select(.device_path == "/DCIM/note 1.txt") | .copies[] | select(.target == "disk") | .path')"
rc=0
dockctl "${C[@]}" scrub --json >"$WORK/scrub.json" 2>"$WORK/scrub.err" || rc=$?
[ $rc = 0 ] && jq -e '.missing == 2 and .repaired == 2 and .lost == 0' "$WORK/scrub.json" >/dev/null ||
	fail "scrub with a missing version and a missing file: rc $rc: $(cat "$WORK/scrub.json" "$WORK/scrub.err")"
IFS=$'\t' read -r u2 v2 < <(vault_copy /DCIM/A0002.MP4)
[ "$v2" != "$v" ] && [ -n "$v2" ] || fail "the ledger still names the removed version $v"
sha=$(dockctl "${C[@]}" recordings --json | jq -r '.[] | select(.device_path == "/DCIM/A0002.MP4") | .sha256')
[ "$(s3curl -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u2")?versionId=$v2" | sha256_hex)" = "$sha" ] ||
	fail "the new version does not hold the recording"
dockctl "${C[@]}" scrub --json >"$WORK/scrub2.json" 2>"$WORK/scrub2.err" || true
jq -e ".ok == .copies and .copies > 0 and .missing == 0 and .mismatch == 0" "$WORK/scrub2.json" >/dev/null || fail "a second scrub still finds faults: $(cat "$WORK/scrub2.json" "$WORK/scrub2.err")"
pass "scrub: a removed object version re-uploaded (new version in the ledger), a deleted file restored from the bucket"

# 7. Destruction of a recording past its retention is refused while its
#    object version is still locked, before any copy is touched.
# a second due recording whose object the test build locks for 3 s only
mkdir -p "$WORK/s5/DCIM"
head -c $((1 << 20)) /dev/urandom >"$WORK/s5/DCIM/OLD2_20260105090000.MP4"
make_fat32 "$WORK/r5.img" 40 "$WORK/s5"
DOCKD_TEST_S3_RETAIN_S=3 ingest_rc "$WORK/r5.img" CAM-S3D "${C[@]}" || fail "ingest of OLD2: rc $?: $(cat "$WORK/last.err")"
serve_dockd "$WORK/dockd.conf"
OLD=$(rec_id /DCIM/OLD_20260105080000.MP4)
disk_copy=$(dockctl "${C[@]}" recordings --json | jq -r --argjson r "$OLD" '.[] | select(.id == $r) | .copies[] | select(.target == "disk") | .path')
dockctl "${C[@]}" destroy request "$OLD" --reason "retention expired" >/dev/null 2>"$WORK/req.err" || fail "request refused: $(cat "$WORK/req.err")"
rc=0
runuser -u "${tag}u" -- "$BUILD/dockctl" --state "$STATE" -c "$WORK/dockd.conf" destroy approve 1 >"$WORK/approve.out" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q "locked in GOVERNANCE mode until" "$WORK/approve.out" ||
	fail "approval of a locked object: rc $rc: $(cat "$WORK/approve.out")"
[ -f "$disk_copy" ] || fail "the filesystem copy was destroyed although the object copy is locked"
dockctl "${C[@]}" destroy list --json | jq -e '.[0].state == "pending"' >/dev/null || fail "the request did not stay pending"
OLD2=$(rec_id /DCIM/OLD2_20260105090000.MP4)
IFS=$'\t' read -r u2 v2 < <(vault_copy /DCIM/OLD2_20260105090000.MP4)
disk2=$(dockctl "${C[@]}" recordings --json | jq -r --argjson r "$OLD2" '.[] | select(.id == $r) | .copies[] | select(.target == "disk") | .path')
sleep 4 # past its lock
dockctl "${C[@]}" destroy request "$OLD2" --reason "retention expired" >/dev/null 2>"$WORK/req.err" || fail "request refused: $(cat "$WORK/req.err")"
runuser -u "${tag}u" -- "$BUILD/dockctl" --state "$STATE" -c "$WORK/dockd.conf" destroy approve 2 >"$WORK/approve.out" 2>&1 ||
	fail "approval once the lock has passed: $(cat "$WORK/approve.out")"
code=$(s3curl -o /dev/null -w '%{http_code}' -I -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$(uri "$u2")?versionId=$v2")
[ "$code" = 404 ] || fail "the destroyed object version still answers HEAD with $code"
[ ! -e "$disk2" ] || fail "the destroyed recording's filesystem copy is still there"
dockctl "${C[@]}" audit --json | jq -e '[.[] | select(.action == "destroy")][-1].why | test("vault: object version deleted")' >/dev/null ||
	fail "the audit does not say the object version was deleted"
pass "destroy approve: refused while the object version is locked, naming until when, no copy touched; once the lock has passed, the version deleted"

# 8. Clear errors: an unlocked bucket, wrong keys, credentials others can read
#    (the field kit again: dockd read its configuration when it started).
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
bad() { # bad WHAT PATTERN
	local rc=0
	ingest_rc "$img" CAM-BAD "${C[@]}" || rc=$?
	[ $rc != 0 ] && grep -q "$2" "$WORK/last.err" || fail "$1: rc $rc, message: $(cat "$WORK/last.err")"
}
rc=0
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || rc=$?
[ $rc = 0 ] && grep -q "target vault: write-once (Object Lock GOVERNANCE proven)" "$WORK/check.out" ||
	fail "dockd --check on a locked bucket: rc $rc: $(cat "$WORK/check.out")"
# a new, empty catalog pointed at a bucket prefix that holds another
# catalog's copies: refused (a lost catalog never starts over silently)
conf evidence "$WORK/s3.cred"
mkdir -p "$WORK/disk-new"
sed "s|^path = $WORK/disk\$|path = $WORK/disk-new|" "$WORK/dockd.conf" >"$WORK/new.conf"
STATE=$WORK/state-new
rc=0
ingest_rc "$img" CAM-NEW -c "$WORK/new.conf" || rc=$?
grep -q "target vault (s3://evidence/station-7) keeps the copies of catalog .*, but this catalog is .*: the ledger of those copies is not here" \
	"$WORK/last.err" || fail "a new catalog on a bucket of another's copies: rc $rc: $(cat "$WORK/last.err")"
STATE=$WORK/state
conf unlocked "$WORK/s3.cred"
bad "an unlocked bucket" "target vault.*bucket unlocked.*Object Lock"
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || true
grep -q "target vault.*bucket unlocked: versioning is off; Object Lock needs" "$WORK/check.out" ||
	fail "dockd --check on an unlocked bucket does not say so: $(cat "$WORK/check.out")"
printf 'access_key_id = %s\nsecret_access_key = wrong\n' "$S3_ACCESS_KEY" >"$WORK/wrong.cred"
chmod 0600 "$WORK/wrong.cred"
conf evidence "$WORK/wrong.cred"
bad "a wrong secret" "target vault.*access denied"
# a bucket without Object Lock, taken on purpose (object_lock = off): copies
# are made, but the target is not called write-once and its alarm is raised
conf unlocked "$WORK/s3.cred"
sed -e 's/^object_lock = governance$/object_lock = off/' -e 's/^\[target.vault\]$/[target.unlocked]/' "$WORK/dockd.conf" >"$WORK/off.conf"
"$BUILD/dockd" -c "$WORK/off.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || true
grep -q "target unlocked: not write-once: object_lock = off" "$WORK/check.out" ||
	fail "dockd --check does not say an unlocked target is not write-once: $(cat "$WORK/check.out")"
rc=0
dockctl -c "$WORK/off.conf" alarms >"$WORK/alarms.out" 2>&1 || rc=$?
[ $rc = 3 ] && grep -q "target-not-write-once:unlocked" "$WORK/alarms.out" ||
	fail "no target-not-write-once alarm for an unlocked target (rc $rc): $(cat "$WORK/alarms.out")"
chmod 0644 "$WORK/s3.cred"
conf evidence "$WORK/s3.cred"
bad "credentials readable by others" "s3.cred can be read by others"
chmod 0600 "$WORK/s3.cred"
pass "a new catalog on a bucket prefix of another catalog's copies refused; unlocked bucket, wrong secret, readable credentials: each refused, naming what is wrong; object_lock = off: not write-once, alarm raised"

# TLS and DNS: RGW behind nginx with HTTPS from a test CA. With ca_file the
# station works over TLS; without it, or with another CA's, and with a host
# name that does not resolve, `dockd --check` and an ingest say which it is.
# (Name lookups go to 127.0.0.1 only, in a mount namespace of their own.)
source "$HERE/../lib/archive.sh"
pki=$WORK/pki
mkdir -p "$pki" "$WORK/ngx/tmp" "$WORK/ngx/logs"
(
	cd "$pki"
	archive_ca ca
	archive_ca other-ca
	archive_cert server 127.0.0.1 ca IP:127.0.0.1
)
tport=$(archive_free_port)
cat >"$WORK/ngx/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $WORK/ngx/tmp;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:$tport ssl;
        ssl_certificate $pki/server.crt;
        ssl_certificate_key $pki/server.key;
        location / {
            proxy_pass $S3_ENDPOINT;
            proxy_set_header Host \$http_host;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
        }
    }
}
CONF
nginx -p "$WORK/ngx" -c "$WORK/ngx/nginx.conf" -g 'daemon off;' >>"$WORK/ngx/logs/stderr" 2>&1 </dev/null &
at_exit "kill $! 2>/dev/null"
for ((i = 0; i < 50; i++)); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $tport), 1)" 2>/dev/null && break
	sleep 0.1
done
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
local_dns() { unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$WORK/resolv.conf" "$@"; }
tls_conf() { # tls_conf ENDPOINT [CA_FILE]
	conf evidence "$WORK/s3.cred"
	sed -i "s|^endpoint = .*|endpoint = $1|" "$WORK/dockd.conf"
	[ -z "${2:-}" ] || printf 'ca_file = %s\n' "$2" >>"$WORK/dockd.conf"
}
check_says() { # check_says WHAT PATTERN
	local rc=0
	local_dns "$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || rc=$?
	grep -q "$2" "$WORK/check.out" && grep -q "1 of 2 targets up" "$WORK/check.out" ||
		fail "dockd --check, $1: rc $rc: $(cat "$WORK/check.out")"
}
tls_conf "https://127.0.0.1:$tport" "$pki/ca.crt"
rc=0
local_dns "$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || rc=$?
[ $rc = 0 ] && grep -q "target vault: write-once (Object Lock GOVERNANCE proven)" "$WORK/check.out" ||
	fail "dockd --check over TLS with ca_file: rc $rc: $(cat "$WORK/check.out")"
mkdir -p "$WORK/tls/DCIM"
head -c $((1 << 20)) /dev/urandom >"$WORK/tls/DCIM/T0001_20261125080000.MP4"
make_fat32 "$WORK/tls.img" 40 "$WORK/tls"
ingest_rc "$WORK/tls.img" CAM-TLS "${C[@]}" || fail "ingest over TLS: $(cat "$WORK/last.err")"
dockctl "${C[@]}" recordings --device CAM-TLS --json | jq -e '.[0].copies_verified == 2' >/dev/null ||
	fail "ingest over TLS: not two copies: $(dockctl "${C[@]}" recordings --device CAM-TLS --json)"
tls_conf "https://127.0.0.1:$tport"
check_says "no ca_file" "target vault.*SSL certificate problem.*(TLS: the server's certificate is not trusted or not for this name; set ca_file"
tls_conf "https://127.0.0.1:$tport" "$pki/other-ca.crt"
check_says "another CA" "target vault.*SSL certificate problem.*(TLS: the server's certificate is not trusted"
tls_conf "https://rgw.invalid:$tport" "$pki/ca.crt"
check_says "a host name that does not resolve" "target vault.*rgw.invalid.*(DNS: the endpoint's host name does not resolve"
rc=0
local_dns "$BUILD/dockctl" --state "$STATE" "${C[@]}" ingest --image "$WORK/tls.img" --serial CAM-DNS --json \
	>"$WORK/last.json" 2>"$WORK/last.err" || rc=$?
grep -q "rgw.invalid.*DNS: the endpoint's host name does not resolve" "$WORK/last.err" ||
	fail "an ingest with an endpoint that does not resolve: rc $rc: $(cat "$WORK/last.err")"
conf evidence "$WORK/s3.cred"
pass "TLS: RGW behind HTTPS works with ca_file (write-once proven, two copies); no ca_file, another CA's, and a host name that does not resolve are each named (TLS, DNS) by --check and by an ingest"
