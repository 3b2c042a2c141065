# shellcheck shell=bash
# Real recorder volume images for dockd's tests, built without kernel vfat or
# exfat (CI kernels have neither): FAT32 through mtools, exFAT through
# exfat-fuse on a loop device.  Source this file; do not execute it.
#
# Every function returns non-zero after printing "images.sh: FUNC: what
# failed" on stderr, so it fails loudly whether or not the caller runs under
# `set -e` (which bash ignores inside `if f; then` and `f || ...`).
#
# Needs root (losetup, mount, cgroups) and the packages in scripts/deps.

# mtools refuses images it did not make itself without this, and converts
# names through the locale: under LANG=C it mangles every non-ASCII name.
export MTOOLS_SKIP_CHECK=1
_IMG_LOCALE=C.UTF-8

_img_fail() {
	echo "images.sh: ${FUNCNAME[1]}: $*" >&2
	return 1
}

# Run a command quietly; on failure show what it said, so the caller's log
# names the step instead of a bare exit status.
_img_run() {
	local what=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "images.sh: ${FUNCNAME[1]}: $what failed (exit $rc): $*" >&2
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /' >&2
		return "$rc"
	fi
}

# sha256_hex [FILE]: the SHA-256 of FILE, or of standard input, in hex.
# OpenSSL's, which uses the CPU's SHA instructions: coreutils' sha256sum does
# not, and hashes about a fifth as fast here (260 MB/s against 1.3 GB/s).
# shellcheck disable=SC2120 # the file is optional
sha256_hex() {
	local out
	out=$(openssl dgst -sha256 -r "$@") || { _img_fail "openssl dgst -sha256 $* failed"; return 1; }
	printf '%s\n' "${out:0:64}"
}

_img_need_file() {
	[ -f "$1" ] || { echo "images.sh: ${FUNCNAME[1]}: no such image: $1" >&2; return 1; }
}

_img_size_mb_ok() {
	case $1 in
	'' | *[!0-9]*) echo "images.sh: ${FUNCNAME[1]}: size must be a whole number of MiB, got '$1'" >&2; return 1 ;;
	esac
}

# make_clip OUT SECONDS [CREATION_TIME]
# A real H.264/AAC MP4 as a recorder would write.  The bytes depend only on
# SECONDS and CREATION_TIME (same arguments, same sha256), so a test that
# needs two distinct clips passes two different times.
make_clip() {
	local out=${1:?make_clip OUT SECONDS [CREATION_TIME]} secs=${2:?make_clip OUT SECONDS [CREATION_TIME]}
	local ctime=${3:-2026-11-25T08:00:00Z}
	_img_run "ffmpeg encoding ${secs}s clip to $out" \
		ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "testsrc=duration=$secs:size=320x240:rate=25" \
		-f lavfi -i "sine=frequency=440:duration=$secs" \
		-c:v libx264 -preset ultrafast -pix_fmt yuv420p \
		-c:a aac -b:a 64k -shortest \
		-metadata "creation_time=$ctime" "$out"
}

