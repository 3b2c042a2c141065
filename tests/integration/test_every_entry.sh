#!/bin/bash
# Every entry accounted for (issue #12): names that libtsk rendered alike,
# entries that imitate paths, duplicates, and walks that used to skip in
# silence. Each volume is built for real (mkfs.fat + mtools, mkfs.exfat +
# exfat-fuse) and then edited entry by entry (tests/lib/fatedit.py, its own
# reader). After each ingest, the completeness oracle reads the volume
# independently: every file in use has a recording with its SHA-256 and two
# verified copies, or is named in the session's unread list.
source "$(dirname "$0")/common.sh"
FE=(python3 "$HERE/../lib/fatedit.py")

clip() { head -c "${2:-65536}" /dev/urandom >"$1"; touch -d 2026-11-25T08:00:00 "$1"; }

# run_case IMG SERIAL: ingest, then the oracle; leaves last.json, sess.json, recs.json
run_case() {
	local img=$1 serial=$2
	shift 2
	ingest_rc "$img" "$serial" "$@" || true
	dockctl sessions --device "$serial" --json >"$WORK/sess.json"
	dockctl recordings --device "$serial" --json >"$WORK/recs.json"
	local base
	for base in ${ORACLE_BASES:-0}; do
		"${FE[@]}" "${ORACLE_IMG:-$img}" --base "$base" oracle "$WORK/recs.json" "$WORK/sess.json" >"$WORK/oracle.json" ||
				fail "$serial: files on the volume have no verified copies and are not named: $(cat "$WORK/oracle.json"); session: $(jq -c '.[-1]' "$WORK/sess.json")"
	done
	# every verified copy holds its recording's bytes
	local sha c
	while read -r sha c; do
		[ -f "$c" ] || fail "$serial: the catalog lists copy $c, which is not there"
		[ "$(sha256_hex <"$c")" = "$sha" ] || fail "$serial: copy $c does not hash to $sha"
	done < <(jq -r '.[] | .sha256 as $s | .copies[] | $s + " " + .path' "$WORK/recs.json")
}
state() { jq -r '.[-1].state' "$WORK/sess.json"; }
unread_has() { jq -e --arg p "$1" '.[-1].unread | any(contains($p))' "$WORK/sess.json" >/dev/null; }
expect_incomplete() {
	local what=$1 pattern=$2
	[ "$(state)" = incomplete ] || fail "$what: session is $(state), not incomplete: $(jq -c '.[-1]' "$WORK/sess.json")"
	unread_has "$pattern" || fail "$what: the reason does not say '$pattern': $(jq -c '.[-1].unread' "$WORK/sess.json")"
	[ "$(jq -r '.safe_to_remove // empty' "$WORK/last.json")" != true ] || fail "$what: called safe to remove"
}
paths() { jq -r '.[].device_path' "$WORK/recs.json" | sort; }

# ---- 1. 8.3 names in GBK with no long name (what Chinese-market recorders write)
src=$WORK/gbk
mkdir -p "$src/DCIM"
for n in ALPHA001 BETA0001 GAMMA001; do clip "$src/DCIM/$n.MP4"; done
img=$WORK/gbk.img
make_fat32 "$img" 40 "$src"
"${FE[@]}" "$img" set-sfn /DCIM/ALPHA001.MP4 "$(printf '录像0001' | iconv -t GBK | xxd -p)4d5034"
"${FE[@]}" "$img" set-sfn /DCIM/BETA0001.MP4 "$(printf '视频0001' | iconv -t GBK | xxd -p)4d5034"
"${FE[@]}" "$img" set-sfn /DCIM/GAMMA001.MP4 "fffe3030303030314d5034"
fsck.fat -n "$img" >/dev/null 2>&1 || true
run_case "$img" CAM-GBK
[ "$(state)" = complete ] || fail "GBK names: session $(state): $(jq -c '.[-1].unread' "$WORK/sess.json")"
want=$(printf '%s\n' '/DCIM/\xFF\xFE000001.MP4' '/DCIM/录像0001.MP4' '/DCIM/视频0001.MP4' | sort)
[ "$(paths)" = "$want" ] || fail "GBK names: recorded as $(paths | tr '\n' ' '), want $(echo "$want" | tr '\n' ' ')"
raw=$(sqlite3 "$STATE/catalog.sqlite" "SELECT hex(raw_name) FROM recordings WHERE device_path = '/DCIM/录像0001.MP4'")
[ "$raw" = C2BCCFF1303030314D5034 ] || fail "GBK names: raw name bytes not kept: '$raw'"
pass "8.3 names in GBK: three distinct recordings, decoded, undecodable bytes escaped, raw bytes kept"

