#!/bin/bash
# The chain-of-custody report of one recording (issue #17): `dockctl custody
# REC` says, from the ledger, what a court would ask: the device, the officer
# and where that came from, the times on the device and corrected, the
# SHA-256 (OpenSSL's, computed here), each copy with its verification, the scrub that
# found a copy damaged and restored it, every audit row that touched it, the
# manifest that carries it (its SHA-256 the manifest's), the hold and the
# retention. As JSON and as text.
source "$(dirname "$0")/common.sh"

mkdir -p "$WORK/src/DCIM"
make_clip "$WORK/src/DCIM/CAM7_A100_20261205080000_0001.MP4" 2 2026-12-05T08:00:00Z
make_fat32 "$WORK/rec.img" 40 "$WORK/src"
printf '[recorders]\nname_pattern = {serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}\n' >"$WORK/dockd.conf"
dc() { "$BUILD/dockctl" -c "$WORK/dockd.conf" --state "$STATE" "$@"; }
dc officers add A100 --name "Alice" >/dev/null
dc officers add B200 --name "张三" >/dev/null
dc ingest --image "$WORK/rec.img" --serial CAM7 >/dev/null 2>&1 || fail "ingest"
id=$(dc recordings --json | jq '.[0].id')
dc reattribute "$id" B200 --reason "footage shows B200's badge" >/dev/null || fail "reattribute"
dc hold add "$id" --reason "case 2026-117" >/dev/null || fail "hold"
# damage copy a; scrub restores it from b
a=$(dc recordings --json | jq -r '.[0].copies[] | select(.target == "a") | .path')
chmod u+w "$a" 2>/dev/null || true
printf 'X' | dd of="$a" bs=1 seek=500 conv=notrunc status=none
dc scrub >/dev/null 2>&1 || true

dc custody "$id" --json >"$WORK/c.json" || fail "custody --json"
sha=$(sha256_hex "$WORK/src/DCIM/CAM7_A100_20261205080000_0001.MP4")
msha=$(dc manifest show 1 | sha256_hex)
jq -e --arg sha "$sha" --arg msha "$msha" --argjson id "$id" '
	.recording.id == $id and .recording.device == "CAM7" and .recording.sha256 == $sha
	and .recording.officer.badge == "B200" and .recording.officer.source == "custodian"
	and .recording.officer.device_reported == "A100"
	and .recording.recorded_start_device == "2026-12-05T08:00:00" and .recording.recorded_start_utc != null
	and (.recording.copies | length == 2 and all(.[]; .verified_at != null))
	and (.scrubs | any(.finding == "mismatch" and .target == "a") and any(.finding == "repaired"))
	and (.audit | any(.action == "session.end") and any(.action == "reattribute" and (.why | test("badge")))
	     and any(.action == "hold.add"))
	and (.manifests | length == 1 and .[0].sha256 == $msha and .[0].delivered_at != null)
	and (.holds | length == 1 and .[0].reason == "case 2026-117")
	and .retention.held and .retention.months == 6 and (.retention.kept_until | startswith("2027-06-05"))' \
	"$WORK/c.json" >/dev/null || fail "the custody report is not the recording's story: $(jq -c . "$WORK/c.json")"
pass "custody --json: device, officer B200 by the custodian (the device named A100), device and UTC times, SHA-256, two verified copies, the scrub's mismatch and repair, the audit rows, its manifest (SHA-256 and delivery), the hold, kept until 2027-06-05"

dc custody "$id" >"$WORK/c.txt" || fail "custody (text)"
for want in "CHAIN OF CUSTODY: recording $id" "SHA-256         $sha" "B200 张三 (source: custodian; the device named A100" \
	"HELD (legal hold)" "mismatch" "reattribute recording $id"; do
	grep -qF "$want" "$WORK/c.txt" || fail "the text report lacks '$want': $(cat "$WORK/c.txt")"
done
rc=0
dc custody 99999 >/dev/null 2>"$WORK/e.txt" || rc=$?
[ "$rc" = 1 ] && grep -q "no such recording" "$WORK/e.txt" || fail "an unknown recording: rc $rc, $(cat "$WORK/e.txt")"
pass "custody (text): the same story for people; an unknown recording is named as such"

# The printable form: A4 PDF, Chinese text and all (pdftotext reads it back).
dc custody "$id" --pdf "$WORK/c.pdf" || fail "custody --pdf"
pdfinfo "$WORK/c.pdf" | grep -q "Page size: *595.28 x 841.89 pts (A4)" || fail "not A4: $(pdfinfo "$WORK/c.pdf")"
pdftotext -layout "$WORK/c.pdf" "$WORK/c.pdf.txt" || fail "pdftotext cannot read the PDF"
for want in "CHAIN OF CUSTODY: recording $id" "$sha" "B200 张三" "HELD (legal hold)" "reattribute recording $id" \
	"chain of custody of recording $id"; do
	grep -qF "$want" "$WORK/c.pdf.txt" || fail "the PDF lacks '$want': $(head -40 "$WORK/c.pdf.txt")"
