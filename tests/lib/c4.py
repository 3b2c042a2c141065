"""C4 ID of bytes (SHA-512 in base58, "c4" + 88 characters), as the ASC MHL
chain records each generation's: computed here apart from dockd's own."""
import hashlib

A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def c4(b):
    n, s = int.from_bytes(hashlib.sha512(b).digest(), "big"), ""
    while n:
        n, r = divmod(n, 58)
        s = A[r] + s
    return "c4" + s.rjust(88, "1")
