#!/bin/bash
# A docked recorder's FAT32 and exFAT volumes are pulled read-only: every
# recording hashed, two verified copies in a browsable layout, odd names kept,
# deleted entries recorded not ingested, and a second dock copies nothing.
source "$(dirname "$0")/common.sh"

long=$(printf 'ü%.0s' $(seq 1 125))x.mp4           # 255 bytes, 130 characters
odd="Einsatz 07 – Straße ü.mp4"
src=$WORK/src
mkdir -p "$src/DCIM/100MEDIA" "$src/EVENTS"
make_clip "$src/DCIM/100MEDIA/REC0001.MP4" 2 2026-11-25T08:00:00Z
make_clip "$src/DCIM/100MEDIA/REC0002.MP4" 3 2026-11-25T09:00:00Z
make_clip "$src/DCIM/100MEDIA/$odd" 2 2026-11-25T10:00:00Z
make_clip "$src/EVENTS/$long" 1 2026-11-25T11:00:00Z
head -c 3000000 /dev/urandom >"$src/EVENTS/=cmd() x,y.bin"   # formula-looking name, comma
: >"$src/EVENTS/EMPTY.LOG"                                    # a zero-byte file is a file too
# DOOMED.MP4 is deleted on the device after the volume is made, like a clip an
# officer erased before docking; delete last, so no later file reuses its slot.
make_clip "$src/DCIM/DOOMED.MP4" 1 2026-11-25T12:00:00Z

for fs in fat32 exfat; do
	img=$WORK/$fs.img
	serial="CAM-$fs"
	"make_$fs" "$img" 128 "$src"
	"${fs}_delete" "$img" /DCIM/DOOMED.MP4
	before=$(sha256_hex <"$img")

	ingest_rc "$img" "$serial" || fail "$fs: first ingest exited $? ($(cat "$WORK/last.err"))"
	[ "$(last .state)" = complete ] || fail "$fs: session not complete: $(cat "$WORK/last.json")"
	[ "$(last .files_copied)" = 6 ] || fail "$fs: expected 6 recordings copied, got $(last .files_copied)"
	n=$(check_catalog_against_disk "$img" "$serial")
	[ "$n" = 6 ] || fail "$fs: catalog holds $n recordings, the device 6"
	jq -e 'all(.[]; (.copies | length) == 2 and .under_copied == false)' "$WORK/recs.json" >/dev/null ||
		fail "$fs: a recording lacks its two verified copies"
	jq -e --arg odd "/DCIM/100MEDIA/$odd" 'any(.[]; .device_path == $odd)' "$WORK/recs.json" >/dev/null ||
		fail "$fs: the non-ASCII name was not kept: $(jq -r '.[].device_path' "$WORK/recs.json")"
	jq -e --arg l "/EVENTS/$long" 'any(.[]; .device_path == $l)' "$WORK/recs.json" >/dev/null ||
		fail "$fs: the 255-byte name was not kept"
	# layout: DATE/SERIAL/device path, on both targets
	copy=$(jq -r --arg odd "/DCIM/100MEDIA/$odd" '.[] | select(.device_path == $odd) | .copies[0].path' "$WORK/recs.json")
	case $copy in
	"$STATE"/targets/a/20[0-9][0-9]/[01][0-9]/[0-3][0-9]/"$serial"/DCIM/100MEDIA/"$odd") ;;
	*) fail "$fs: copy not in the DATE/SERIAL/path layout: $copy" ;;
	esac
	no_partials_left
	[ "$(sha256_hex <"$img")" = "$before" ] || fail "$fs: the device image changed during ingest"
	pass "$fs: 6 recordings, 2 verified copies each, hashes match the device"

	ingest_rc "$img" "$serial" || fail "$fs: second ingest exited $?"
	[ "$(last .files_copied)" = 0 ] && [ "$(last .files_already)" = 6 ] ||
		fail "$fs: re-dock copied again: $(cat "$WORK/last.json")"
	dockctl ingest --image "$img" --serial "$serial" | grep -q "nothing new: all 6 recording(s)" ||
		fail "$fs: re-dock does not say that nothing was new"
	files=$(find "$STATE/targets" -type f -not -name .dockd-target -path "*/$serial/*" | wc -l)
	[ "$files" = 12 ] || fail "$fs: $files files on the targets after re-dock, want 12"
	pass "$fs: re-dock copies nothing and says so"
done

# FAT32 deleted entry: recorded with its name and size, not ingested.
# On a terminal the ingest shows files, bytes, rate and ETA.
STATE=$WORK/state-tty script -qec "'$BUILD/dockctl' --state '$WORK/state-tty' ingest --image '$WORK/fat32.img' --serial TTY" \
	"$WORK/tty.log" >/dev/null
grep -q '\[6/6 files\] .* MB/s  ETA' "$WORK/tty.log" || fail "no progress line on a terminal: $(tr '\r' '\n' <"$WORK/tty.log" | tail -3)"
pass "progress on a terminal"

# Deleted entry: recorded with its name and size, not ingested. (FAT keeps
# the name but its first byte, which libtsk shows as '_'.)
for fs in fat32 exfat; do
	dockctl deleted --device "CAM-$fs" --json >"$WORK/del.json"
	jq -e 'length == 1 and (.[0].device_path | test("^/DCIM/.OOMED.MP4$")) and .[0].size > 0' "$WORK/del.json" >/dev/null ||
		fail "$fs: the deleted clip was not recorded: $(cat "$WORK/del.json")"
	dockctl recordings --device "CAM-$fs" --json | jq -e 'all(.[]; .device_path | test("OOMED") | not)' >/dev/null ||
		fail "$fs: a deleted entry was ingested as a recording"
done
pass "deleted entries listed, not ingested"

# Listings: CSV is RFC 4180 with the formula-looking name defused; sessions list both docks.
dockctl recordings --device CAM-fat32 --csv >"$WORK/r.csv"
head -1 "$WORK/r.csv" | grep -q '^id,device,device_path,size,device_mtime,sha256,copies_verified,copies' ||
	fail "CSV header wrong: $(head -1 "$WORK/r.csv")"
grep -q '"'"'"'/EVENTS/=cmd() x,y.bin"' "$WORK/r.csv" && fail "CSV cell starting with '/' should not be changed"
grep -qF '"/EVENTS/=cmd() x,y.bin"' "$WORK/r.csv" || fail "CSV did not quote a name with a comma: $(grep cmd "$WORK/r.csv")"
dockctl sessions --json | jq -e 'length == 6 and ([.[].state] | unique) == ["complete"]' >/dev/null ||
	fail "sessions list wrong: $(dockctl sessions)"
pass "listings"
