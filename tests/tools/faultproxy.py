#!/usr/bin/env python3
"""faultproxy: a TCP proxy on 127.0.0.1 in front of a real server (RGW), for
the faults the server itself will not produce on demand. The bytes pass
through untouched (a SigV4 signature over the Host header still holds), unless
the file MODE_FILE says otherwise, read at each new connection:

  pass      forward both ways (also when the file is missing or empty)
  500       answer every request "500 Internal Server Error" and close
  stall     read the request, answer nothing (a server that hangs)
  cut:N     forward the first N bytes of the request, then close both sides
            (the server dies mid-upload)
  flip:N    forward both ways, but flip byte N of what the server sends back
            on a connection (a large GET's body: a server that lies)
  upflip:N  forward both ways, but flip byte N of what the client sends on a
            connection (an upload's body altered on its way)
  nostream  forward both ways, but answer a chunk-signed upload
            (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) "400 InvalidRequest", as AWS
            S3 does when such a PUT carries lock parameters, and close

Usage: faultproxy.py LISTEN_PORT TARGET_PORT MODE_FILE
"""
import socket
import sys
import threading

listen_port, target_port, mode_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


def pipe(src, dst, limit=None, flip=None):
    sent = 0
    try:
        while True:
            want = 65536 if limit is None else min(65536, limit - sent)
            if want <= 0:
                break
            data = src.recv(want)
            if not data:
                break
            if flip is not None and sent <= flip < sent + len(data):
                b = bytearray(data)
                b[flip - sent] ^= 0x01
                data = bytes(b)
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def refuse_streaming(client, server):
    body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>Content-MD5 OR '
            b'x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters'
            b'</Message></Error>')
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            if b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD" in data:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                               b"Connection: close\r\n\r\n%s" % (len(body), body))
                break
            server.sendall(data)
    except OSError:
        pass
    for s in (client, server):
        try:
            s.close()
        except OSError:
            pass


def serve(client):
    m = mode()
    if m == "500":
        try:
            client.recv(65536)
            client.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        client.close()
        return
    if m == "stall":
        try:
            while client.recv(65536):
                pass
        except OSError:
            pass
        client.close()
        return
    server = socket.create_connection(("127.0.0.1", target_port))
    if m == "nostream":
        threading.Thread(target=pipe, args=(server, client), daemon=True).start()
        refuse_streaming(client, server)
        return
    limit = int(m.split(":")[1]) if m.startswith("cut:") else None
    flip = int(m.split(":")[1]) if m.startswith("flip:") else None
    upflip = int(m.split(":")[1]) if m.startswith("upflip:") else None
    threading.Thread(target=pipe, args=(server, client, None, flip), daemon=True).start()
    pipe(client, server, limit, upflip)
    if limit is not None:
        client.close()
        server.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
