"""Pure-Python network clients replay through the raw socket fallback, with their servers stopped."""

from __future__ import annotations

import http.server
import json
import socketserver
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrace.testing import record, record_and_replay, replay, run_retrace
from retrace.trace import DEF_SUMMARY, TraceReader


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.path}\n".encode() * 300
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])

    def log_message(self, *args: object) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib.sendmail; every message is kept in ``received``."""

    received: list[bytes] = []

    def handle(self) -> None:
        self.wfile.write(b"220 localhost ready\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-localhost\r\n250 SIZE 100000\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                message = b""
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    message += part
                _Smtp.received.append(message)
                self.wfile.write(b"250 2.0.0 queued as 42\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def servers() -> Iterator[dict[str, object]]:
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    mail = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    threads = [_serve(web), _serve(mail)]
    running = {"web": web, "mail": mail}

    def stop() -> None:
        for server in (web, mail):
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join()

    running["stop"] = stop
    yield running
    if web.socket.fileno() != -1:
        stop()


CLIENT_PROGRAM = textwrap.dedent(
    """
    import http.client, smtplib, sys, urllib.request
    web_port, mail_port = int(sys.argv[1]), int(sys.argv[2])
    conn = http.client.HTTPConnection("127.0.0.1", web_port, timeout=5)
    conn.request("GET", "/first")
    response = conn.getresponse()
    body = response.read()
    print(response.status, response.getheader("Content-Type"), len(body), body[:20])
    conn.request("POST", "/echo", body=b"abcdef", headers={"Content-Type": "text/plain"})
    response = conn.getresponse()
    print(response.status, response.read())
    conn.close()
    with urllib.request.urlopen(f"http://localhost:{web_port}/via-urllib", timeout=5) as r:
        print("urllib", r.status, r.read().splitlines()[0])
    with smtplib.SMTP("127.0.0.1", mail_port, timeout=5) as smtp:
        print("ehlo", smtp.ehlo()[0])
        refused = smtp.sendmail("a@example.com", ["b@example.com"],
                                "Subject: hi\\r\\n\\r\\nbody text\\r\\n")
        print("refused", refused)
    try:
        http.client.HTTPConnection("127.0.0.1", 1, timeout=5).request("GET", "/")
    except ConnectionRefusedError as exc:
        print("refused", exc.errno)
    """
)


def test_http_client_urllib_and_smtplib_replay_with_the_servers_stopped(
        tmp_path: Path, servers: dict[str, object]) -> None:
    program = tmp_path / "client.py"
    program.write_text(CLIENT_PROGRAM)
    web_port = servers["web"].server_address[1]  # type: ignore[attr-defined]
    mail_port = servers["mail"].server_address[1]  # type: ignore[attr-defined]
    _Smtp.received.clear()
    recorded, _ = record_and_replay(program, tmp_path / "rec", str(web_port), str(mail_port),
                                    between=servers["stop"], times=2)  # type: ignore[arg-type]
    assert "200 text/plain 5400 b'hello from /first\\nhe'" in recorded.stdout
    assert "201 b'fedcba'" in recorded.stdout
    assert "urllib 200 b'hello from /via-urllib'" in recorded.stdout
    assert "ehlo 250" in recorded.stdout and "refused {}" in recorded.stdout
    assert len(_Smtp.received) == 1, "the replays sent mail"


def test_sockets_inside_a_library_boundary_are_not_recorded_twice(
        tmp_path: Path, servers: dict[str, object]) -> None:
    program = tmp_path / "library.py"
    program.write_text(textwrap.dedent(
        """
        import http.client, sys
        from retrace import Boundary
        from retrace.runtime import call

        FETCH = Boundary("somelib.fetch")  # what a library adapter (requests, redis) declares

        def fetch(port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/inside")
            return conn.getresponse().read()

        print(call(FETCH, fetch, int(sys.argv[1]))[:18])
        """
    ))
    web_port = servers["web"].server_address[1]  # type: ignore[attr-defined]
    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec, str(web_port),
                                    between=servers["stop"])  # type: ignore[arg-type]
    assert recorded.stdout == "b'hello from /inside'\n"
    info = json.loads(run_retrace(["inspect", "--json", str(rec)]).stdout)
    names = {row["boundary"] for row in info["boundaries"]}
    assert "somelib.fetch" in names
    assert not {n for n in names if n.startswith("socket.")}, names


def test_sends_are_summarised_by_size_so_their_summaries_are_written_once(
        tmp_path: Path, servers: dict[str, object]) -> None:
    """The data's CRC is in the fingerprint (replay still checks what is sent); the summary
    says how much, so thirty different requests of two sizes define two send summaries."""
    program = tmp_path / "posts.py"
    program.write_text(textwrap.dedent(
        """
        import socket, sys
        for i in range(30):
            conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            body = f"message {i}".encode()
            conn.sendall(b"POST / HTTP/1.0\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
            conn.close()
            print(answer.split(b"\\r\\n\\r\\n", 1)[1])
        """
    ))
    web_port = servers["web"].server_address[1]  # type: ignore[attr-defined]
    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec, str(web_port),
                                    between=servers["stop"])  # type: ignore[arg-type]
    assert recorded.stdout.splitlines()[-1] == "b'92 egassem'"
    reader = TraceReader(str(rec / "trace.bin"))
    try:
        summaries = [value for _offset, items in reader.blocks()
                     for code, value in zip(items[1::5], items[4::5], strict=True)
                     if code == DEF_SUMMARY]
    finally:
        reader.close()
    assert sorted(s for s in summaries if s.startswith("sendall")) == [
        "sendall 47 bytes", "sendall 49 bytes"]


def test_a_replay_that_sends_other_bytes_of_the_same_size_diverges_at_that_send(
        tmp_path: Path, servers: dict[str, object]) -> None:
    """The fingerprint holds the data's CRC, not just its size: a request that differs in
    one digit stops the replay at its ``sendall``, before any answer is handed out."""
    program = tmp_path / "varying.py"
    program.write_text(textwrap.dedent(
        """
        import socket, sys, time
        conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        # CLOCK_MONOTONIC through clock_gettime_ns is not a boundary: it differs on replay
        path = f"/{time.clock_gettime_ns(time.CLOCK_MONOTONIC) % 10**6:06d}"
        conn.sendall(f"GET {path} HTTP/1.0\\r\\n\\r\\n".encode())
        print(conn.recv(12))
        """
    ))
    web_port = servers["web"].server_address[1]  # type: ignore[attr-defined]
    rec = tmp_path / "rec"
    recorded = record(program, rec, str(web_port), cwd=tmp_path)
    assert recorded.status == 0 and "b'HTTP/1.0 200'" in recorded.stdout, recorded.stderr
    stop = servers["stop"]
    stop()  # type: ignore[operator]
    replayed = replay(rec)
    assert replayed.status != 0
    assert "socket.send" in replayed.stderr and "sendall 24 bytes" in replayed.stderr, (
        replayed.stderr)
    assert "HTTP/1.0 200" not in replayed.stdout


def test_fingerprints_are_one_string_each() -> None:
    """Version 2 of the adapter's events: every socket call is fingerprinted by one string
    (digested as its bytes), and the adapter says so in the header."""
    from retrace.adapters.sockets import SEND, SocketsAdapter

    assert SocketsAdapter.events == 2
    assert SEND.fingerprint is not None and SEND.summary is not None
    assert SEND.fingerprint(None, ("sendall 0000002a 3", "sendall 3 bytes"), {}) == (
        "sendall 0000002a 3")
    assert SEND.summary(None, ("sendall 0000002a 3", "sendall 3 bytes"), {}) == "sendall 3 bytes"


def test_no_adopted_socket_is_false_so_waits_on_pipes_skip_the_selector_walk() -> None:
    from retrace.adapters.sockets import _Sockets

    sockets = _Sockets()
    assert not sockets
    import socket

    sock = socket.socket()
    try:
        sockets.add(sock)
        assert sockets and sock in sockets
    finally:
        sock.close()
    del sock
    assert not sockets
