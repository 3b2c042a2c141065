#!/usr/bin/env python3
"""fatedit — find and edit directory entries of FAT12/16/32 and exFAT images,
to build the damaged and hostile volumes dockd's tests need (what a corrupt
card or odd firmware writes). Its own small parser, independent of dockd's.

  fatedit.py IMG [--base BYTES] find PATH            entry facts as JSON
  fatedit.py IMG set-sfn PATH HEX11                  the 8.3 name's 11 raw bytes (long-name checksums follow)
  fatedit.py IMG set-lfn PATH U16HEX[,U16HEX...]     the long name's UTF-16 units
  fatedit.py IMG set-first PATH CLUSTER              the first cluster
  fatedit.py IMG set-size PATH BYTES                 the size (exFAT: both lengths)
  fatedit.py IMG set-valid PATH BYTES                exFAT ValidDataLength
  fatedit.py IMG set-name PATH NAME                  exFAT: the name (same length)
  fatedit.py IMG break-checksum PATH                 exFAT: a bad entry-set checksum
  fatedit.py IMG break-dir-chain PATH                a directory's first cluster links to a free one
  fatedit.py IMG lost-chain N                        N free clusters marked in use, owned by nothing
  fatedit.py IMG fat-off COPY                        byte offset of FAT copy COPY (0 or 1)
  fatedit.py IMG dir-off PATH                        byte offset and length of a directory's first cluster
  fatedit.py IMG root-cluster                        exFAT/FAT32: the root directory's first cluster
  fatedit.py IMG poke PATH OFFSET HEX               overwrite a file's bytes at OFFSET (a device that changed)
  fatedit.py IMG cat PATH                            a file's bytes, by its own reading of the volume
  fatedit.py IMG oracle RECS.json SESSION.json       completeness: every file in use on the volume has
                                                     a recording with its SHA-256 and 2 verified copies,
                                                     or is named in the session's unread list
"""
import hashlib
import sys as _sys
_sys.setrecursionlimit(20000)
import json
import struct
import sys


