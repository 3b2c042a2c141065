#!/bin/bash
# ASC MHL receipts (issue #17): each dock session leaves one ASC MHL v2.0
# generation on each filesystem target, covering the copies it placed there.
# Checked against the schemas with xmllint, and against the spec's rules the
# schemas do not check: a hash element in every entry, with its action; the
# generations numbered 1, 2, ... in the chain; the chain's C4 of each
# generation (computed here independently); the XXH128 that xxhsum computes
# and the SHA-256 Python's hashlib computes for every file; the entries exactly the
# session's copies. Then `dockctl mhl verify` finds a changed copy, a missing
# one, an altered generation and a removed one, and passes an intact tree.
# Last, a drive written elsewhere with hostile receipts: entries that climb
# out of the tree, absolute names, a symbolic link and a FIFO in the tree, a
# generation named outside the receipts folder, a huge one and one that is
# not XML: each is named and counted, nothing outside the tree is read, and
# nothing waits on the FIFO.
source "$(dirname "$0")/common.sh"
XSD=$HERE/../ascmhl

mkdir -p "$WORK/s1/DCIM" "$WORK/s2/DCIM"
make_clip "$WORK/s1/DCIM/A.MP4" 1 2026-12-05T08:00:00Z
head -c 3000000 /dev/urandom >"$WORK/s1/DCIM/B & odd.MP4"
make_fat32 "$WORK/r1.img" 40 "$WORK/s1"
cp -r "$WORK/s1/." "$WORK/s2/"
make_clip "$WORK/s2/DCIM/C.MP4" 2 2026-12-05T09:00:00Z
make_fat32 "$WORK/r2.img" 40 "$WORK/s2"
# two docks of one recorder: the second session copies only C.MP4
dockctl ingest --image "$WORK/r1.img" --serial CAM-M >/dev/null 2>&1 || fail "first ingest"
dockctl ingest --image "$WORK/r2.img" --serial CAM-M >/dev/null 2>&1 || fail "second ingest"

