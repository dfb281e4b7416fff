"""A blocking server process replays with no client: bind, listen and accept are boundaries."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from retrace.testing import record, replay

SERVER = textwrap.dedent(
    """
    import sys
    import time
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass


    def app(environ, start_response):
        body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} at {time.time()}".encode()
        body += environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]


    server = WSGIServer(("127.0.0.1", int(sys.argv[1])), Quiet)
    server.set_app(app)
    print("listening on", server.server_address, flush=True)
    for _ in range(3):
        request, peer = server.get_request()  # accept, without waiting on a selector first
        server.process_request(request, peer)
        print("served", peer[0], flush=True)
    server.server_close()
    """
).lstrip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_wsgi_server_replays_the_requests_it_served_with_no_client(tmp_path: Path) -> None:
    program = tmp_path / "server.py"
    program.write_text(SERVER)
    port = _free_port()
    rec = tmp_path / "rec"
    server = subprocess.Popen([sys.executable, "-m", "retrace", "record", "-o", str(rec), str(program),
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=tmp_path)
    assert server.stdout is not None
    first = server.stdout.readline()
    assert first == f"listening on ('127.0.0.1', {port})\n", server.communicate()
    answers = []
    for method, path, body in (("GET", "/a", None), ("POST", "/b", b"payload"), ("GET", "/c", None)):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request(method, path, body=body)
        answers.append(client.getresponse().read().decode())
        client.close()
    rest, errors = server.communicate(timeout=30)
    assert (server.returncode, errors) == (0, "")
    assert answers[1].startswith("POST /b at ") and answers[1].endswith("payload")
    recorded = first + rest

    # The recorded port is taken now: replay must not bind it, and no client comes.
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        replayed = replay(rec)
    assert (replayed.status, replayed.stdout, replayed.stderr) == (0, recorded, "")


THREADING_SERVER = textwrap.dedent(
    """
    import http.server, subprocess, sys, time

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(f"{self.path} at {time.time()}".encode())

        def log_message(self, fmt, *args):
            print("served", args[0], flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    client = subprocess.Popen([sys.executable, "-c", f'''
    import urllib.request
    for path in ("/a", "/b", "/c"):
        urllib.request.urlopen("http://127.0.0.1:{server.server_port}" + path).read()
    '''])
    for _ in range(3):
        server.handle_request()
    print("client", client.wait())
    """
).lstrip()


def test_a_threading_server_replays_its_handler_threads_in_order(tmp_path: Path) -> None:
    """ThreadingMixIn runs the program's handlers in threads socketserver starts: they are the
    program's threads (the process ended before the last handler's line was printed, silently)."""
    program = tmp_path / "server.py"
    program.write_text(THREADING_SERVER)
    recorded, replays = record(program, tmp_path / "rec", cwd=tmp_path), []
    assert recorded.stdout == ("served GET /a HTTP/1.1\nserved GET /b HTTP/1.1\n"
                               "served GET /c HTTP/1.1\nclient 0\n"), recorded.stderr
    for _ in range(5):
        replays.append(replay(tmp_path / "rec"))
    for replayed in replays:
        assert replayed.observable() == recorded.observable(), replayed
