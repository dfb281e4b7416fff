"""The debugger's input: lines from file descriptor 0, read without read-ahead.

Several processes take turns at the same terminal or pipe (the live process
changes whenever the debugger goes back), so no process may buffer input it
has not used: a line is read a byte at a time. While waiting, the process
also watches its connection to the coordinator, and leaves if that ends.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from typing import NoReturn

from .channel import Channel


class LineReader:
    """``readline()`` for :mod:`cmd` (with ``use_rawinput = False``)."""

    def __init__(self, link: Channel, gone: Callable[[], NoReturn], fd: int = 0) -> None:
        self.link = link
        self.gone = gone
        self.fd = fd

    def readline(self) -> str:
        line = bytearray()
        while True:
            readable, _, _ = select.select([self.fd, self.link.fileno()], [], [])
            if self.link.fileno() in readable and self.link.pending() and not self.link.feed():
                self.gone()  # the coordinator is gone: so is the session
            if self.fd not in readable:
                continue
            byte = os.read(self.fd, 1)
            if not byte:
                return line.decode(errors="replace")
            line += byte
            if byte == b"\n":
                return line.decode(errors="replace")
