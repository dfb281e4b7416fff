"""The real HTTP server the requests adapter's tests talk to.

Stdlib ``http.server`` in a thread of the test process, on a random port.
Every route answers deterministically from the request except ``Date``; the
tests stop the server between recording and replay, so a replay that tried
the network would fail.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import socket
import threading
import time
import zlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SERVER_SECRETS = {
    "cookie": "srv-cookie-7f3a9c1e55d2",
    "access_token": "srv-access-4b8e2d61a0f9",
    "refresh_token": "srv-refresh-93c7a1e5b2d4",
    "auth_header": "srv-header-e6a4c0f27b19",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One send per response: with headers and body in separate small writes,
    # Nagle's algorithm and delayed ACKs add 40 ms to every keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "RetraceTest/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    return data
                data += chunk
        return b""

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None,
              content_type: str = "text/plain; charset=utf-8", length: bool = True) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, dict(parse_qsl(url.query))
        body = self._body()
        if path == "/plain":
            text = "hello from the server\n" + "".join(f"line {i}\n" for i in range(5))
            self._send(200, text.encode(), [("X-Query", url.query)])
        elif path == "/json":
            doc = {"name": "café", "items": [1, 2.5, None, True], "nested": {"k": "v"}}
            self._send(200, json.dumps(doc).encode(), content_type="application/json")
        elif path == "/bytes":
            self._send(200, bytes(range(256)) * 3, content_type="application/octet-stream")
        elif path == "/gzip":
            data = json.dumps({"compressed": "gzip", "pad": "z" * 300}).encode()
            self._send(200, gzip.compress(data, mtime=0), [("Content-Encoding", "gzip")],
                       content_type="application/json")
        elif path == "/deflate":
            data = b"deflated text " * 40
            self._send(200, zlib.compress(data), [("Content-Encoding", "deflate")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first chunk\n", b"second\nchunk\n", b"x" * 100, b"\nlast"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/headers":
            self._send(200, b"headers", [("X-Multi", "one"), ("X-Other", "between"),
                                         ("X-Multi", "two"), ("x-multi", "three"),
                                         ("Link", '</next>; rel="next"')])
        elif path == "/cookies":
            self._send(200, b"cookies", [("Set-Cookie", "flavour=oatmeal; Path=/"),
                                         ("Set-Cookie", "colour=blue; Path=/; HttpOnly"),
                                         ("Set-Cookie", "ttl=1; Max-Age=3600; Path=/")])
        elif path.startswith("/redirect/"):
            hops = int(path.rsplit("/", 1)[1])
            codes = {3: 301, 2: 302, 1: 303}
            target = f"/redirect/{hops - 1}" if hops > 1 else "/json"
            self._send(codes.get(hops, 307), b"moved",
                       [("Location", target), ("Set-Cookie", f"hop{hops}=seen; Path=/")])
        elif path == "/loop":
            self._send(302, b"", [("Location", "/loop")])
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, f"status {code}".encode())
        elif path == "/latin1":
            self._send(200, "naïve façade".encode("latin-1"),
                       content_type="text/plain; charset=iso-8859-1")
        elif path == "/nocharset":
            self._send(200, "plain ünïcode".encode(), content_type="text/html")
        elif path == "/slow":
            time.sleep(float(query.get("s", "1")))
            self._send(200, b"late")
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only part of it")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/login":
            doc = {"user": "ada", "access_token": SERVER_SECRETS["access_token"]}
            self._send(200, json.dumps(doc, indent=1).encode(),
                       [("Set-Cookie", f"session={SERVER_SECRETS['cookie']}; Path=/; HttpOnly"),
                        ("X-Auth-Token", SERVER_SECRETS["auth_header"])],
                       content_type="application/json")
        elif path == "/refresh":
            doc = {"refresh_token": SERVER_SECRETS["refresh_token"], "ok": True}
            self._send(200, gzip.compress(json.dumps(doc).encode(), mtime=0),
                       [("Content-Encoding", "gzip")], content_type="application/json")
        else:
            self._echo(url.query, body)

    def _echo(self, query: str, body: bytes) -> None:
        doc = {
            "method": self.command,
            "path": self.path,
            "query": query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body": body.decode("utf-8", "replace")[:200],
        }
        self._send(200, json.dumps(doc).encode(), content_type="application/json")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _route


class Server:
    """The test server, running until :meth:`stop`."""

    def __init__(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.httpd.shutdown()
            self.httpd.server_close()
            self._thread.join()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", self.port)) != 0, "server still reachable"
