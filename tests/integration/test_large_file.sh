#!/bin/bash
# A recording over 4 GiB on exFAT (FAT32 cannot hold one) is pulled whole:
# 64-bit sizes and offsets all the way from libtsk to both verified copies,
# with memory bounded by the pipeline, not the file.
source "$(dirname "$0")/common.sh"

size=$((4608 << 20))    # 4.5 GiB
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 2 2026-11-25T08:00:00Z
img=$WORK/big.img
make_exfat "$img" 5200 "$src"
exfat_add_sparse_file "$img" /DCIM/LONG0002.MP4 "$size"
make_sparse_file "$WORK/expected" "$size"
want=$(sha256sum <"$WORK/expected" | cut -d' ' -f1)

ingest_rc "$img" CAM-4G || fail "exit $?: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = complete ] && [ "$(last .files_copied)" = 2 ] || fail "not complete: $(cat "$WORK/last.json")"
dockctl recordings --json >"$WORK/recs.json"
rec=$(jq -c '.[] | select(.device_path == "/DCIM/LONG0002.MP4")' "$WORK/recs.json")
[ "$(jq .size <<<"$rec")" = "$size" ] || fail "size recorded as $(jq .size <<<"$rec"), want $size"
[ "$(jq -r .sha256 <<<"$rec")" = "$want" ] || fail "SHA-256 $(jq -r .sha256 <<<"$rec"), the file's is $want"
for copy in $(jq -r '.copies[].path' <<<"$rec"); do
	[ "$(stat -c %s "$copy")" = "$size" ] || fail "copy $copy is $(stat -c %s "$copy") bytes"
	cmp -s "$copy" "$WORK/expected" || fail "copy $copy differs from the recording"
done
rss=$(last .peak_rss_kib)
[ "$rss" -lt $((512 << 10)) ] || fail "peak RSS ${rss} KiB for a 4.5 GiB file: memory is not bounded"
pass "4.5 GiB exFAT recording: size, SHA-256 and both copies exact (peak RSS $((rss >> 10)) MiB)"
