"""The program's output, shown once however often the debugger runs over it.

A replay prints the same characters in the same order every time, so what
has been shown is a count: a process resumed from a checkpoint writes
nothing until its own count passes the furthest count any process of the
session has shown, then only the part past it.

Only writes through ``sys.stdout`` and ``sys.stderr`` are counted; bytes
written to their ``buffer`` or straight to the file descriptors are not.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class ShownOnce:
    """Wraps a text stream; drops the first ``shown`` characters ever written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.written = 0
        self.shown = 0

    def write(self, text: str) -> int:
        n = len(text)
        start = self.written
        self.written += n
        if self.written > self.shown:
            self._stream.write(text[max(0, self.shown - start) :])
            self.shown = self.written
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> tuple[ShownOnce, ShownOnce]:
    """Put counting streams in ``sys.stdout`` and ``sys.stderr``."""
    out, err = ShownOnce(sys.stdout), ShownOnce(sys.stderr)
    sys.stdout, sys.stderr = out, err
    return out, err


def flush_all() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
