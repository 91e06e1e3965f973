#!/usr/bin/python3
"""A TLS HTTP/1.1 server on 127.0.0.1 for the agent::HttpsGet tests.

  https_range_server.py CERT KEY FILE      prints "PORT <n>" once listening

Paths (every one serves FILE's bytes):
  /file            200, or 206 for "Range: bytes=N-" (RFC Content-Range)
  /file-prosody    like /file, Content-Range end = size (Prosody 0.12's)
  /cut/N           like /file but closes the connection after N body bytes
  /norange         ignores Range: always 200 with the whole file
  /badrange        206 with a Content-Range that starts one byte late
  /redirect        302 to /file
  /chunked         200 with Transfer-Encoding: chunked
  /missing         404
  /error           503
  /stall           sends the headers, then nothing (never closes)
PUT /put (201, body stored in FILE.put, headers in FILE.put-headers), PUT /put-denied (403).
"""
import http.server
import re
import socketserver
import ssl
import sys
import time

CERT, KEY, FILE = sys.argv[1:4]
with open(FILE, "rb") as f:
    DATA = f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("Range", "-"), fmt % args))

    def send_body(self, body, status=200, extra=(), cut=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # abrupt: no close_notify, no rest
            self.close_connection = True
            return
        self.wfile.write(body)

    def ranged(self, prosody_end=False, cut=None, bad=False):
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if not m:
            return self.send_body(DATA, cut=cut)
        start = int(m.group(1))
        if start >= len(DATA):
            return self.send_body(b"", 416)
        end = len(DATA) if prosody_end else len(DATA) - 1
        first = start + 1 if bad else start
        return self.send_body(DATA[start:], 206, [("Content-Range", f"bytes {first}-{end}/{len(DATA)}")], cut=cut)

    def do_GET(self):
        p = self.path
        if p == "/file":
            return self.ranged()
        if p == "/file-prosody":
            return self.ranged(prosody_end=True)
        m = re.fullmatch(r"/cut/(\d+)", p)
        if m:
            return self.ranged(cut=int(m.group(1)))
        if p == "/norange":
            return self.send_body(DATA)
        if p == "/badrange":
            return self.ranged(bad=True)
        if p == "/redirect":
            return self.send_body(b"", 302, [("Location", "/file")])
        if p == "/missing":
            return self.send_body(b"no such file\n", 404)
        if p == "/error":
            return self.send_body(b"later\n", 503)
        if p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n0\r\n\r\n")
            return
        if p == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.flush()
            time.sleep(3600)
        self.send_body(b"?", 400)


    def do_PUT(self):
        """/put: stores the body in FILE.put (201) and echoes the headers to
        FILE.put-headers; /put-denied: 403 (after reading the body)."""
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(min(65536, n - len(body)))
            if not chunk:
                break
            body += chunk
        if self.path == "/put-denied":
            return self.send_body(b"no\n", 403)
        with open(FILE + ".put", "wb") as f:
            f.write(body)
        with open(FILE + ".put-headers", "w") as f:
            f.write("".join(f"{k}: {v}\n" for k, v in self.headers.items()))
        return self.send_body(b"", 201)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv = Server(("127.0.0.1", 0), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
