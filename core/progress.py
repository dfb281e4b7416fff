"""Progress on stderr while a command reads a long recording, when stderr is a terminal.

One line, rewritten in place (``inspect rec: 42%``) and erased at the end;
the share is the byte offset of the block being read in ``trace.bin``, so it
costs nothing to know. Nothing is written when stderr is not a terminal (a
pipe, a file, CI logs), so scripts and tests see exactly the command's own
output.

A replay shares the terminal with the program it runs, so its line appears
only once the replay has run for :data:`REPLAY_DELAY` seconds (a short replay
shows nothing extra) and never under a debugger, whose console the program's
output already fills. The line is written to file descriptor 2 as part of a
boundary call in flight: a replayed program's own stderr is not touched, and
nothing retrace writes can be mistaken for one of its calls.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from . import trace
from .runtime import in_flight

REPLAY_DELAY = 0.5
INTERVAL = 0.1
_monotonic = time.monotonic  # taken before any patch: our own clock reads are not events
_active: list[Progress] = []


def stderr_is_terminal() -> bool:
    try:
        return os.isatty(2)
    except OSError:
        return False


class Progress:
    """One progress line: ``label: N%``, at most every :data:`INTERVAL` seconds."""

    def __init__(self, label: str, total: int, delay: float = 0.0) -> None:
        self.label = label
        self.total = max(total, 1)
        self._due = _monotonic() + delay
        self._shown = False

    def show(self, done: int) -> None:
        now = _monotonic()
        if now < self._due:
            return
        self._due = now + INTERVAL
        if not self._shown:
            self._shown = True
            _active.append(self)
        _write(f"\r\033[K{self.label}: {min(100, 100 * done // self.total)}%")

    def done(self) -> None:
        """Erase the line, if one was shown."""
        if self._shown:
            self._shown = False
            _active.remove(self)
            _write("\r\033[K")


def erase() -> None:
    """Erase every progress line on screen (before a report that ends the process)."""
    for progress in list(_active):
        progress.done()


def _write(text: str) -> None:
    data = text.encode("utf-8", "replace")
    try:
        with in_flight():
            while data:
                data = data[os.write(2, data) :]
    except OSError:
        pass


class ShowingReader(trace.TraceReader):
    """A trace reader that shows how far replay has read, for ``retrace replay``."""

    def __init__(self, path: str, label: str) -> None:
        super().__init__(path)
        self.progress = Progress(label, self.size, delay=REPLAY_DELAY)

    def blocks(self) -> Iterator[tuple[int, list[Any]]]:
        """Show each block's offset; erase the line once the last block is read.

        A recording with a footer is not read past its last block (the
        cursor stops at the footer), so the end of the file, not the end of
        this generator, is when the line goes.
        """
        try:
            for offset, items in super().blocks():
                if self._file.tell() >= self.size:
                    self.progress.done()
                else:
                    self.progress.show(offset)
                yield offset, items
        finally:
            self.progress.done()


def replay_reader(path: str, label: str) -> trace.TraceReader:
    """The reader replay uses: showing progress when stderr is a terminal and no debugger runs."""
    if stderr_is_terminal() and "pydevd" not in sys.modules:
        return ShowingReader(path, label)
    return trace.TraceReader(path)