# make_fat32 IMG SIZE_MB SRC_DIR
# SIZE_MB must be >= 33: below that mkfs.fat writes a "FAT32" with fewer than
# 65525 clusters, which libtsk (rightly) refuses to call FAT32.
make_fat32() {
	local img=${1:?make_fat32 IMG SIZE_MB SRC_DIR} size=${2:?make_fat32 IMG SIZE_MB SRC_DIR}
	local src=${3:?make_fat32 IMG SIZE_MB SRC_DIR} out entry dup bad
	_img_size_mb_ok "$size" || return 1
	[ "$size" -ge 33 ] || { _img_fail "$size MiB is too small for FAT32 (min 33)"; return 1; }
	[ -d "$src" ] || { _img_fail "source directory $src does not exist"; return 1; }

	# mtools would stop and ask on stdin for either of these; fail instead.
	dup=$(find "$src" -mindepth 1 | LC_ALL=$_IMG_LOCALE sort -f | LC_ALL=$_IMG_LOCALE uniq -di | head -n 1)
	[ -z "$dup" ] || { _img_fail "$src has names differing only in case (FAT is case-insensitive): $dup"; return 1; }
	bad=$(find "$src" -mindepth 1 -name '*[\\:*?"<>|]*' | head -n 1)
	[ -z "$bad" ] || { _img_fail "name not allowed on FAT: $bad"; return 1; }

	rm -f "$img" || { _img_fail "cannot replace $img"; return 1; }
	_img_run "creating sparse $img" truncate -s "${size}M" "$img" || return 1
	out=$(mkfs.fat -F 32 -n RECORDER "$img" 2>&1) || { _img_fail "mkfs.fat on $img: $out"; return 1; }
	case $out in *WARNING*) _img_fail "mkfs.fat on $img: $out"; return 1 ;; esac

	# One mcopy per top-level entry so dot-files come along too.
	while IFS= read -r -d '' entry; do
		LC_ALL=$_IMG_LOCALE _img_run "copying $entry into $img" \
			mcopy -s -m -i "$img" "$entry" ::/ </dev/null || return 1
	done < <(find "$src" -mindepth 1 -maxdepth 1 -print0 | sort -z)
}