for t in a b; do
	root=$STATE/targets/$t
	[ "$(ls "$root/ascmhl/" | grep -c '\.mhl$')" = 2 ] || fail "target $t: not two generations: $(ls "$root/ascmhl/")"
	for m in "$root"/ascmhl/*.mhl; do
		xmllint --nonet --noout --schema "$XSD/ASCMHL.xsd" "$m" 2>"$WORK/x.err" || fail "$m is not valid ASC MHL: $(cat "$WORK/x.err")"
	done
	XML_CATALOG_FILES=$XSD/catalog.xml xmllint --nonet --noout --schema "$XSD/ASCMHLDirectory.xsd" \
		"$root/ascmhl/ascmhl_chain.xml" 2>"$WORK/x.err" || fail "target $t: the chain is not valid: $(cat "$WORK/x.err")"
	LIB=$HERE/../lib python3 - "$root" "$STATE/catalog.sqlite" "$t" <<'PY' || fail "target $t: the receipts break the spec or the truth (above)"
import hashlib, os, sqlite3, subprocess, sys
import xml.etree.ElementTree as ET
root, db, target = sys.argv[1:4]
NS = {"m": "urn:ASC:MHL:v2.0", "c": "urn:ASC:MHL:DIRECTORY:v2.0", "d": "urn:dockd:mhl:1"}
sys.path.insert(0, os.environ["LIB"])
from c4 import c4
bad = []
chain = ET.parse(os.path.join(root, "ascmhl", "ascmhl_chain.xml")).getroot().findall("c:hashlist", NS)
cat = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
sessions = [r[0] for r in cat.execute("SELECT id FROM dock_sessions ORDER BY id")]
for i, h in enumerate(chain):
    if h.get("sequencenr") != str(i + 1):
        bad.append("generation %d numbered %s" % (i + 1, h.get("sequencenr")))
    name = h.find("c:path", NS).text
    data = open(os.path.join(root, "ascmhl", name), "rb").read()
    if c4(data) != h.find("c:c4", NS).text:
        bad.append("%s: the chain's C4 is not the file's" % name)
    doc = ET.fromstring(data)
    if doc.find("m:processinfo/m:process", NS).text != "transfer":
        bad.append("%s: process is not transfer" % name)
    listed = set()
    for e in doc.findall("m:hashes/m:hash", NS):
        p = e.find("m:path", NS)
        hashes = [c for c in e if c.tag.split("}")[1] in ("c4", "md5", "sha1", "xxh128", "xxh3", "xxh64")]
        if len(hashes) != 1 or hashes[0].get("action") not in ("original", "verified"):
            bad.append("%s: %s: not one hash element with its action" % (name, p.text))
            continue
        f = os.path.join(root, p.text)
        want_x = subprocess.run(["xxhsum", "-H2", f], capture_output=True, text=True).stdout.split()[0]
        want_s = hashlib.sha256(open(f, "rb").read()).hexdigest()
        if hashes[0].text != want_x or e.find("m:metadata/d:sha256", NS).text != want_s:
            bad.append("%s: %s: the hashes are not the file's" % (name, p.text))
        if int(p.get("size")) != os.path.getsize(f):
            bad.append("%s: %s: size" % (name, p.text))
        listed.add(p.text)
    # exactly the copies session i+1 placed on this target
    copies = {r[0] for r in cat.execute("SELECT k.path FROM copies k JOIN targets t ON t.id = k.target_id "
                                        "WHERE k.session_id = ? AND t.name = ?", (sessions[i], target))}
    if listed != copies:
        bad.append("%s lists %s, the session placed %s" % (name, sorted(listed), sorted(copies)))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
pass "two sessions, two generations on each target: valid against the ASC MHL schemas; one XXH128 with its action per entry (xxhsum's), the SHA-256 in its metadata (hashlib's), the chain's C4s right, each generation exactly its session's copies"

root=$STATE/targets/a
n=$(sqlite3 "$STATE/catalog.sqlite" "SELECT count(*) FROM copies k JOIN targets t ON t.id = k.target_id WHERE t.name = 'a'")
out=$(dockctl mhl verify "$root") || fail "mhl verify on an intact tree: $out"
grep -q "^OK: 2 generation(s); $n file(s) match their receipts, 0 missing, 0 changed" <<<"$out" || fail "mhl verify: $out"
dockctl mhl verify "$root" --json | jq -e --argjson n "$n" '.ok and .files_ok == $n and .problems == []' >/dev/null ||
	fail "mhl verify --json"
# a changed copy, a missing one
c=$(find "$root/2026" -name 'C.MP4')
chmod u+w "$c" "$(dirname "$c")" 2>/dev/null || true
printf 'X' | dd of="$c" bs=1 seek=1000 conv=notrunc status=none
b=$(find "$root/2026" -name 'B & odd.MP4')
mv "$b" "$WORK/b.saved"
rc=0
out=$(dockctl mhl verify "$root") || rc=$?
[ "$rc" = 3 ] || fail "mhl verify on a changed tree exited $rc: $out"
grep -q "DCIM/C.MP4: CHANGED since generation 2" <<<"$out" && grep -q "B & odd.MP4: missing" <<<"$out" &&
	grep -q "^NOT OK: 2 generation(s); $((n - 2)) file(s) match their receipts, 1 missing, 1 changed" <<<"$out" ||
	fail "mhl verify does not name the changed and the missing copy: $out"
mv "$WORK/b.saved" "$b"
# an altered generation, then a removed one
g1=$(ls "$root"/ascmhl/0001_*.mhl)
sed -i 's/transfer/in-place/' "$g1"
rc=0
out=$(dockctl mhl verify "$root") || rc=$?
[ "$rc" = 3 ] && grep -q "generation 1: $(basename "$g1") was altered" <<<"$out" || fail "an altered generation passes: $out"
rm "$g1"
rc=0
out=$(dockctl mhl verify "$root") || rc=$?
[ "$rc" = 3 ] && grep -q "generation 1: .*is missing" <<<"$out" || fail "a removed generation passes: $out"
rc=0
dockctl mhl verify relative/path >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a relative PATH is not refused as usage"
pass "mhl verify: an intact tree passes; a changed copy, a missing copy, an altered and a removed generation are each named, exit 3"

# A drive made elsewhere, with hostile receipts (C4s right, so each is read).
drive=$WORK/drive
mkdir -p "$drive/ascmhl" "$drive/DCIM/sub"
head -c 5000 /dev/urandom >"$drive/DCIM/a..b.MP4"    # ".." inside a name is a name
ln -s /etc/passwd "$drive/DCIM/link.MP4"
mkfifo "$drive/DCIM/fifo.MP4"
echo outside >"$WORK/outside.mhl"
LIB=$HERE/../lib python3 - "$drive" "$WORK/outside.mhl" <<'PY'
import hashlib, os, subprocess, sys
drive, outside = sys.argv[1:3]
sys.path.insert(0, os.environ["LIB"])
from c4 import c4
def entry(path, size, xxh):
    return ('<hash><path size="%d">%s</path><xxh128 action="original">%s</xxh128></hash>' % (size, path, xxh))
good = os.path.join(drive, "DCIM/a..b.MP4")
gx = subprocess.run(["xxhsum", "-H2", good], capture_output=True, text=True).stdout.split()[0]
entries = [entry("DCIM/a..b.MP4", os.path.getsize(good), gx),
           entry("../../etc/passwd", 100, "0" * 32), entry("/etc/passwd", 100, "0" * 32),
           entry("DCIM/../../outside.mhl", 8, "0" * 32), entry("DCIM/link.MP4", 100, "0" * 32),
           entry("DCIM/fifo.MP4", 100, "0" * 32), entry("DCIM/sub", 0, "0" * 32), entry("", 1, "0" * 32)]
g1 = ('<?xml version="1.0" encoding="UTF-8"?><hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><hashes>%s</hashes>'
      '</hashlist>' % "".join(entries)).encode()
gens = [("0001_g.mhl", g1), ("../outside.mhl", open(outside, "rb").read()), ("0003_huge.mhl", None),
        ("0004_notxml.mhl", b"<hashlist><hashes><hash>")]
for name, data in gens:
    if data is not None and "/" not in name:
        open(os.path.join(drive, "ascmhl", name), "wb").write(data)
with open(os.path.join(drive, "ascmhl", "0003_huge.mhl"), "wb") as f:
    f.truncate(65 << 20)
huge = b"\0" * (65 << 20)
chain = "".join('<hashlist sequencenr="%d"><path>%s</path><c4>%s</c4></hashlist>'
                % (i + 1, name, c4(huge if data is None else data)) for i, (name, data) in enumerate(gens))
open(os.path.join(drive, "ascmhl", "ascmhl_chain.xml"), "w").write(
    '<?xml version="1.0" encoding="UTF-8"?><ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0">%s</ascmhldirectory>'
    % chain)
PY
rc=0
timeout 60 "$BUILD/dockctl" --state "$STATE" mhl verify "$drive" >"$WORK/hostile.txt" 2>&1 || rc=$?
out=$(cat "$WORK/hostile.txt")
[ "$rc" = 3 ] || fail "mhl verify on hostile receipts exited $rc (124: it waited on the FIFO): $out"
for want in "an entry names no file within the tree ('../../etc/passwd': names a file outside the tree)" \
	"an entry names no file within the tree ('/etc/passwd': names a file outside the tree)" \
	"an entry names no file within the tree ('DCIM/../../outside.mhl': names a file outside the tree)" \
	"an entry names no file within the tree ('DCIM/link.MP4': is a symbolic link)" \
	"an entry names no file within the tree ('DCIM/fifo.MP4': is not a regular file)" \
	"an entry names no file within the tree ('DCIM/sub': is not a regular file)" \
	"an entry names no file within the tree ('': no name)" \
	"generation 2: ascmhl/../outside.mhl names a file outside the receipts folder" \
	"generation 3: ascmhl/0003_huge.mhl is larger than any receipt (64 MiB)" \
	"generation 4: 0004_notxml.mhl is not an ASC MHL hash list" \
	"NOT OK: 4 generation(s) (some altered or missing); 1 file(s) match their receipts, 0 missing, 7 changed"; do
	grep -qF -- "$want" <<<"$out" || fail "hostile receipts: no '$want' in: $out"
done
# nothing outside the tree was hashed: no line carries a hash of /etc/passwd
! grep -q "$(xxhsum -H2 /etc/passwd | cut -d' ' -f1)" <<<"$out" || fail "mhl verify read /etc/passwd: $out"
mkdir "$WORK/l2" && ln -s "$drive/ascmhl" "$WORK/l2/ascmhl"
rc=0
out=$(dockctl mhl verify "$WORK/l2" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no ascmhl/ folder: it is a symbolic link" <<<"$out" || fail "a linked receipts folder: $rc $out"
pass "mhl verify on a drive's hostile receipts: climbing, absolute, linked, FIFO, directory and empty entries, a generation outside the folder, a huge one and a broken one are each named and counted; a.. b names are names; nothing outside the tree is read"
