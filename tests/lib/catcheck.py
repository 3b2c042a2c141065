#!/usr/bin/env python3
"""catcheck.py RECS_JSON IMAGE [SRC_DIR]: the catalog's claims against the disk.
catcheck.py --sha IMAGE PATH: the SHA-256 of one device file, read by sleuthkit.

RECS_JSON is `dockctl recordings --json` for one device. Every copy it lists
must be a file on disk that hashes to the recording's SHA-256, and that
SHA-256 must be the device file's: read by sleuthkit (fls once, icat per
file: a reader independent of dockd's), or, given SRC_DIR, the file the
image was built from (for volumes too damaged for sleuthkit).

Prints the number of recordings checked; prints what is wrong on stderr and
exits 1 otherwise. One process for the whole check, and 8 MiB reads: a shell
loop of sha256sum, jq and fls per file took seconds per call in the suite.
"""
import hashlib
import json
import os
import subprocess
import sys

CHUNK = 8 << 20


def sha_of_stream(f):
    h, buf = hashlib.sha256(), bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        n = f.readinto(buf)
        if not n:
            return h.hexdigest()
        h.update(view[:n])


def sha_of_file(path):
    with open(path, "rb", buffering=0) as f:
        return sha_of_stream(f)


class Sleuthkit:
    """The device's files as fls and icat see them."""

    def __init__(self, image):
        self.image, self.inodes = image, None

    def inode(self, path):
        if self.inodes is None:
            out = subprocess.run(["fls", "-r", "-p", self.image], capture_output=True, check=False).stdout
            self.inodes = {}
            for line in out.decode("utf-8", "surrogateescape").splitlines():
                meta, _, name = line.partition("\t")
                if "*" in meta or not name:
                    continue  # a deleted entry
                fields = meta.split()
                if len(fields) >= 2:
                    self.inodes.setdefault(name, fields[1].rstrip(":"))
        return self.inodes.get(path.lstrip("/"))

    def sha(self, path):
        inum = self.inode(path)
        if inum is None:
            return None, "not found on %s by fls" % self.image
        p = subprocess.Popen(["icat", self.image, inum], stdout=subprocess.PIPE)
        sha = sha_of_stream(p.stdout)
        if p.wait() != 0:
            return None, "icat %s %s exited %d" % (self.image, inum, p.returncode)
        return sha, None


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--sha":
        sha, why = Sleuthkit(sys.argv[2]).sha(sys.argv[3])
        if why:
            sys.exit("%s: %s" % (sys.argv[3], why))
        print(sha)
        return
    if len(sys.argv) not in (3, 4):
        sys.exit("\n".join(__doc__.splitlines()[:2]))
    recs = json.load(open(sys.argv[1]))
    tsk = Sleuthkit(sys.argv[2])
    srcdir = sys.argv[3] if len(sys.argv) == 4 else None
    bad = []
    for r in recs:
        path, sha, copies = r["device_path"], r.get("sha256"), r.get("copies") or []
        if copies and sha is None:
            bad.append("%s: has verified copies but no source hash" % path)
        for c in copies:
            copy = c.get("path")
            if not copy:
                bad.append("%s: catalog lists a copy with no path: %s" % (path, json.dumps(c)))
                continue
            if not os.path.isfile(copy):
                bad.append("%s: catalog lists copy %s but it is not on disk" % (path, copy))
                continue
            actual = sha_of_file(copy)
            if actual != sha:
                bad.append("%s: copy %s hashes to %s, catalog says %s" % (path, copy, actual, sha))
        if sha is None:
            continue
        if srcdir is not None:
            try:
                actual = sha_of_file(srcdir + path)
            except OSError as e:
                bad.append("%s: the file put on the device cannot be read: %s" % (path, e))
                continue
            if actual != sha:
                bad.append("%s: the file put on the device hashes to %s, catalog says %s" % (path, actual, sha))
        else:
            actual, why = tsk.sha(path)
            if why:
                bad.append("%s: device file %s" % (path, why))
            elif actual != sha:
                bad.append("%s: device file hashes to %s, catalog says %s" % (path, actual, sha))
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        sys.exit(1)
    print(len(recs))


main()