done
rc=0
dc custody "$id" --pdf /nonexistent-dir/x.pdf 2>"$WORK/e.txt" || rc=$?
[ "$rc" = 1 ] && grep -q "cannot write /nonexistent-dir/x.pdf" "$WORK/e.txt" || fail "an unwritable --pdf FILE: $(cat "$WORK/e.txt")"
[ -z "${DOCKD_SAMPLE_PDF:-}" ] || cp "$WORK/c.pdf" "$DOCKD_SAMPLE_PDF"
pass "custody --pdf FILE: a printable A4 PDF with the same story, Chinese names included (pdftotext)"

# A dock session's report, the same way: the session, every recording it
# took with its SHA-256, its manifest; as text and as A4 PDF.
dc custody --session 1 >"$WORK/s.txt" || fail "custody --session"
dc custody --session 1 --pdf "$WORK/s.pdf" || fail "custody --session --pdf"
pdftotext -layout "$WORK/s.pdf" "$WORK/s.pdf.txt" || fail "pdftotext cannot read the session PDF"
for f in "$WORK/s.txt" "$WORK/s.pdf.txt"; do
	for want in "DOCK SESSION REPORT: session 1" "CAM7" "$sha" "MANIFEST" "#1 SHA-256 $msha" "1 recording(s)"; do
		grep -qF "$want" "$f" || fail "the session report ($f) lacks '$want': $(head -30 "$f")"
	done
done
rc=0
dc custody --session 99 >/dev/null 2>"$WORK/e.txt" || rc=$?
[ "$rc" = 1 ] && grep -q "no such session" "$WORK/e.txt" || fail "an unknown session: rc $rc"
pass "custody --session: the dock session's report (its recordings, SHA-256s and manifest), as text and A4 PDF"

# What the report must not claim: a manifest the archive has not taken is not
# "delivered", and a released hold does not make the recording HELD.
mkdir -p "$WORK/src2/DCIM"
make_clip "$WORK/src2/DCIM/CAM8_A100_20261205090000_0001.MP4" 1 2026-12-05T09:00:00Z
make_fat32 "$WORK/rec2.img" 40 "$WORK/src2"
printf '[archive]\nurl = https://127.0.0.1:9/a\ntimeout_s = 2\n' >>"$WORK/dockd.conf"
dc ingest --image "$WORK/rec2.img" --serial CAM8 >/dev/null 2>&1 || fail "ingest with the archive down"
id2=$(dc recordings --device CAM8 --json | jq '.[0].id')
dc hold add "$id2" --reason "case 2026-118" >/dev/null || fail "hold"
hold=$(dc hold list --json | jq --argjson id "$id2" '[.[] | select(.reason == "case 2026-118")][0].id')
dc hold remove "$hold" --reason "case closed" >/dev/null || fail "hold remove $hold"
dc custody "$id2" --json >"$WORK/c2.json" || fail "custody --json (undelivered)"
jq -e '(.manifests | length == 1 and .[0].delivered_at == null) and (.retention.held | not)
	and (.holds | length == 1 and .[0].released_at != null)' "$WORK/c2.json" >/dev/null ||
	fail "an undelivered manifest or a released hold reported as more: $(jq -c '{manifests, holds, retention}' "$WORK/c2.json")"
dc custody "$id2" >"$WORK/c2.txt" || fail "custody (text, undelivered)"
dc custody "$id2" --pdf "$WORK/c2.pdf" && pdftotext -layout "$WORK/c2.pdf" - | tr -s ' \n' ' ' >"$WORK/c2.pdf.txt" ||
	fail "custody --pdf (undelivered)"     # lines joined: the PDF wraps long ones
for f in "$WORK/c2.txt" "$WORK/c2.pdf.txt"; do
	grep -qF "NOT YET DELIVERED to the archive" "$f" && grep -qF "released" "$f" || fail "$f: $(cat "$f")"
	! grep -qF "HELD" "$f" && ! grep -q "delivered 20" "$f" || fail "$f claims HELD or a delivery: $(cat "$f")"
done
pass "custody: a manifest still in the outbox is NOT YET DELIVERED and a released hold is not HELD (JSON, text, PDF)"

# The same PDF asked of a running dockd: the report is rendered by the
# dockd-pdf helper in the verb's worker and reaches the caller's file
# through the control socket, whole (a helper writing to the worker's own
# stdout would put it in dockd's log instead).
sed -i '/^\[archive\]/,$d' "$WORK/dockd.conf"
printf '[station]\nsocket = %s/dockd.sock\n[metrics]\nlisten = off\n' "$WORK" >>"$WORK/dockd.conf"
serve_dockd "$WORK/dockd.conf"
dc custody "$id" --pdf "$WORK/d.pdf" || fail "custody --pdf through dockd: $(tail -3 "$WORK/dockd.log")"
pdftotext -layout "$WORK/d.pdf" "$WORK/d.pdf.txt" || fail "the PDF through dockd cannot be read: $(head -c 300 "$WORK/d.pdf")"
grep -qF "CHAIN OF CUSTODY: recording $id" "$WORK/d.pdf.txt" && grep -qF "B200 张三" "$WORK/d.pdf.txt" ||
	fail "the PDF through dockd lacks the report: $(head -20 "$WORK/d.pdf.txt")"
! grep -q "%PDF" "$WORK/dockd.log" || fail "the PDF went to dockd's log"
pass "custody --pdf through dockd: rendered by dockd-pdf in the worker, the whole PDF in the caller's file"
