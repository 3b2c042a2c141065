#!/bin/bash
# How to drive bayharness from a bash test (the pattern the integration tests
# use), and a self-check of the simulation: a preloaded usbprobe must see a
# coldplugged recorder through libudev, libusb and open()+read(), then the
# hotplug events of a second one docking and the first one leaving, and 16
# bays docked at once.
#
#   tests/tools/harness-demo.sh [BUILD_DIR]      (default: ./build)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "${1:-${DOCKD_BUILD:-$HERE/../../build}}" && pwd)
# shellcheck source=../lib/harness.sh
source "$HERE/../lib/harness.sh"

WORK=$(mktemp -d /tmp/harness-demo.XXXXXX)
trap 'harness_stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A recorder volume: FAT32 as mkfs.fat writes it.
truncate -s 40M "$WORK/x.img"
mkfs.fat -F 32 "$WORK/x.img" >/dev/null
want=$(head -c16 "$WORK/x.img" | xxd -p)

harness_start "$BUILD/tests/bayharness"
echo "testbed: $HARNESS_DIR"

harness_cmd add 1 1234 5678 ABC123 "$WORK/x.img" # -> added 1 /dev/sdb1

# The probe's stdout shares the reply pipe: lines that are not replies land in
# $HARNESS_CHILD_OUT while harness_cmd reads.
HARNESS_CHILD_OUT=$WORK/probe.out
: >"$HARNESS_CHILD_OUT"
harness_cmd spawn "$BUILD/tests/usbprobe" 3 # -> spawned PID
harness_cmd echo synced                     # any time: a round trip
sleep 1
harness_cmd add 2 1234 5679 DEF456 "$WORK/x.img" # -> added 2 /dev/sdc1
harness_cmd remove 1                             # -> removed 1
harness_cmd wait                                 # -> exited 0, after 3 s
cat "$WORK/probe.out"

grep -qx "part /dev/sdb1 fs=vfat usb=1234:5678 udev_serial=ABC123 libusb_serial=ABC123 bay=pci-0000:00:14.0-usb-0:1:1.0 first_bytes=$want" \
	"$WORK/probe.out" || fail "coldplugged recorder not seen as expected"
for ev in "add usb /dev/bus/usb/001/003" "add block /dev/sdc" "add block /dev/sdc1" \
	"remove block /dev/sdb1" "remove block /dev/sdb" "remove usb /dev/bus/usb/001/002"; do
	grep -qx "uevent $ev" "$WORK/probe.out" || fail "missing uevent $ev"
done
grep -q "^hotpart /dev/sdc1 .* libusb_serial=DEF456 " "$WORK/probe.out" || fail "hotplugged serial not read via libusb"
echo "ok: coldplug, libusb serial, image bytes, hotplug add/remove"

# 16 bays at once, each with its own serial and image.
harness_cmd remove 2
for i in $(seq 3 18); do
	printf 'BAY%02d-IMAGE-DATA' "$i" >"$WORK/bay$i.img"
	truncate -s 1M "$WORK/bay$i.img"
	harness_cmd add "$i" 1234 5678 "SN$i" "$WORK/bay$i.img" >/dev/null
done
: >"$HARNESS_CHILD_OUT"
harness_cmd spawn "$BUILD/tests/usbprobe" 0
harness_cmd wait
for i in $(seq 3 18); do
	hex=$(head -c16 "$WORK/bay$i.img" | xxd -p)
	grep -q "udev_serial=SN$i libusb_serial=SN$i bay=pci-0000:00:14.0-usb-0:$i:1.0 first_bytes=$hex\$" \
		"$WORK/probe.out" || fail "bay $i not seen with its serial and image"
done
[ "$(grep -c '^part ' "$WORK/probe.out")" = 16 ] || fail "expected 16 partitions"
echo "ok: 16 bays"

# EOF: bayharness SIGTERMs a running child, reports it, exits 0.
harness_cmd spawn sleep 60
harness_stop # -> exited 143
echo "PASS"
