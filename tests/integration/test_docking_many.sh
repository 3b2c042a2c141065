#!/bin/bash
# Shift end: 16 recorders docked at once all complete with correct copies;
# at most max_parallel (8) ingest at a time and the rest start in dock order.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HARNESS_CHILD_OUT=$WORK/harness.out
N=16

imgs=()
for i in $(seq 1 $N); do
	d=$WORK/src$i
	mkdir -p "$d/DCIM"
	make_clip "$d/DCIM/R${i}_0001.MP4" 1 "2026-11-25T08:$(printf %02d "$i"):00Z"
	head -c $((16 << 20)) /dev/urandom >"$d/DCIM/R${i}_0002.MP4"
	make_fat32 "$WORK/r$i.img" 64 "$d"
	imgs+=("$WORK/r$i.img")
done
# Each recorder behind its own 20 MB/s link, so ingests overlap.
mkdir -p "$WORK/mnt"
FAULTYFS_BPS=20000000 "$BUILD/tests/faultyfs" -m "$WORK/mnt" "${imgs[@]}" &
at_exit "fusermount -u -z '$WORK/mnt' 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -e "$WORK/mnt/disk$N.img" ] && break; sleep 0.1; done

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start
for i in $(seq 1 $N); do
	harness_cmd add "$i" f055 d0c0 "CAM-$(printf %02d "$i")" "$WORK/mnt/disk$i.img" >/dev/null
done
wait_status "[.bays[] | select(.state == \"complete\" and .safe_to_remove)] | length == $N" 180

for i in $(seq 1 $N); do
	serial=CAM-$(printf %02d "$i")
	[ "$(check_catalog_against_disk "$WORK/r$i.img" "$serial")" = 2 ] || fail "$serial: recordings missing"
	jq -e 'all(.[]; (.copies | length) == 2)' "$WORK/recs.json" >/dev/null || fail "$serial: a copy is missing"
done
no_partials_left
pass "$N recorders docked at once: all complete, every copy verified against the device"

# From the log: how many ingested at once, and in which order they started.
awk '/ serial CAM-[0-9]+ docked \(/ { n++; if (n > max) max = n; order = order " " $0 }
     /: CAM-[0-9]+: complete/ { n-- }
     END { print max }' "$WORK/dockd.log" >"$WORK/max"
max=$(cat "$WORK/max")
[ "$max" -le 8 ] || fail "$max ingests ran at once; max_parallel is 8"
[ "$max" -ge 2 ] || fail "ingests did not overlap (at most $max at once)"
started=$(grep -o 'ingest starting (CAM-[0-9]*' "$WORK/dockd.log" | grep -o 'CAM-[0-9]*' | tr '\n' ' ')
docked=$(for i in $(seq 1 $N); do printf 'CAM-%02d ' "$i"; done)
[ "$started" = "$docked" ] || fail "recorders did not start in dock order: $started"
pass "at most 8 ingesting at once (peak $max), the rest started in dock order"
