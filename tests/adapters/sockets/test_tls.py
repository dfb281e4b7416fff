"""TLS through the raw socket fallback: the plaintext is recorded, and replay needs no server."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrace.testing import record_and_replay, run_retrace


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"secret hello from {self.path}\n".encode() * 200
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, made for this test by ``openssl req``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the TLS server")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, http.server.HTTPServer]]:
    key, cert = certificate
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server
    server.shutdown()
    server.server_close()


CLIENT = textwrap.dedent(
    """
    import http.client, ssl, sys
    port, cafile = int(sys.argv[1]), sys.argv[2]
    context = ssl.create_default_context(cafile=cafile)
    connection = http.client.HTTPSConnection("localhost", port, context=context)
    connection.request("GET", "/tls")
    print("tls", connection.sock.version(), connection.sock.getpeercert()["subject"])
    response = connection.getresponse()
    body = response.read()
    print("status", response.status, len(body), body[:30])
    connection.close()
    strict = ssl.create_default_context()  # the system's roots do not know this certificate
    try:
        http.client.HTTPSConnection("localhost", port, context=strict).request("GET", "/")
    except ssl.SSLCertVerificationError as exc:
        print("refused", type(exc).__name__, exc.verify_code)
    """
)


def test_https_replays_its_plaintext_with_the_server_stopped(
        tmp_path: Path, tls_server: tuple[int, http.server.HTTPServer],
        certificate: tuple[Path, Path]) -> None:
    port, server = tls_server
    program = tmp_path / "client.py"
    program.write_text(CLIENT)

    def stop() -> None:
        server.shutdown()
        server.server_close()

    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec, str(port), str(certificate[1]), between=stop,
                                    times=2)
    assert "status 200 " in recorded.stdout and "b'secret hello from /tls" in recorded.stdout
    assert "tls TLSv1." in recorded.stdout and "localhost" in recorded.stdout
    assert "refused SSLCertVerificationError" in recorded.stdout
    trace = (rec / "trace.bin").read_bytes()
    assert b"secret hello from /tls" in trace, "the trace holds the plaintext"
    stats = run_retrace(["inspect", "--json", str(rec)]).stdout
    assert "ssl.SSLSocket.do_handshake" in stats
