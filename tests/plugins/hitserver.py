"""A real HTTP server in a process of its own that logs every request it serves.

Run as ``python hitserver.py LOG``: it prints its port on stdout, then
answers ``GET /<name>`` with ``<name> #<n>`` (``n`` counts every request it
served) and appends ``<name>`` to ``LOG``. The tests read the log to see
which requests reached the network. It runs outside the test process so
none of its own calls can land in a recording made there.
"""

from __future__ import annotations

import http.server
import sys
from typing import Any


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        Handler.served += 1
        name = self.path.lstrip("/")
        with open(sys.argv[1], "a") as log:
            log.write(name + "\n")
        body = f"{name} #{Handler.served}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
