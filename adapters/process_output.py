"""What a child process prints to the stdout/stderr it shares with the program.

A child started without a pipe (``subprocess.run(cmd)``, ``os.system``)
writes straight to the program's file descriptors 1 and 2, past any
boundary. When recording, and when that descriptor is not a terminal, the
child is given a pipe instead and a :class:`Relay` thread copies every
chunk to the descriptor as it arrives (so the program's output looks as it
did) and keeps it; the chunks go into the event that sees the child end,
and replay writes them to the same descriptors at that point.

A terminal is left alone: a child that sees a pipe instead of a terminal
may print differently (colours, columns), and recording must not change
what the user sees. Such output is not replayed.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from retrace.runtime import LOCAL

TARGETS = {"stdout": 1, "stderr": 2}
_os_read = os.read
_os_write = os.write


def capturable(fd: int) -> bool:
    """Whether what a child writes to ``fd`` can be captured without changing it."""
    try:
        return not os.isatty(fd)
    except OSError:
        return False


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[_os_write(fd, view):]
    except OSError:
        pass


class Relay:
    """Copies one pipe to one descriptor in a thread, keeping the chunks."""

    def __init__(self, pipe_fd: int, target: int) -> None:
        self.target = target
        self.chunks: list[bytes] = []
        self._pipe_fd = pipe_fd
        self._thread = threading.Thread(target=self._run, name="retrace-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        LOCAL.busy = True  # nothing this thread does is the program's
        try:
            while True:
                chunk = _os_read(self._pipe_fd, 65536)
                if not chunk:
                    return
                write_all(self.target, chunk)
                self.chunks.append(chunk)
        except OSError:
            return
        finally:
            try:
                os.close(self._pipe_fd)
            except OSError:
                pass

    def finish(self, timeout: float = 5.0) -> list[list[Any]]:
        """Wait for the end of the output (a child that left a grandchild holding
        the pipe gets ``timeout`` seconds) and hand over what came so far."""
        self._thread.join(timeout)
        taken, self.chunks = self.chunks, []
        return [[self.target, chunk] for chunk in taken]


def replay_chunks(chunks: Any) -> None:
    """Write recorded child output to the descriptors it went to."""
    for target, chunk in chunks or ():
        if target in (1, 2) and isinstance(chunk, bytes):
            write_all(target, chunk)
