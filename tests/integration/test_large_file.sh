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
# same_as EXPECTED FILE...: prints EXPECTED's SHA-256, or names the first FILE
# that differs from it and where. EXPECTED's holes are zeros without reading
# them, and the FILEs are read with O_DIRECT in 8 MiB reads: through the page
# cache (cmp, openssl), 4.5 GiB took 10-13 s each on this machine.
same_as() {
	python3 - "$@" <<'PY'
import hashlib, mmap, os, sys
names, n = sys.argv[1:], 8 << 20
exp = os.open(names[0], os.O_RDONLY)
size = os.fstat(exp).st_size
fds = [os.open(p, os.O_RDONLY | os.O_DIRECT) for p in names[1:]]
bufs = [mmap.mmap(-1, n) for _ in fds]
zeros, h = bytes(n), hashlib.sha256()
for off in range(0, size, n):
    k = min(n, size - off)
    try:
        data = os.lseek(exp, off, os.SEEK_DATA) < off + k
    except OSError:  # ENXIO: only a hole from here to the end
        data = False
    want = os.pread(exp, k, off) if data else zeros if k == n else zeros[:k]
    h.update(want)
    for name, fd, b in zip(names[1:], fds, bufs):
        if os.preadv(fd, [b], off) != k or b[:k] != want:
            sys.exit("%s differs from %s in the 8 MiB from byte %d" % (name, names[0], off))
for name, fd in zip(names[1:], fds):
    if os.fstat(fd).st_size != size:
        sys.exit("%s is %d bytes, %s %d" % (name, os.fstat(fd).st_size, names[0], size))
print(h.hexdigest())
PY
}
want=$(same_as "$WORK/expected") || fail "cannot hash $WORK/expected"

ingest_rc "$img" CAM-4G || fail "exit $?: $(tail -3 "$WORK/last.err")"
[ "$(last .state)" = complete ] && [ "$(last .files_copied)" = 2 ] || fail "not complete: $(cat "$WORK/last.json")"
dockctl recordings --json >"$WORK/recs.json"
rec=$(jq -c '.[] | select(.device_path == "/DCIM/LONG0002.MP4")' "$WORK/recs.json")
[ "$(jq .size <<<"$rec")" = "$size" ] || fail "size recorded as $(jq .size <<<"$rec"), want $size"
[ "$(jq -r .sha256 <<<"$rec")" = "$want" ] || fail "SHA-256 $(jq -r .sha256 <<<"$rec"), the file's is $want"
mapfile -t copies < <(jq -r '.copies[].path' <<<"$rec")
[ "${#copies[@]}" = 2 ] || fail "${#copies[@]} copies recorded, not 2: $rec"
for copy in "${copies[@]}"; do
	[ "$(stat -c %s "$copy")" = "$size" ] || fail "copy $copy is $(stat -c %s "$copy") bytes"
done
same_as "$WORK/expected" "${copies[@]}" >/dev/null || fail "a copy differs from the recording (above)"
rss=$(last .peak_rss_kib)
[ "$rss" -lt $((512 << 10)) ] || fail "peak RSS ${rss} KiB for a 4.5 GiB file: memory is not bounded"
pass "4.5 GiB exFAT recording: size, SHA-256 and both copies exact (peak RSS $((rss >> 10)) MiB)"
