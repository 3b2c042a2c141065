#!/bin/bash
# The outbox: a finished session's manifest is PUT to
# {url}/manifests/{station}/{seq}.json with its .sig, through libcurl (file://
# on embedded defaults); an unreachable archive leaves it queued with the
# error, nothing lost; a retry delivers, none twice; what the archive holds
# verifies with openssl.
source "$(dirname "$0")/common.sh"

src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/A0001.MP4" 1 2026-11-25T08:00:00Z
img=$WORK/rec.img
make_fat32 "$img" 40 "$src"

ingest_rc "$img" CAM-F || fail "ingest exited $?"
arch=$STATE/archive/manifests/station
[ -f "$arch/1.json" ] && [ -f "$arch/1.json.sig" ] || fail "manifest not delivered to the embedded file:// archive"
dockctl manifest show 1 | cmp -s - "$arch/1.json" || fail "the archive's copy differs from the catalog's manifest"
dockctl key show >"$WORK/pub.pem"
openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$arch/1.json" -sigfile "$arch/1.json.sig" >/dev/null ||
	fail "the delivered manifest does not verify"
dockctl archive status --json | jq -e '.queued == 0 and .delivered == 1' >/dev/null || fail "status wrong: $(dockctl archive status)"
pass "delivered through file://, byte-identical, verifies with openssl"

# The archive is unreachable (nothing listens on 127.0.0.1:9): queued, not lost.
printf '[archive]\nurl = https://127.0.0.1:9/a\ntimeout_s = 5\n' >"$WORK/down.conf"
ingest_rc "$img" CAM-F -c "$WORK/down.conf" || fail "ingest with the archive down exited $?"
grep -q "manifest not yet delivered to https://127.0.0.1:9/a" "$WORK/last.err" || fail "no warning: $(cat "$WORK/last.err")"
dockctl -c "$WORK/down.conf" archive status --json >"$WORK/st.json"
jq -e '.queued == 1 and .delivered == 1 and (.last_error | test("127.0.0.1:9.*connect")) and .next_deadline != null' "$WORK/st.json" >/dev/null ||
	fail "archive down: status wrong: $(cat "$WORK/st.json")"
rc=0
dockctl -c "$WORK/down.conf" archive retry >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "retry against a down archive exited $rc, want 3"
dockctl manifests --json | jq -e '.[1].delivered_at == null and .[1].attempts == 2' >/dev/null ||
	fail "attempts not counted: $(dockctl manifests --json)"
pass "archive down: the manifest waits in the outbox with the error and its deadline"

# The archive is back: one retry delivers it; nothing is delivered twice.
dockctl archive retry | grep -qx "delivered 1 manifest(s)" || fail "retry did not deliver"
[ -f "$arch/2.json" ] || fail "manifest 2 not in the archive"
dockctl archive retry | grep -qx "delivered 0 manifest(s)" || fail "a second retry delivered again"
dockctl archive status --json | jq -e '.queued == 0 and .delivered == 2 and .last_error == null' >/dev/null ||
	fail "status after recovery: $(dockctl archive status)"
pass "archive back: delivered once, nothing twice"
