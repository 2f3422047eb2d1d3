#!/usr/bin/env python3
"""A loopback HTTP(S) echo server for SetpointHTTP's tests.

Usage: echo_server.py [CERT KEY]   — prints its port, then serves until killed.
Replies with JSON: method, path, body, the Authorization header and the client's port (to see connection reuse).
/status/500 answers 500 with a reason phrase; /slow waits 3 s.
"""
import http.server
import json
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/status/500":
            self.send_response(500, "VM 101 is locked (clone)")
            payload = b'{"data":null}'
        else:
            self.send_response(200)
            payload = json.dumps({
                "method": self.command, "path": self.path, "body": body.decode(),
                "auth": self.headers.get("Authorization"), "port": self.client_address[1],
            }).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = reply

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) == 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
