#!/bin/bash
# Encrypted at rest (issue #15): a filesystem target reports whether its
# copies are encrypted (an fscrypt policy on its directory, here ext4 on a
# loop device; or dm-crypt below it); with [policy] require_encryption = yes
# a target that is not is refused with the reason, the other still takes its
# copies; dockd --check and /metrics show each target's state; the copy on
# the encrypted target reads back as the device's bytes.
source "$(dirname "$0")/common.sh"

SMALL_EXT4_FEATURES=encrypt small_ext4_mount 64 "$WORK/enc"
at_exit "small_ext4_umount '$WORK/enc' 2>/dev/null"
head -c 32 /dev/urandom >"$WORK/fscrypt.key"
fscrypt setup --force --quiet >/dev/null 2>&1 || true
fscrypt setup "$WORK/enc" --force --quiet >/dev/null || fail "fscrypt setup on the ext4 target failed"
mkdir "$WORK/enc/t" "$WORK/plain"
fscrypt encrypt "$WORK/enc/t" --source=raw_key --name="dockd-test-$$" --key="$WORK/fscrypt.key" --quiet ||
	fail "cannot set an fscrypt policy on the target directory"
at_exit "fscrypt lock '$WORK/enc/t' >/dev/null 2>&1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/dockd.conf" <<CONF
[station]
id = enc
socket = $WORK/dockd.sock
copies = 1
[target.enc]
path = $WORK/enc/t
[target.plain]
path = $WORK/plain
[policy]
require_encryption = yes
[metrics]
listen = 127.0.0.1:$port
CONF

src=$WORK/src
mkdir -p "$src/DCIM"
head -c $((2 << 20)) /dev/urandom >"$src/DCIM/A0001.MP4"
make_fat32 "$WORK/rec.img" 40 "$src"

rc=0
"$BUILD/dockd" -c "$WORK/dockd.conf" --state "$STATE" --check >"$WORK/check.out" 2>&1 || rc=$?
grep -q "target enc: .*encryption at rest: fscrypt policy v2 on $WORK/enc/t (contents mode 1: AES-256-XTS)" "$WORK/check.out" ||
	fail "dockd --check does not say the fscrypt target is encrypted: $(cat "$WORK/check.out")"
grep -q "target plain ($WORK/plain) is not encrypted: .*require_encryption = yes refuses it" "$WORK/check.out" ||
	fail "dockd --check does not refuse the plain target with the reason: $(cat "$WORK/check.out")"

rc=0
ingest_rc "$WORK/rec.img" CAM-E -c "$WORK/dockd.conf" || rc=$?
grep -q "target plain .* is not encrypted" "$WORK/last.err" || fail "the ingest does not say why target plain is refused: $(cat "$WORK/last.err")"
[ -z "$(find "$WORK/plain" -type f -name '*.MP4')" ] || fail "a copy landed on the unencrypted target"
dockctl -c "$WORK/dockd.conf" recordings --json >"$WORK/recs.json"
jq -e 'length == 1 and .[0].copies_verified == 1 and .[0].copies[0].target == "enc"' "$WORK/recs.json" >/dev/null ||
	fail "the encrypted target did not take the copy: $(jq -c . "$WORK/recs.json")"
check_catalog_against_disk "$WORK/rec.img" CAM-E >/dev/null
pass "require_encryption: the plain target refused with the reason, the fscrypt target takes a verified copy"

serve_dockd "$WORK/dockd.conf"
for ((i = 0; i < 50; i++)); do curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/metrics" && break; sleep 0.1; done
grep -qx 'dockd_target_encrypted{target="enc"} 1' "$WORK/metrics" && grep -qx 'dockd_target_encrypted{target="plain"} 0' "$WORK/metrics" ||
	fail "/metrics does not show each target's encryption: $(grep encrypted "$WORK/metrics")"
pass "/metrics: dockd_target_encrypted 1 for the fscrypt target, 0 for the plain one"
