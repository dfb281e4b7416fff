"""Helpers the asyncio tests share: program copies, an echo server process, a socket guard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
SOCKET_GUARD = """
import socket, sys

def _refuse(self, address, *args, **kwargs):
    sys.stderr.write(f"SOCKET OPENED DURING REPLAY: {address!r}\\n")
    raise OSError("replay must not open sockets")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


def program(tmp_path: Path, name: str) -> Path:
    """Copy ``programs/NAME`` into the test's folder; the copy is what gets recorded."""
    target = tmp_path / name
    target.write_text((PROGRAMS / name).read_text())
    return target


class EchoServer:
    """``programs/echo_server.py`` in a process of its own, on a free port."""

    def __init__(self, tmp_path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(program(tmp_path, "echo_server.py"))], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
