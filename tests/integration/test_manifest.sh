#!/bin/bash
# Every dock session ends with one manifest, written in the same transaction:
# canonical JSON (sorted keys, compact), chained by the SHA-256 of the
# previous one, signed with the station's Ed25519 key, verifiable with the
# openssl tool alone; one changed byte fails. A session a killed process left
# open gets its manifest when the device is next seen.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
make_clip "$src/DCIM/Straße 0002.MP4" 1 2026-11-25T09:00:00Z
make_clip "$src/DCIM/GONE.MP4" 1 2026-11-25T10:00:00Z
img=$WORK/rec.img
make_fat32 "$img" 48 "$src"
fat32_delete "$img" /DCIM/GONE.MP4

ingest_rc "$img" CAM-M || fail "ingest exited $?"
ingest_rc "$img" CAM-M || fail "re-dock exited $?"
DOCKD_CRASHPOINT=after-commit "$BUILD/dockctl" --state "$STATE" ingest --image "$img" --serial CAM-N >/dev/null 2>&1 || true
ingest_rc "$img" CAM-N || fail "ingest after kill exited $?"

dockctl manifests --json >"$WORK/m.json"
[ "$(jq length "$WORK/m.json")" = 4 ] || fail "expected 4 manifests (4 sessions), got: $(dockctl manifests)"
jq -e '[.[].seq] == [1,2,3,4] and (map(.session) | sort) == [1,2,3,4]' "$WORK/m.json" >/dev/null ||
	fail "sequence or sessions wrong: $(cat "$WORK/m.json")"
[ "$(stat -c %a "$STATE/station.key")" = 600 ] || fail "private key mode $(stat -c %a "$STATE/station.key")"
dockctl key show >"$WORK/pub.pem"
grep -q "BEGIN PUBLIC KEY" "$WORK/pub.pem" || fail "key show gives no public key"

prev=null
for s in 1 2 3 4; do
	dockctl manifest show $s >"$WORK/$s.json"
	dockctl manifest show $s --signature >"$WORK/$s.sig"
	openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/$s.json" -sigfile "$WORK/$s.sig" >/dev/null ||
		fail "manifest $s does not verify with openssl"
	[ "$(jq -cS . "$WORK/$s.json" | tr -d '\n')" = "$(cat "$WORK/$s.json")" ] || fail "manifest $s is not canonical JSON"
	[ "$(jq -r .prev_sha256 "$WORK/$s.json")" = "$prev" ] || fail "manifest $s does not chain to the previous one"
	prev=$(sha256_hex <"$WORK/$s.json")
	[ "$(jq -r ".[$((s - 1))].sha256" "$WORK/m.json")" = "$prev" ] || fail "manifest $s: listed hash differs"
done
pass "4 manifests, canonical, chained, each verified by openssl with the station's public key"

# One changed byte fails verification.
sed 's/"complete"/"completf"/' "$WORK/1.json" >"$WORK/1-altered.json"
! cmp -s "$WORK/1.json" "$WORK/1-altered.json" || fail "test did not alter the manifest"
! openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/1-altered.json" -sigfile "$WORK/1.sig" >/dev/null 2>&1 ||
	fail "an altered manifest still verifies"
pass "one changed byte fails verification"

# What the manifest says is what the catalog holds.
check_catalog_against_disk "$img" CAM-M >/dev/null
jq -e --slurpfile recs "$WORK/recs.json" '
	.recordings | length == 2 and
	all(.[]; . as $m | $recs[0] | any(.[]; .device_path == $m.device_path and .sha256 == $m.sha256 and .size == $m.size))
	and all(.[]; (.copies | map(.target)) == ["a","b"])' "$WORK/1.json" >/dev/null ||
	fail "manifest 1 does not match the catalog: $(jq -c .recordings "$WORK/1.json")"
jq -e '.deleted_on_device | length == 1 and (.[0].device_path | test("^/DCIM/.ONE.MP4$"))' "$WORK/1.json" >/dev/null ||
	fail "manifest 1 lacks the deleted entry"
jq -e '.recordings == [] and .session.state == "complete"' "$WORK/2.json" >/dev/null || fail "re-dock manifest wrong"
jq -e '.session.state == "interrupted" and (.recordings | length) >= 1 and .session.device.serial == "CAM-N"' "$WORK/3.json" >/dev/null ||
	fail "the killed session's manifest is wrong: $(jq -c .session "$WORK/3.json")"
pass "manifests match the catalog; the killed session got its manifest as interrupted"
