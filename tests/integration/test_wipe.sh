#!/bin/bash
# [policy] wipe = verified: a recorder whose every recording has its two
# verified copies is reformatted with its own filesystem, FAT size and label
# before it is "safe to remove", and the wipe is recorded; one whose copies
# are not all verified (a target down) is not touched, and status says why.
source "$(dirname "$0")/common.sh"
# shellcheck source=../lib/harness.sh
source "$HERE/../lib/harness.sh"

conf=$WORK/dockd.conf
printf '[policy]\nwipe = verified\n[metrics]\nlisten = off\n' >"$conf"
for n in W1 W2; do
	mkdir -p "$WORK/src-$n/DCIM"
	make_clip "$WORK/src-$n/DCIM/${n}_0001.MP4" 1 2026-11-25T08:00:00Z
	make_fat32 "$WORK/$n.img" 40 "$WORK/src-$n"
done
harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"

harness_cmd add 1 f055 d0c0 CAM-W1 "$WORK/W1.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-W1") | .state == "complete" and .safe_to_remove' 60
dockctl recordings --device CAM-W1 --json | jq -e '.[0].copies | length == 2' >/dev/null || fail "W1 lacks its copies"
bay_of CAM-W1 | jq -e '.wipe | test("^wiped: .* reformatted vfat FAT32, label .RECORDER.")' >/dev/null ||
	fail "status does not show the wipe: $(bay_of CAM-W1)"
mdir -i "$WORK/W1.img" :: 2>&1 | grep -q "No files" || fail "W1 still holds files: $(mdir -i "$WORK/W1.img" ::)"
mdir -i "$WORK/W1.img" :: 2>&1 | grep -q "Volume in drive : is RECORDER" || fail "W1's label was not kept"
file -s "$WORK/W1.img" | grep -q "FAT (32 bit)" || fail "W1 is no longer FAT32: $(file -s "$WORK/W1.img")"
dockctl sessions --device CAM-W1 --json | jq -e '.[0].wiped_at != null and (.[0].wipe | startswith("wiped"))' >/dev/null ||
	fail "wipe not recorded on the session"
dockctl audit --json | jq -e 'any(.[]; .action == "wipe" and .object == "device CAM-W1 session 1")' >/dev/null ||
	fail "wipe not audited"
pass "every recording verified twice: the recorder was reformatted (FAT32, label kept), then safe to remove; recorded and audited"

mv "$STATE/targets/b/.dockd-target" "$WORK/marker"      # target b down: copies cannot all be verified
harness_cmd add 2 f055 d0c0 CAM-W2 "$WORK/W2.img" >/dev/null
wait_status '.bays[] | select(.serial == "CAM-W2") | .state != "ingesting" and .state != "docked" and .state != "identifying"' 60
bay_of CAM-W2 | jq -e '.wipe | startswith("not wiped")' >/dev/null || fail "W2: no reason shown: $(bay_of CAM-W2)"
mdir -i "$WORK/W2.img" ::/DCIM 2>&1 | grep -q "W2_0001" || fail "W2 was wiped although its copies are not all verified"
dockctl status | grep -q "not wiped" || fail "dockctl status does not say why W2 was not wiped"
mv "$WORK/marker" "$STATE/targets/b/.dockd-target"
pass "a recorder whose recordings are not all verified twice is not touched; status says why ($(bay_of CAM-W2 | jq -r .wipe))"

# Damaged or hostile recorders (issue #12): whatever could not be read, walked
# or told apart keeps the session incomplete, so none of them is wiped or
# called safe to remove, although every file that could be read has its two
# verified copies.
FE=(python3 "$HERE/../lib/fatedit.py")
n=3
for damage in lost-clusters broken-dir-chain bad-entry-set; do
	mkdir -p "$WORK/src-$damage/DCIM"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do head -c 3000 /dev/urandom >"$WORK/src-$damage/DCIM/C$i.MP4"; done
	img=$WORK/$damage.img
	case $damage in
	lost-clusters) make_fat32 "$img" 40 "$WORK/src-$damage" && "${FE[@]}" "$img" lost-chain 2 >/dev/null ;;
	broken-dir-chain) make_fat32 "$img" 40 "$WORK/src-$damage" && "${FE[@]}" "$img" break-dir-chain /DCIM ;;
	bad-entry-set) make_exfat "$img" 16 "$WORK/src-$damage" && "${FE[@]}" "$img" break-checksum /DCIM/C3.MP4 ;;
	esac
	before=$(sha256_hex <"$img")
	harness_cmd add $n f055 d0c0 "CAM-D$n" "$img" >/dev/null
	wait_status ".bays[] | select(.serial == \"CAM-D$n\") | .state != \"ingesting\" and .state != \"docked\" and .state != \"identifying\"" 60
	bay_of "CAM-D$n" | jq -e '.state == "incomplete" and (.safe_to_remove | not) and (.wipe | startswith("not wiped"))
		and (.error | test("not all of the device was read"))' >/dev/null ||
		fail "$damage: the bay: $(bay_of "CAM-D$n")"
	[ "$(sha256_hex <"$img")" = "$before" ] || fail "$damage: the recorder was written to"
	pass "a recorder with $damage: incomplete, not safe to remove, not wiped, untouched; the bay says why"
	n=$((n + 1))
done