# a station whose recorders write Big5 says so
printf '[recorders]\ncodepage = CP950\n[station]\nstate_dir = %s\n' "$WORK/st-big5" >"$WORK/big5.conf"
"$BUILD/dockd" -c "$WORK/big5.conf" --check >/dev/null 2>&1 || fail "codepage CP950 refused by --check"
printf '[recorders]\ncodepage = NOPE-42\n' >"$WORK/badcp.conf"
out=$("$BUILD/dockd" -c "$WORK/badcp.conf" --check 2>&1) && fail "an unknown codepage was accepted"
grep -q "codepage 'NOPE-42'" <<<"$out" || fail "unknown codepage: unclear error: $out"
pass "[recorders] codepage: checked against iconv, a wrong one refused by name"

# ---- 2. long names with lone UTF-16 surrogates, '/', '.', '..', empty
src=$WORK/lfn
mkdir -p "$src/DCIM"
for n in clipab_long.mp4 clipac_long.mp4 lowsur_long.mp4 DCIMxA0001.MP4 dotname1_long.mp4 dotname2_long.mp4 emptyname_long.mp4; do clip "$src/$n"; done
clip "$src/DCIM/A0001.MP4"
img=$WORK/lfn.img
make_fat32 "$img" 40 "$src"
u16() { printf '%s' "$1" | iconv -t UTF-16LE | xxd -p | fold -w4 | sed 's/\(..\)\(..\)/\2\1/' | paste -sd,; }
"${FE[@]}" "$img" set-lfn /clipab_long.mp4 "$(u16 clip),D800,$(u16 b.mp4)"
"${FE[@]}" "$img" set-lfn /clipac_long.mp4 "$(u16 clip),D800,$(u16 c.mp4)"
"${FE[@]}" "$img" set-lfn /lowsur_long.mp4 "$(u16 low),DC00,$(u16 .mp4)"
"${FE[@]}" "$img" set-lfn /DCIMxA0001.MP4 "$(u16 DCIM/A0001.MP4)"
"${FE[@]}" "$img" set-lfn /dotname1_long.mp4 "$(u16 .)"
"${FE[@]}" "$img" set-lfn /dotname2_long.mp4 "$(u16 ..)"
"${FE[@]}" "$img" set-lfn /emptyname_long.mp4 ""
run_case "$img" CAM-LFN
[ "$(state)" = complete ] || fail "odd long names: session $(state): $(jq -c '.[-1].unread' "$WORK/sess.json")"
for p in '/clip\uD800b.mp4' '/clip\uD800c.mp4' '/low\uDC00.mp4' '/DCIM\x2FA0001.MP4' '/DCIM/A0001.MP4' '/\x2E' '/\x2E\x2E'; do
	paths | grep -qxF -- "$p" || fail "odd long names: no recording at $p; have: $(paths | tr '\n' ' ')"