class Vol:
    def __init__(self, path, base=0):
        try:
            self.f = open(path, "r+b")
        except OSError:
            self.f = open(path, "rb")
        self.base = base
        bs = self.read(0, 512)
        if bs[3:11] == b"EXFAT   ":
            self.exfat = True
            self.bps = 1 << bs[108]
            self.cs = self.bps << bs[109]
            self.fat_offs = [struct.unpack_from("<I", bs, 80)[0] * self.bps]
            self.fat_len = struct.unpack_from("<I", bs, 84)[0] * self.bps
            if bs[110] == 2:
                self.fat_offs.append(self.fat_offs[0] + self.fat_len)
            self.heap = struct.unpack_from("<I", bs, 88)[0] * self.bps
            self.nclus = struct.unpack_from("<I", bs, 92)[0]
            self.root = struct.unpack_from("<I", bs, 96)[0]
            self.type = 64
        else:
            self.exfat = False
            bps, spc, res, nf, rootent, tot16, fs16 = struct.unpack_from("<HBHBHHxH", bs, 11)
            tot = tot16 or struct.unpack_from("<I", bs, 32)[0]
            fs = fs16 or struct.unpack_from("<I", bs, 36)[0]
            self.bps, self.cs = bps, bps * spc
            self.fat_len = fs * bps
            self.fat_offs = [(res + i * fs) * bps for i in range(nf)]
            rootsec = (rootent * 32 + bps - 1) // bps
            self.root_off = (res + nf * fs) * bps
            self.root_len = rootent * 32
            self.heap = (res + nf * fs + rootsec) * bps
            self.nclus = (tot - res - nf * fs - rootsec) // spc
            self.type = 32 if fs16 == 0 else (12 if self.nclus < 4085 else 16)
            self.root = struct.unpack_from("<I", bs, 44)[0] if self.type == 32 else 0

    def read(self, off, n):
        self.f.seek(self.base + off)
        return self.f.read(n)

    def write(self, off, b):
        self.f.seek(self.base + off)
        self.f.write(b)
        fat = getattr(self, "_fat", None)
        lo, hi = max(off, self.fat_offs[0]), min(off + len(b), self.fat_offs[0] + self.fat_len)
        if fat is not None and lo < hi:  # keep the copy of the first FAT as the disk has it
            fat[lo - self.fat_offs[0]:hi - self.fat_offs[0]] = b[lo - off:hi - off]

    def fat(self):
        """The first FAT, read once; writes into it update the copy."""
        if getattr(self, "_fat", None) is None:
            self._fat = bytearray(self.read(self.fat_offs[0], self.fat_len))
        return self._fat

    def coff(self, c):
        return self.heap + (c - 2) * self.cs

    def fat_get(self, c):
        fat = self.fat()
        if self.type == 12:
            v = struct.unpack_from("<H", fat, c + c // 2)[0]
            return v >> 4 if c & 1 else v & 0xFFF
        if self.type == 16:
            return struct.unpack_from("<H", fat, 2 * c)[0]
        v = struct.unpack_from("<I", fat, 4 * c)[0]
        return v & 0x0FFFFFFF if self.type == 32 else v

    def fat_set(self, c, v):
        for o in self.fat_offs:
            if self.type == 12:
                at = o + c + c // 2
                old = struct.unpack("<H", self.read(at, 2))[0]
                new = (old & 0x000F) | (v << 4) if c & 1 else (old & 0xF000) | v
                self.write(at, struct.pack("<H", new))
            elif self.type == 16:
                self.write(o + 2 * c, struct.pack("<H", v))
            else:
                self.write(o + 4 * c, struct.pack("<I", v))

    def eoc(self, v):
        return v >= {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8, 64: 0xFFFFFFF8}[self.type]

    def chain(self, c, n=None):
        out = []
        while 2 <= c < self.nclus + 2 and len(out) <= self.nclus:
            out.append(c)
            if n and len(out) >= n:
                break
            v = self.fat_get(c)
            if v == 0 or self.eoc(v):
                break
            c = v
        return out

    def dir_slots(self, first, size=None, contiguous=False):
        """(byte offset of each 32-byte slot) of a directory."""
        if first == 0 and not self.exfat and self.type != 32:
            return [self.root_off + 32 * i for i in range(self.root_len // 32)]
        if contiguous:
            clus = list(range(first, first + size // self.cs))
        else:
            clus = self.chain(first, size // self.cs if size else None)
        return [self.coff(c) + 32 * i for c in clus for i in range(self.cs // 32)]

    # ---- walking ----
    def entries(self, first, size=None, contiguous=False, prefix="", seen=None):
        seen = set() if seen is None else seen
        if first in seen:
            return      # a loop: walked once
        seen.add(first)
        slots = self.dir_slots(first, size, contiguous)
        if self.exfat:
            yield from self.exfat_entries(slots, prefix, seen)
            return
        lfn = []
        for i, off in enumerate(slots):
            e = self.read(off, 32)
            if len(e) < 32:
                break
            if e[0] == 0:
                lfn = []
                continue
            if e[11] & 0x3F == 0x0F:
                if e[0] != 0xE5:
                    lfn.append(off)
                continue
            if e[0] == 0xE5 or (e[11] & 0x08 and not e[11] & 0x10) or e[:2] in (b". ", b".."):
                lfn = []
                continue
            units = []
            for lo in reversed(lfn):
                le = self.read(lo, 32)
                raw = le[1:11] + le[14:26] + le[28:32]
                units += struct.unpack("<13H", raw)
            name = None
            if units:
                n = units.index(0) if 0 in units else len(units)
                name = "".join(chr(u) for u in units[:n])
            if not name:
                base = e[:8].rstrip(b" ").decode("latin-1")
                ext = e[8:11].rstrip(b" ").decode("latin-1")
                base = base.lower() if e[12] & 0x08 else base   # Windows NT's lower-case flags
                ext = ext.lower() if e[12] & 0x10 else ext
                name = base + ("." + ext if ext else "")
            first_c = struct.unpack_from("<H", e, 26)[0] | (struct.unpack_from("<H", e, 20)[0] << 16 if self.type == 32 else 0)
            ent = {"path": prefix + "/" + name, "sfn_off": off, "lfn_offs": list(lfn), "index": i,
                   "first": first_c, "size": struct.unpack_from("<I", e, 28)[0], "dir": bool(e[11] & 0x10)}
            lfn = []
            yield ent
            if ent["dir"]:
                yield from self.entries(first_c, None, False, ent["path"], seen)

    def exfat_entries(self, slots, prefix, seen):
        i = 0
        while i < len(slots):
            e = self.read(slots[i], 32)
            if len(e) < 32:
                break
            if e[0] != 0x85:
                i += 1
                continue
            sec = e[1]
            offs = slots[i:i + sec + 1]
            s = self.read(offs[1], 32)
            nlen = s[3]
            units = []
            for k in range((nlen + 14) // 15):
                ne = self.read(offs[2 + k], 32)
                units += struct.unpack_from("<15H", ne, 2)
            name = "".join(chr(u) for u in units[:nlen])
            attr = struct.unpack_from("<H", e, 4)[0]
            ent = {"path": prefix + "/" + name, "set_offs": offs, "index": i,
                   "first": struct.unpack_from("<I", s, 20)[0], "size": struct.unpack_from("<Q", s, 24)[0],
                   "contiguous": bool(s[1] & 2), "dir": bool(attr & 0x10)}
            yield ent
            i += sec + 1
            if ent["dir"]:
                yield from self.entries(ent["first"], ent["size"], ent["contiguous"], ent["path"], seen)

    def content(self, e):
        n = (e["size"] + self.cs - 1) // self.cs
        if n > self.nclus:
            raise ValueError("larger than the volume")
        clus = list(range(e["first"], e["first"] + n)) if e.get("contiguous") else self.chain(e["first"], n)
        if len(clus) < n:
            raise ValueError("broken chain")
        # One read per run of consecutive clusters.
        parts, i = [], 0
        while i < len(clus):
            j = i + 1
            while j < len(clus) and clus[j] == clus[j - 1] + 1:
                j += 1
            parts.append(self.read(self.coff(clus[i]), (j - i) * self.cs))
            i = j
        return b"".join(parts)[:e["size"]]

    def find(self, path):
        for e in self.entries(self.root):
            if e["path"] == path:
                return e
        sys.exit("fatedit: no entry %s" % path)

    def fix_checksum(self, ent):
        data = b"".join(self.read(o, 32) for o in ent["set_offs"])
        s = 0
        for i, b in enumerate(data):
            if i in (2, 3):
                continue
            s = ((0x8000 if s & 1 else 0) + (s >> 1) + b) & 0xFFFF
        self.write(ent["set_offs"][0] + 2, struct.pack("<H", s))

    def free_clusters(self, n):
        out = []
        for c in range(2, self.nclus + 2):
            if self.fat_get(c) == 0 and (not self.exfat or not self.bitmap_get(c)):
                out.append(c)
                if len(out) == n:
                    return out
        sys.exit("fatedit: not %d free clusters" % n)

    def bitmap_off(self):
        for off in self.dir_slots(self.root):
            e = self.read(off, 32)
            if e[0] == 0x81:
                return self.coff(struct.unpack_from("<I", e, 20)[0])
        sys.exit("fatedit: no allocation bitmap")

    def bitmap_get(self, c):
        b = self.read(self.bitmap_off() + (c - 2) // 8, 1)[0]
        return b >> ((c - 2) % 8) & 1

    def bitmap_set(self, c):
        at = self.bitmap_off() + (c - 2) // 8
        b = self.read(at, 1)[0] | (1 << ((c - 2) % 8))
        self.write(at, bytes([b]))


def main():
    args = sys.argv[1:]
    img = args.pop(0)
    base = 0
    if args and args[0] == "--base":
        args.pop(0)
        base = int(args.pop(0))
    v = Vol(img, base)
    cmd = args.pop(0)
    if cmd == "find":
        print(json.dumps(v.find(args[0])))
    elif cmd == "set-sfn":
        e = v.find(args[0])
        raw = bytes.fromhex(args[1])
        v.write(e["sfn_off"], raw)
        cks = 0
        for b in raw:
            cks = (((cks & 1) << 7) + (cks >> 1) + b) & 0xFF
        for lo in e["lfn_offs"]:
            v.write(lo + 13, bytes([cks]))
    elif cmd == "set-lfn":
        e = v.find(args[0])
        units = [int(x, 16) for x in args[1].split(",")] if args[1] else []
        room = 13 * len(e["lfn_offs"])
        if len(units) > room:
            sys.exit("fatedit: %d units do not fit in %d long-name entries" % (len(units), len(e["lfn_offs"])))
        units = units + ([0] if len(units) < room else [])
        units += [0xFFFF] * (room - len(units))
        for k, lo in enumerate(reversed(e["lfn_offs"])):
            u = units[13 * k:13 * k + 13]
            le = bytearray(v.read(lo, 32))
            le[1:11] = struct.pack("<5H", *u[:5])
            le[14:26] = struct.pack("<6H", *u[5:11])
            le[28:32] = struct.pack("<2H", *u[11:13])
            v.write(lo, bytes(le))
    elif cmd in ("set-first", "set-size", "set-valid"):
        e = v.find(args[0])
        n = int(args[1])
        if v.exfat:
            so = e["set_offs"][1]
            if cmd == "set-first":
                v.write(so + 20, struct.pack("<I", n))
            if cmd in ("set-size", "set-valid"):
                v.write(so + 8, struct.pack("<Q", n))
            if cmd == "set-size":
                v.write(so + 24, struct.pack("<Q", n))
            v.fix_checksum(e)
        elif cmd == "set-first":
            v.write(e["sfn_off"] + 26, struct.pack("<H", n & 0xFFFF))
            v.write(e["sfn_off"] + 20, struct.pack("<H", n >> 16))
        else:
            v.write(e["sfn_off"] + 28, struct.pack("<I", n))
    elif cmd == "set-name":
        e = v.find(args[0])
        units = list(args[1].encode("utf-16-le"))
        units = struct.unpack("<%dH" % (len(units) // 2), bytes(units))
        nlen = v.read(e["set_offs"][1], 32)[3]
        if len(units) != nlen:
            sys.exit("fatedit: set-name keeps the length (%d units)" % nlen)
        for k, u in enumerate(units):
            v.write(e["set_offs"][2 + k // 15] + 2 + 2 * (k % 15), struct.pack("<H", u))
        v.fix_checksum(e)
    elif cmd == "break-checksum":
        e = v.find(args[0])
        c = struct.unpack("<H", v.read(e["set_offs"][0] + 2, 2))[0]
        v.write(e["set_offs"][0] + 2, struct.pack("<H", c ^ 0x5A5A))
    elif cmd == "break-dir-chain":
        e = v.find(args[0])
        c = v.free_clusters(1)[0]
        v.fat_set(e["first"], c)        # the next cluster is marked free: a broken link
    elif cmd == "lost-chain":
        cl = v.free_clusters(int(args[0]))
        eoc = {12: 0xFFF, 16: 0xFFFF, 32: 0x0FFFFFFF, 64: 0xFFFFFFFF}[v.type]
        for a, b in zip(cl, cl[1:] + [None]):
            v.fat_set(a, b if b else eoc)
            if v.exfat:
                v.bitmap_set(a)
            v.write(v.coff(a), b"lost footage " * (v.cs // 13) + b"\0" * (v.cs % 13))
        print(" ".join(map(str, cl)))
    elif cmd == "poke":
        e = v.find(args[0])
        off, data = int(args[1]), bytes.fromhex(args[2])
        n = (e["size"] + v.cs - 1) // v.cs
        clus = list(range(e["first"], e["first"] + n)) if e.get("contiguous") else v.chain(e["first"], n)
        for k, b in enumerate(data):
            at = off + k
            v.write(v.coff(clus[at // v.cs]) + at % v.cs, bytes([b]))
    elif cmd == "cat":
        sys.stdout.buffer.write(v.content(v.find(args[0])))
    elif cmd == "oracle":
        recs = json.load(open(args[0]))
        sess = json.load(open(args[1]))
        if isinstance(sess, list):
            sess = sess[-1]
        unread = "\n".join(sess.get("unread", []))
        pool = {}
        for r in recs:
            if r.get("sha256") and len(r.get("copies", [])) >= 2:
                pool.setdefault(r["sha256"], []).append(r["device_path"])
        missing, named, ok = [], [], 0
        for e in v.entries(v.root):
            if e["dir"]:
                continue
            try:
                sha = hashlib.sha256(v.content(e)).hexdigest()
            except Exception:
                sha = None
            if sha and pool.get(sha):
                pool[sha].pop()
                ok += 1
            elif e["path"].rsplit("/", 1)[-1] in unread or e["path"] in unread or any(
                    ("\n" + e["path"][:k] + ":") in ("\n" + unread) for k in range(1, len(e["path"]))
                    if e["path"][k] == "/"):
                named.append(e["path"])
            else:
                missing.append(e["path"])
        print(json.dumps({"verified": ok, "named_unread": named, "missing": missing}))
        sys.exit(1 if missing else 0)
    elif cmd == "fat-off":
        print(v.fat_offs[int(args[0])])
    elif cmd == "dir-off":
        e = v.find(args[0])
        print(v.coff(e["first"]), v.cs)
    elif cmd == "root-cluster":
        print(v.root)
    else:
        sys.exit("fatedit: unknown command %s" % cmd)


main()
