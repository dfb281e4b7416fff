"""A blocking server process replays with no client: bind, listen and accept are boundaries."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from retrace.testing import replay

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