# Run "$@" with the exFAT in IMG mounted read-write; the mount point is
# exported as IMG_MNT.  The subshell lets the EXIT trap release the mount
# and loop device whatever happens, including an interrupt.
_exfat_with_mount() (
	img=$1
	shift
	dev='' mnt=''
	# shellcheck disable=SC2317 # run by the EXIT trap
	cleanup() {
		if [ -n "$mnt" ]; then
			if mountpoint -q "$mnt"; then
				umount "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null ||
					echo "images.sh: could not unmount $mnt" >&2
			fi
			rmdir "$mnt" 2>/dev/null || true
		fi
		[ -z "$dev" ] || losetup -d "$dev" 2>/dev/null ||
			echo "images.sh: could not detach $dev (backing $img)" >&2
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	dev=$(losetup -f --show "$img" 2>&1) || { echo "images.sh: ${FUNCNAME[1]}: losetup $img: $dev" >&2; dev=''; exit 1; }
	mnt=$(mktemp -d "${TMPDIR:-/tmp}/dockd-exfat.XXXXXX") || { echo "images.sh: ${FUNCNAME[1]}: mktemp" >&2; exit 1; }
	out=$(mount.exfat-fuse -o rw "$dev" "$mnt" 2>&1 </dev/null) || {
		echo "images.sh: ${FUNCNAME[1]}: mount.exfat-fuse $dev ($img) on $mnt: $out" >&2
		exit 1
	}
	mountpoint -q "$mnt" || { echo "images.sh: ${FUNCNAME[1]}: $mnt not mounted after mount.exfat-fuse" >&2; exit 1; }
	IMG_MNT=$mnt "$@" || exit 1
	sync -f "$mnt" || exit 1
	# fuseblk unmount waits for exfat-fuse to flush and exit, so the image is
	# complete once this returns.
	out=$(umount "$mnt" 2>&1) || { echo "images.sh: ${FUNCNAME[1]}: umount $mnt ($img): $out" >&2; exit 1; }
)

_exfat_copy_tree() {
	_img_run "copying $1 into the exFAT image" cp -R --preserve=timestamps -- "$1"/. "$IMG_MNT"/
}

# make_exfat IMG SIZE_MB SRC_DIR
make_exfat() {
	local img=${1:?make_exfat IMG SIZE_MB SRC_DIR} size=${2:?make_exfat IMG SIZE_MB SRC_DIR}
	local src=${3:?make_exfat IMG SIZE_MB SRC_DIR}
	_img_size_mb_ok "$size" || return 1
	[ -d "$src" ] || { _img_fail "source directory $src does not exist"; return 1; }
	rm -f "$img" || { _img_fail "cannot replace $img"; return 1; }
	_img_run "creating sparse $img" truncate -s "${size}M" "$img" || return 1
	_img_run "mkfs.exfat on $img" mkfs.exfat -n RECORDER "$img" || return 1
	_exfat_with_mount "$img" _exfat_copy_tree "$src" ||
		{ _img_fail "copying $src into $img"; return 1; }
}

# Deleting leaves the entry in place, marked unused; the next file created in
# that directory may take over its slots.  Callers delete last.
_img_check_deleted() {
	local img=$1 path=${2#/} dir='' base
	base=${path##*/}
	[ "$base" = "$path" ] || dir=${path%/*}/
	# A deleted FAT entry has lost the first byte of its 8.3 name; fls shows
	# it as '_' when there is no long name to fall back on.
	if ! fls -r -p -d "$img" 2>/dev/null |
		awk -F'\t' -v a="$path" -v b="${dir}_${base:1}" '$2 == a || $2 == b { found = 1 } END { exit !found }'; then
		echo "images.sh: ${FUNCNAME[1]}: $path removed from $img but fls -d does not list it as deleted" >&2
		return 1
	fi
}

# fat32_delete IMG PATH_IN_IMAGE
fat32_delete() {
	local img=${1:?fat32_delete IMG PATH} path=${2:?fat32_delete IMG PATH}
	_img_need_file "$img" || return 1
	LC_ALL=$_IMG_LOCALE _img_run "deleting $path from $img" mdel -i "$img" "::/${path#/}" </dev/null || return 1
	_img_check_deleted "$img" "$path"
}

_exfat_rm() { _img_run "removing $1" rm -- "$IMG_MNT/$1"; }

# exfat_delete IMG PATH_IN_IMAGE
exfat_delete() {
	local img=${1:?exfat_delete IMG PATH} path=${2:?exfat_delete IMG PATH}
	_img_need_file "$img" || return 1
	_exfat_with_mount "$img" _exfat_rm "${path#/}" || { _img_fail "deleting $path from $img"; return 1; }
	_img_check_deleted "$img" "$path"
}

# make_sparse_file OUT SIZE_BYTES
# SIZE_BYTES of zeros except three 4 KiB marker blocks, at 0, at the middle
# (4 KiB aligned) and ending exactly at the last byte, each naming its own
# offset so a misplaced read is obvious.  exfat_add_sparse_file writes the
# same bytes, so the expected sha256 comes from running this on the host.
make_sparse_file() {
	local out=${1:?make_sparse_file OUT SIZE_BYTES} size=${2:?make_sparse_file OUT SIZE_BYTES} off
	case $size in '' | *[!0-9]*) _img_fail "size must be bytes, got '$size'"; return 1 ;; esac
	[ "$size" -ge 12288 ] || { _img_fail "size $size too small for three 4 KiB markers"; return 1; }
	_img_run "truncating $out to $size" truncate -s "$size" "$out" || return 1
	for off in 0 $(((size / 2) & ~4095)) $((size - 4096)); do
		_img_marker "$off" | _img_run "writing marker at $off in $out" \
			dd of="$out" bs=4096 count=1 oflag=seek_bytes seek="$off" conv=notrunc status=none || return 1
	done
}

_img_marker() {
	local line="dockd sparse-file marker @$1"$'\n' s=''
	while [ "${#s}" -lt 4096 ]; do s+=$line; done
	printf '%s' "${s:0:4096}"
}

_exfat_write_sparse() {
	local path=$1 size=$2
	_img_run "mkdir for $path" mkdir -p -- "$IMG_MNT/$(dirname -- "$path")" || return 1
	make_sparse_file "$IMG_MNT/$path" "$size"
}

# exfat_add_sparse_file IMG PATH_IN_IMAGE SIZE_BYTES
# exFAT has no holes, so exfat-fuse writes every zero through to the image;
# the image is made sparse again afterwards with fallocate --dig-holes.
# IMG must already have room for SIZE_BYTES.
exfat_add_sparse_file() {
	local img=${1:?exfat_add_sparse_file IMG PATH SIZE} path=${2:?exfat_add_sparse_file IMG PATH SIZE}
	local size=${3:?exfat_add_sparse_file IMG PATH SIZE}
	_img_need_file "$img" || return 1
	_exfat_with_mount "$img" _exfat_write_sparse "${path#/}" "$size" ||
		{ _img_fail "adding $size-byte $path to $img"; return 1; }
	_img_run "re-sparsifying $img" fallocate --dig-holes "$img"
}

# corrupt_image IMG
# Zero the first 64 KiB: boot sector, FAT32 backup boot sector and the exFAT
# backup boot region all live there, so nothing recognises a filesystem.
corrupt_image() {
	local img=${1:?corrupt_image IMG}
	_img_need_file "$img" || return 1
	_img_run "zeroing the first 64 KiB of $img" \
		dd if=/dev/zero of="$img" bs=64K count=1 conv=notrunc status=none || return 1
	if fsstat "$img" >/dev/null 2>&1; then
		_img_fail "$img still has a recognisable filesystem after zeroing its start"
		return 1
	fi
}

# Little-endian unsigned integer of N bytes at OFFSET in FILE.
_img_le() {
	local v
	v=$(od -An -t "u$3" -j "$2" -N "$3" --endian=little "$1" 2>/dev/null | tr -d ' ')
	[ -n "$v" ] || { echo "images.sh: cannot read $3 bytes at $2 of $1" >&2; return 1; }
	printf '%s\n' "$v"
}

# Overwrite LEN bytes at byte OFFSET of FILE with garbage: AES-CTR of zeros
# under a fixed key, so every run writes the same bytes and a failing test
# can be replayed.  Finite input, so nothing dies of SIGPIPE under pipefail.
_img_garbage() {
	head -c "$3" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K 646f636b642066617420676172626167 \
			-iv 00000000000000000000000000000000 |
		_img_run "writing $3 bytes of garbage at $2 of $1" \
			dd of="$1" bs=64K iflag=fullblock oflag=seek_bytes seek="$2" conv=notrunc status=none
}

# corrupt_fat_chain IMG
# The boot sector survives, so the volume is still recognised (fsstat works),
# but the allocation metadata is garbage: every FAT copy from entry 3 on
# (entries 0-2 keep the media byte and FAT32's root cluster) and, on exFAT,
# the allocation bitmap too, because exFAT recorders write files contiguously
# (NoFatChain) and never consult the FAT for them.  libtsk then lists every
# file below the root as deleted.  On exFAT icat returns wrong bytes for
# them; on FAT32 it still returns the right ones, because libtsk assumes a
# deleted file is contiguous, and mtools wrote it so.
corrupt_fat_chain() {
	local img=${1:?corrupt_fat_chain IMG} bps fat_off fat_len nfats i exfat=0 inum sec
	_img_need_file "$img" || return 1
	if [ "$(dd if="$img" bs=1 skip=3 count=8 status=none)" = "EXFAT   " ]; then
		exfat=1
		bps=$(_img_le "$img" 108 1) || return 1
		bps=$((1 << bps))
		fat_off=$(_img_le "$img" 80 4) || return 1
		fat_len=$(_img_le "$img" 84 4) || return 1
		nfats=$(_img_le "$img" 110 1) || return 1
	elif [ "$(dd if="$img" bs=1 skip=82 count=8 status=none)" = "FAT32   " ]; then
		bps=$(_img_le "$img" 11 2) || return 1
		fat_off=$(_img_le "$img" 14 2) || return 1
		nfats=$(_img_le "$img" 16 1) || return 1
		fat_len=$(_img_le "$img" 36 4) || return 1
	else
		_img_fail "$img has neither an exFAT nor a FAT32 boot sector"
		return 1
	fi
	fat_off=$((fat_off * bps)) fat_len=$((fat_len * bps))
	if [ "$bps" -lt 512 ] || [ "$fat_len" -le 12 ] || [ "$nfats" -lt 1 ]; then
		_img_fail "$img: implausible boot sector (bytes/sector $bps, FAT $fat_len bytes, $nfats FATs)"
		return 1
	fi

	if [ "$exfat" = 1 ]; then
		# Find the bitmap before the FAT is gone; libtsk knows where it is.
		inum=$(fls "$img" 2>/dev/null | awk -F'\t' '$2 == "$ALLOC_BITMAP" { sub(/:$/, "", $1); sub(/.* /, "", $1); print $1 }')
		[ -n "$inum" ] || { _img_fail "no \$ALLOC_BITMAP in $img"; return 1; }
		for sec in $(istat "$img" "$inum" 2>/dev/null | sed '1,/^Sectors:/d' | tr -s ' ' '\n' | grep -v '^0*$' | sort -un); do
			_img_garbage "$img" "$((sec * bps))" "$bps" || return 1
		done
		[ -n "${sec:-}" ] || { _img_fail "istat gave no sectors for \$ALLOC_BITMAP in $img"; return 1; }
	fi
	for ((i = 0; i < nfats; i++)); do
		_img_garbage "$img" "$((fat_off + i * fat_len + 12))" "$((fat_len - 12))" || return 1
	done
	if ! fsstat "$img" >/dev/null 2>&1; then
		_img_fail "$img is no longer recognised at all; corrupt_image is the function for that"
		return 1
	fi
}

# loop_attach IMG -> prints /dev/loopN (read-only, like a write-blocked recorder)
loop_attach() {
	local img=${1:?loop_attach IMG} dev
	_img_need_file "$img" || return 1
	dev=$(losetup -r -f --show "$img" 2>&1) || { _img_fail "losetup -r $img: $dev"; return 1; }
	printf '%s\n' "$dev"
}

# loop_detach DEV
loop_detach() {
	local dev=${1:?loop_detach DEV}
	case $dev in /dev/loop[0-9]*) ;; *) _img_fail "$dev is not a loop device"; return 1 ;; esac
	_img_run "detaching $dev" losetup -d "$dev"
}

# throttle_run BPS DEV -- CMD...
# Run CMD with its reads from block device DEV capped at BPS bytes/s by a
# cgroup-v1 blkio group (40000000 is a USB 2.0 recorder).  Only I/O that
# reaches the device is throttled: drop the page cache (or use O_DIRECT)
# before re-reading.  DEV must be a whole disk; v1 throttling ignores
# partitions.  Returns CMD's exit status.
#
# A brace body, not a subshell: `throttle_run ... & kill $!` must signal the
# process that owns the cgroup, and a subshell body would be a second fork
# that outlives it.  TERM/INT are passed on to CMD, the group is removed, and
# the signal is then re-raised with the caller's own disposition restored.
throttle_run() {
	local bps=${1:?throttle_run BPS DEV -- CMD...} dev=${2:?throttle_run BPS DEV -- CMD...}
	local root=/sys/fs/cgroup/blkio majmin cg child='' rc=0 sig='' saved pid
	[ "${3:-}" = "--" ] || { _img_fail "expected -- after DEV"; return 2; }
	shift 3
	[ "$#" -gt 0 ] || { _img_fail "no command"; return 2; }
	case $bps in '' | *[!0-9]*) _img_fail "BPS must be bytes/s, got '$bps'"; return 2 ;; esac
	[ -b "$dev" ] || { _img_fail "$dev is not a block device"; return 1; }
	[ -w "$root/cgroup.procs" ] || { _img_fail "no writable cgroup-v1 blkio hierarchy at $root"; return 1; }

	majmin="$((16#$(stat -Lc %t "$dev"))):$((16#$(stat -Lc %T "$dev")))"
	cg=$(mktemp -d "$root/dockd-throttle.XXXXXX") || { _img_fail "cannot create a cgroup under $root"; return 1; }
	if ! echo "$majmin $bps" >"$cg/blkio.throttle.read_bps_device"; then
		rmdir "$cg"
		_img_fail "setting read_bps_device '$majmin $bps' in $cg"
		return 1
	fi

	saved=$(trap -p INT TERM)
	# Background jobs start with SIGINT ignored, so CMD always gets TERM.
	trap 'sig=INT; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' INT
	trap 'sig=TERM; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM
	# The child joins the group before exec, so every read CMD makes counts.
	# shellcheck disable=SC2016 # $$ and $@ belong to the inner sh
	sh -c 'echo $$ >"$0" && exec "$@"' "$cg/cgroup.procs" "$@" &
	child=$!
	wait "$child" || rc=$?
	# A trapped signal interrupts wait; wait again for CMD's real status.
	while kill -0 "$child" 2>/dev/null; do
		rc=0
		wait "$child" || rc=$?
	done
	trap - INT TERM
	eval "$saved"

	# Survivors (a daemon's forked children) go back to the root group
	# rather than keep the cgroup alive.
	while read -r pid; do
		echo "$pid" >"$root/cgroup.procs" 2>/dev/null || true
	done <"$cg/cgroup.procs"
	rmdir "$cg" || _img_fail "could not remove cgroup $cg"
	[ -z "$sig" ] || kill -s "$sig" "$BASHPID"
	return "$rc"
}

# small_ext4_mount SIZE_MB MOUNTPOINT
# A tiny ext4 on a loop device, for "target disk full" (SMALL_EXT4_FEATURES:
# mkfs.ext4 -O, e.g. encrypt for fscrypt).  No reserved blocks:
# dockd runs as root and would otherwise see 5% more room than asked for.
small_ext4_mount() {
	local size=${1:?small_ext4_mount SIZE_MB MOUNTPOINT} mnt=${2:?small_ext4_mount SIZE_MB MOUNTPOINT}
	local back dev out
	_img_size_mb_ok "$size" || return 1
	back=$(mktemp "${TMPDIR:-/tmp}/dockd-ext4.XXXXXX") || { _img_fail "mktemp"; return 1; }
	if ! _img_run "creating $back" truncate -s "${size}M" "$back" ||
		! _img_run "mkfs.ext4 on $back" mkfs.ext4 -q -F -m 0 ${SMALL_EXT4_FEATURES:+-O "$SMALL_EXT4_FEATURES"} \
			-L dockd-target "$back"; then
		rm -f "$back"
		return 1
	fi
	if ! dev=$(losetup -f --show "$back" 2>&1); then
		_img_fail "losetup $back: $dev"
		rm -f "$back"
		return 1
	fi
	if ! _img_run "mkdir $mnt" mkdir -p -- "$mnt" ||
		! _img_run "mounting $dev on $mnt" mount -t ext4 "$dev" "$mnt"; then
		losetup -d "$dev" 2>/dev/null
		rm -f "$back"
		return 1
	fi
}

# small_ext4_umount MOUNTPOINT
small_ext4_umount() {
	local mnt=${1:?small_ext4_umount MOUNTPOINT} dev back
	dev=$(findmnt -nro SOURCE --mountpoint "$mnt") || { _img_fail "nothing mounted on $mnt"; return 1; }
	back=$(losetup -nO BACK-FILE "$dev" 2>/dev/null) || { _img_fail "$dev on $mnt is not a loop device"; return 1; }
	back=${back%% }
	_img_run "unmounting $mnt" umount "$mnt" || return 1
	_img_run "detaching $dev" losetup -d "$dev" || return 1
	case ${back##*/} in
	dockd-ext4.*) rm -f "$back" ;;
	*) _img_fail "$dev was backed by $back, which small_ext4_mount did not create; left it" ;;
	esac
}

# sha256_seconds BYTES: the seconds one SHA-256 pass of BYTES takes on this
# CPU (openssl speed, 16 KiB blocks), or null: the benchmarks' CPU floor.
sha256_seconds() {
	local kbps
	kbps=$(openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null | awk '/^sha256/ { v = $NF; sub(/k$/, "", v); print v }')
	awk -v k="${kbps:-0}" -v b="$1" 'BEGIN { if (k > 0) printf "%.3f", b / (k * 1000); else print "null" }'
}
