"""Waiting on a recorded socket (``select``, ``selectors``) replays what was ready, server stopped."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrace.testing import record_and_replay


@pytest.fixture
def slow_server() -> Iterator[tuple[int, socket.socket]]:
    """Answers each line after a pause, so a short wait finds nothing ready first."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while line := conn.recv(100):
                    time.sleep(0.3)
                    conn.sendall(b"echo " + line)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], listener
    stop.set()
    listener.close()


CLIENT = textwrap.dedent(
    """
    import select, selectors, socket, sys
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    sock.sendall(b"one")
    print("at once", select.select([sock], [], [], 0.01))  # not ready yet
    print("writable", select.select([], [sock], [], 0)[1] == [sock])
    readable, _, _ = select.select([sock], [], [], 5)
    print("later", readable == [sock], sock.recv(100))
    sock.sendall(b"two")
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ, data="mine")
        print("selector at once", selector.select(timeout=0.01))
        events = selector.select(timeout=5)
        print("selector later", [(key.data, mask) for key, mask in events], sock.recv(100))
    sock.close()
    """
)


def test_readiness_replays_as_recorded(tmp_path: Path, slow_server: tuple[int, socket.socket]) -> None:
    port, listener = slow_server
    program = tmp_path / "client.py"
    program.write_text(CLIENT)
    recorded, _ = record_and_replay(program, tmp_path / "rec", str(port), between=listener.close,
                                    times=2)
    assert "at once ([], [], [])" in recorded.stdout
    assert "writable True\nlater True b'echo one'" in recorded.stdout
    assert "selector at once []" in recorded.stdout
    assert "selector later [('mine', 1)] b'echo two'" in recorded.stdout
