"""Messages between the processes of one debugging session: JSON lines over a Unix socket.

Every process of a session (the live one, each dormant checkpoint, each
runner) holds one connection to the coordinator. The connection is also the
lifeline: when the coordinator dies, even by SIGKILL, every read on it ends,
and the process leaves at once — no orphans.

The sockets are ``_socket.socket`` objects: during a replay the adapters
patch the methods of ``socket.socket`` (a Python subclass), and the
session's own traffic must never be taken for the program's. JSON carries
only plain data between processes that trust each other; nothing is ever
unpickled.
"""

from __future__ import annotations

import _socket
import json
import os
import select
from typing import Any

MAX_MESSAGE = 1 << 20


class Channel:
    """One connection, one JSON object per line."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    @classmethod
    def connect(cls, path: str) -> Channel:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.connect(path)
        return cls(sock)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any]) -> bool:
        """Send one message; False when the other end is gone."""
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def pending(self) -> bool:
        """Whether a message (or the end of the connection) is waiting."""
        if b"\n" in self._buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def feed(self) -> bool:
        """Read what is there (the socket is readable); False at the end of the connection."""
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            return False
        self._buffer += chunk
        return len(self._buffer) <= MAX_MESSAGE or b"\n" in self._buffer  # else: not our peer

    def take(self) -> dict[str, Any] | None:
        """A complete message already read, if any."""
        if b"\n" not in self._buffer:
            return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        return message if isinstance(message, dict) else None

    def recv(self) -> dict[str, Any] | None:
        """Block for the next message; None when the other end is gone."""
        while True:
            message = self.take()
            if message is not None:
                return message
            if not self.feed():
                return None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def listener(path: str) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock
