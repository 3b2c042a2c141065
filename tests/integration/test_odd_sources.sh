#!/bin/bash
# Concurrency and odd sources (issue #12): two ingests of one state directory
# at once (migrations, target registration, tags), a FIFO given as the
# device, the field kit refused on another user's state directory (root too), and two
# full targets that must give back the space reserved for failed copies.
source "$(dirname "$0")/common.sh"

mkdir -p "$WORK/s1/DCIM" "$WORK/s2/DCIM"
make_clip "$WORK/s1/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
make_clip "$WORK/s2/DCIM/B0001.MP4" 1 2026-11-25T09:00:00Z
head -c $((3 << 20)) /dev/urandom >"$WORK/s1/DCIM/A0002.MP4"
head -c $((3 << 20)) /dev/urandom >"$WORK/s2/DCIM/B0002.MP4"
make_fat32 "$WORK/r1.img" 40 "$WORK/s1"
make_fat32 "$WORK/r2.img" 40 "$WORK/s2"

# 1. Two ingests of a fresh state directory at once, three times over.
for round in 1 2 3; do
	STATE=$WORK/state-race-$round
	"$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/r1.img" --serial CAM-R1 --json >"$WORK/r1.json" 2>"$WORK/r1.err" &
	p1=$!
	"$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/r2.img" --serial CAM-R2 --json >"$WORK/r2.json" 2>"$WORK/r2.err" &
	p2=$!
	rc1=0 rc2=0
	wait $p1 || rc1=$?
	wait $p2 || rc2=$?
	[ $rc1 = 0 ] && [ $rc2 = 0 ] || fail "round $round: concurrent ingests exited $rc1 and $rc2: $(cat "$WORK/r1.err" "$WORK/r2.err" | grep -v migration)"
	grep -q "not an error" "$WORK/r1.err" "$WORK/r2.err" && fail "round $round: 'not an error' reported"
	for s in CAM-R1 CAM-R2; do
		dockctl recordings --device $s --json | jq -e 'length == 2 and all(.[]; (.copies | length) == 2 and .time_source != null)' \
			>/dev/null || fail "round $round: $s: $(dockctl recordings --device $s --json | jq -c 'map([.device_path, (.copies|length), .time_source])')"
	done
done
pass "two ingests of one fresh state directory at once (3 rounds): both complete, every recording copied and tagged"

# 2. A FIFO (or any non-volume) as the device: refused at once, the device
#    lock released.
STATE=$WORK/state-fifo
mkfifo "$WORK/fifo"
rc=0
timeout 20 "$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/fifo" --serial CAM-F --json >"$WORK/last.json" 2>"$WORK/last.err" || rc=$?
[ $rc = 1 ] && grep -q "not a block device or image file" "$WORK/last.err" || fail "a FIFO as the device: rc $rc: $(cat "$WORK/last.err")"
rc=0
timeout 20 "$BUILD/dockctl" --state "$STATE" ingest --image /dev/null --serial CAM-F >/dev/null 2>"$WORK/last.err" || rc=$?
[ $rc = 1 ] && grep -q "not a block device or image file" "$WORK/last.err" || fail "/dev/null as the device: rc $rc"
ingest_rc "$WORK/r1.img" CAM-F || fail "after the FIFO, the device lock was not released: $(cat "$WORK/last.err")"
pass "a FIFO and a character device as the device: refused at once; the lock released"

# 3. The field kit on a state directory of another user's: refused, even to
#    root (dockd owns its own state; the field kit the caller's); the owner
#    then ingests as before.
user=dockdt$$
groupadd "${user}g"
useradd -M -N -g "${user}g" -s /usr/sbin/nologin "$user"
at_exit "userdel '$user' 2>/dev/null; groupdel '${user}g' 2>/dev/null"
STATE=$WORK/state-owned
mkdir -p "$STATE"
chown "$user" "$STATE" "$WORK"
chmod 0755 "$WORK"
chmod a+r "$WORK/r1.img" "$WORK/r2.img"
runuser -u "$user" -- "$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/r1.img" --serial CAM-O >/dev/null 2>"$WORK/o1.err" ||
	fail "the state directory's owner cannot ingest: $(cat "$WORK/o1.err")"
rc=0
"$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/r2.img" --serial CAM-ROOT >/dev/null 2>"$WORK/o2.err" || rc=$?
[ "$rc" = 5 ] && grep -q "belongs to $user and no dockd runs on it" "$WORK/o2.err" ||
	fail "root ran the field kit on $user's state (rc $rc): $(cat "$WORK/o2.err")"
runuser -u "$user" -- "$BUILD/dockctl" --state "$STATE" ingest --image "$WORK/r2.img" --serial CAM-ROOT >/dev/null 2>"$WORK/o3.err" ||
	fail "after root was refused, the owner cannot ingest: $(cat "$WORK/o3.err")"
[ "$(stat -c %U "$STATE/locks/CAM-ROOT.lock")" = "$user" ] || fail "the lock file is not the owner's"
pass "the field kit runs only on the caller's own state directory (root refused on another's); the owner ingests"

# 4. Both targets full: a failed copy gives back the space reserved for it.
STATE=$WORK/state-full
for t in a b; do
	small_ext4_mount 16 "$WORK/full-$t"
	at_exit "small_ext4_umount '$WORK/full-$t' 2>/dev/null"
done
printf '[target.a]\npath = %s/full-a\n[target.b]\npath = %s/full-b\n' "$WORK" "$WORK" >"$WORK/full.conf"
mkdir -p "$WORK/s3/DCIM"
head -c $((30 << 20)) /dev/urandom >"$WORK/s3/DCIM/BIG0001.MP4"
make_fat32 "$WORK/r3.img" 64 "$WORK/s3"
before_a=$(df --output=avail -B1 "$WORK/full-a" | tail -1)
rc=0
ingest_rc "$WORK/r3.img" CAM-FULL -c "$WORK/full.conf" || rc=$?
[ $rc = 3 ] || fail "both targets full: exit $rc: $(tail -3 "$WORK/last.err")"
grep -q "no space left on the target" "$WORK/last.err" || fail "both targets full: the cause is not named: $(cat "$WORK/last.err")"
sync
after_a=$(df --output=avail -B1 "$WORK/full-a" | tail -1)
[ $((before_a - after_a)) -lt $((1 << 20)) ] || fail "a failed copy keeps $((before_a - after_a)) bytes reserved on target a"
pass "both targets full: the copies fail, named, and the space reserved for them is given back"