done
[ "$(jq length "$WORK/recs.json")" = 8 ] || fail "odd long names: $(jq length "$WORK/recs.json") recordings, want 8"
jq -e 'all(.[]; (.copies | length) == 2)' "$WORK/recs.json" >/dev/null || fail "odd long names: a recording lacks its copies"
# every copy is a file of its own inside a target, at a path no other copy has
jq -r '.[].copies[].path' "$WORK/recs.json" | sort | uniq -d | grep -q . && fail "odd long names: two copies share a path"
for c in $(jq -r '.[].copies[].path' "$WORK/recs.json"); do
	case $(realpath -m "$c") in "$STATE"/targets/[ab]/*) ;; *) fail "odd long names: copy outside a target: $c" ;; esac
done
ingest_rc "$img" CAM-LFN || fail "odd long names: re-dock exited $?"
[ "$(last .files_copied)" = 0 ] || fail "odd long names: re-dock copied $(last .files_copied) again"
pass "odd long names (lone surrogates, '/', '.', '..', empty): 8 recordings at distinct valid paths; re-dock copies nothing"

# ---- 3. the same name twice in one directory (a corrupt card), FAT32 and exFAT
src=$WORK/dup
mkdir -p "$src/DCIM"
clip "$src/DCIM/A0001.MP4"
clip "$src/DCIM/B0001.MP4"
img=$WORK/dup.img
make_fat32 "$img" 40 "$src"
"${FE[@]}" "$img" set-sfn /DCIM/B0001.MP4 "$(printf 'A0001   MP4' | xxd -p)"
run_case "$img" CAM-DUP
[ "$(paths | grep -cxF /DCIM/A0001.MP4)" = 2 ] || fail "duplicate names: not two recordings: $(paths | tr '\n' ' ')"
[ "$(jq -r '[.[].sha256] | unique | length' "$WORK/recs.json")" = 2 ] || fail "duplicate names: the two are not told apart"
jq -e '.[-1].warnings | any(contains("more than one entry has this name"))' "$WORK/sess.json" >/dev/null ||
	fail "duplicate names: the session does not say so"
pass "FAT32 duplicate names: two recordings, each with its own bytes and copies"

src=$WORK/dupx
mkdir -p "$src/DCIM"
clip "$src/DCIM/clipA.mp4"
clip "$src/DCIM/clipB.mp4"
img=$WORK/dupx.img
make_exfat "$img" 16 "$src"
"${FE[@]}" "$img" set-name /DCIM/clipB.mp4 clipA.mp4
run_case "$img" CAM-DUPX
[ "$(paths | grep -cxF /DCIM/clipA.mp4)" = 2 ] || fail "exFAT duplicate names: not two recordings: $(paths | tr '\n' ' ')"
[ "$(jq -r '[.[].sha256] | unique | length' "$WORK/recs.json")" = 2 ] || fail "exFAT duplicate names: the two are not told apart"
pass "exFAT duplicate names: two recordings"

# ---- 4. a valid long name over an 8.3 name no driver would write (a ':')
src=$WORK/colon
mkdir -p "$src"
clip "$src/longname_clip.mp4"
img=$WORK/colon.img
make_fat32 "$img" 40 "$src"
"${FE[@]}" "$img" set-sfn /longname_clip.mp4 "$(printf 'LONG:N~1MP4' | xxd -p)"
run_case "$img" CAM-COLON
paths | grep -qxF /longname_clip.mp4 || fail "long name over a bad 8.3 name: not ingested under its long name: $(paths)"
pass "a valid long name over an invalid 8.3 name is still a file"

# ---- 5. walks that cannot skip silently
src=$WORK/walk
mkdir -p "$src/DCIM"
for i in $(seq -w 1 24); do clip "$src/DCIM/CLIP00$i.MP4" 4096; done
clip "$src/ROOT0001.MP4"

# 5a. one bad sector in FAT 1, FAT 2 intact: everything is read through FAT 2
img=$WORK/fat1.img
make_fat32 "$img" 40 "$src"
off=$("${FE[@]}" "$img" fat-off 0)
FAULTYFS_BAD="$off:512" faulty_mount "$img" "$WORK/mnt-fat1"
ORACLE_IMG=$img run_case "$WORK/mnt-fat1/disk.img" CAM-FAT1
[ "$(jq -r '.verified' "$WORK/oracle.json")" = 25 ] || fail "bad FAT 1 sector: not every file read through FAT 2: $(cat "$WORK/oracle.json")"
expect_incomplete "bad FAT 1 sector" "FAT copy 1 cannot be read"
pass "a bad sector in FAT 1: all 25 files read through FAT 2, the session incomplete and says why"

# 5a'. exFAT keeps one FAT: a bad sector in it is lost, never "read from copy 2"
img=$WORK/fatx.img
make_exfat "$img" 16 "$src"
off=$("${FE[@]}" "$img" fat-off 0)
FAULTYFS_BAD="$off:512" faulty_mount "$img" "$WORK/mnt-fatx"
ORACLE_IMG=$img run_case "$WORK/mnt-fatx/disk.img" CAM-FATX
expect_incomplete "bad sector in exFAT's only FAT" "the FAT cannot be read in any copy"
unread_has "copy 2" && fail "bad sector in exFAT's only FAT: claims a second copy: $(jq -c '.[-1].unread' "$WORK/sess.json")"
pass "a bad sector in exFAT's only FAT: incomplete, and no second copy is claimed"

# 5b. a read error inside a directory, FAT32 and exFAT
for fs in fat32 exfat; do
	img=$WORK/direio-$fs.img
	if [ $fs = fat32 ]; then make_fat32 "$img" 40 "$src"; else make_exfat "$img" 16 "$src"; fi
	read -r off len < <("${FE[@]}" "$img" dir-off /DCIM)
	FAULTYFS_BAD="$off:512" faulty_mount "$img" "$WORK/mnt-dir-$fs"
	ORACLE_IMG=$img run_case "$WORK/mnt-dir-$fs/disk.img" "CAM-DIR$fs"
	expect_incomplete "EIO in a directory ($fs)" "/DCIM: directory cluster"
	jq -e 'all(.[]; .size > 0)' "$WORK/recs.json" >/dev/null || fail "EIO in a directory ($fs): a phantom recording"
	paths | grep -qxF /ROOT0001.MP4 || fail "EIO in a directory ($fs): the readable file was not taken"
	pass "a read error inside /DCIM ($fs): incomplete, named, no phantom, the rest ingested"
done

# 5c. an image cut before a directory; an exFAT size far beyond the volume
src2=$WORK/cut
mkdir -p "$src2"
clip "$src2/AAA0001.MP4" $((20 << 20))
mkdir -p "$src2/ZDIR"
clip "$src2/ZDIR/Z0001.MP4"
img=$WORK/cut.img
make_fat32 "$img" 40 "$src2"
read -r off len < <("${FE[@]}" "$img" dir-off /ZDIR)
truncate -s "$off" "$img"
run_case "$img" CAM-CUT
expect_incomplete "image cut before a directory" "/ZDIR"
pass "an image cut before /ZDIR: incomplete, the directory named"

img=$WORK/huge.img
make_exfat "$img" 16 "$src"
"${FE[@]}" "$img" set-size /DCIM/CLIP0001.MP4 $((1 << 40))
run_case "$img" CAM-HUGE
expect_incomplete "exFAT size beyond the volume" "/DCIM/CLIP0001.MP4: cannot be read"
[ "$(jq -r '.verified' "$WORK/oracle.json")" = 24 ] || fail "exFAT size beyond the volume: the other files: $(cat "$WORK/oracle.json")"
pass "an exFAT DataLength of 1 TiB: that file named unreadable, the other 24 ingested"

# 5d. a tree deeper than 128 levels
img=$WORK/deep.img
mkdir -p "$WORK/empty"
make_fat32 "$img" 40 "$WORK/empty"
p=
for i in $(seq 1 130); do p="$p/d"; mmd -i "$img" "::$p"; done
clip "$WORK/deepfile"
mcopy -i "$img" "$WORK/deepfile" "::$p/DEEP.MP4"
run_case "$img" CAM-DEEP
expect_incomplete "tree deeper than 128" "deeper than 128 levels"
pass "a tree 130 levels deep: incomplete, the place named"

# 5e. a whole disk with two FAT partitions and an ext4 one
disk=$WORK/disk.img
truncate -s 120M "$disk"
printf 'label: dos\n2048,81920,c\n83968,81920,c\n165888,,83\n' | sfdisk -q "$disk"
for part in 1 2; do
	start=$((part == 1 ? 2048 : 83968))
	mkfs.fat -F 32 --offset "$start" -n "PART$part" "$disk" $((81920 / 2)) >/dev/null 2>&1
	clip "$WORK/p$part.mp4"
	mcopy -i "$disk@@$((start * 512))" "$WORK/p$part.mp4" "::/PART$part.MP4"
done
mkfs.ext4 -q -F -E offset=$((165888 * 512)) "$disk" 20M
ORACLE_BASES="$((2048 * 512)) $((83968 * 512))" run_case "$disk" CAM-PARTS
paths | grep -qxF p1:/PART1.MP4 && paths | grep -qxF p2:/PART2.MP4 ||
	fail "two FAT partitions: not both ingested: $(paths | tr '\n' ' ')"
expect_incomplete "a partition dockd cannot read" "partition 3"
unread_has "ext4" || fail "the ext4 partition is not said to be ext4: $(jq -c '.[-1].unread' "$WORK/sess.json")"
pass "a disk with two FAT32 partitions and an ext4 one: both FAT partitions ingested, the ext4 one named"

# 5f. an exFAT directory that points back at the root
img=$WORK/loop.img
make_exfat "$img" 16 "$src"
root=$("${FE[@]}" "$img" root-cluster)
"${FE[@]}" "$img" set-first /DCIM "$root"
run_case "$img" CAM-LOOP
expect_incomplete "exFAT directory pointing at the root" "already belongs to another"
paths | grep -q '\$' && fail "exFAT system entries became recordings: $(paths | tr '\n' ' ')"
pass "an exFAT directory pointing back at the root: incomplete, named; no \$ALLOC_BITMAP or \$UPCASE_TABLE recordings"

# 5g. an entry in use with a bad entry-set checksum; a broken directory chain
img=$WORK/cks.img
make_exfat "$img" 16 "$src"
"${FE[@]}" "$img" break-checksum /DCIM/CLIP0003.MP4
run_case "$img" CAM-CKS
expect_incomplete "bad entry-set checksum" "entry set"
[ "$(dockctl deleted --device CAM-CKS --json | jq length)" = 0 ] || fail "bad entry-set checksum: filed as deleted on the device"
pass "an exFAT entry set with a bad checksum: unreadable (incomplete), never 'deleted'"

img=$WORK/dchain.img
make_fat32 "$img" 40 "$src"
"${FE[@]}" "$img" break-dir-chain /DCIM
run_case "$img" CAM-DCHAIN
expect_incomplete "broken directory chain" "/DCIM: directory cluster chain breaks"
pass "a directory whose cluster chain breaks: incomplete, named"

# 5h. clusters in use that no file owns (a recording the device never finished)
for fs in fat32 exfat; do
	img=$WORK/lost-$fs.img
	if [ $fs = fat32 ]; then make_fat32 "$img" 40 "$src"; else make_exfat "$img" 16 "$src"; fi
	"${FE[@]}" "$img" lost-chain 3 >/dev/null
	run_case "$img" "CAM-LOST$fs"
	expect_incomplete "unaccounted clusters ($fs)" "belong to no file or directory"
	[ "$(jq -r '.[-1].unaccounted_bytes' "$WORK/sess.json")" -gt 0 ] || fail "unaccounted clusters ($fs): no byte count"
	pass "3 lost clusters ($fs): incomplete, $(jq -r '.[-1].unaccounted_bytes' "$WORK/sess.json") bytes unaccounted"
done

# ---- the manifest says it too
jq -e '.session.unread | length > 0' "$STATE/archive/manifests/station/$(ls "$STATE/archive/manifests/station" | grep -c '\.json$').json" >/dev/null ||
	fail "the last manifest does not carry the unread list"
allow_alarm dockctl alarms 2>&1 | grep -q device-not-fully-read || fail "no alarm for sessions that could not read a device"
pass "the manifest carries what was not read, and the alarm is raised"

# ---- outputs that cannot be forged: a newline or an escape sequence in a
# name (the device's) or a serial (the USB descriptor's) is shown escaped
src=$WORK/forge
mkdir -p "$src"
clip "$src/forged_name_long.mp4"
img=$WORK/forge.img
make_fat32 "$img" 40 "$src"
"${FE[@]}" "$img" set-lfn /forged_name_long.mp4 "$(u16 a),000A,$(u16 '1 CAM-X 9 9'),001B,$(u16 '[2J.mp4')"
serial=$'CAM\nFORGED\e[31m'
ingest_rc "$img" "$serial" >/dev/null 2>&1 || true
for what in recordings sessions; do
	dockctl "$what" >"$WORK/$what.txt" 2>&1
	grep -q $'\e' "$WORK/$what.txt" && fail "dockctl $what prints a raw escape character"
	grep -q '^FORGED' "$WORK/$what.txt" && fail "dockctl $what: a serial with a newline forged a row"
done
grep -qF 'a\x0A1 CAM-X 9 9\x1B[2J.mp4' "$WORK/recordings.txt" || fail "the escaped name is not shown: $(cat "$WORK/recordings.txt")"
grep -qF 'CAM\x0AFORGED\x1B[31m' "$WORK/sessions.txt" || fail "the escaped serial is not shown: $(cat "$WORK/sessions.txt")"
grep -q $'\e' "$WORK/last.err" && fail "the log carries a raw escape character"
pass "names and serials with newlines and escape sequences are shown escaped in listings and logs"
