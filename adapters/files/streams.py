"""Files that are streams, not contents: character devices, FIFOs, sockets.

``/dev/urandom``, a terminal or a named pipe has no content to copy: it
answers each read anew, forever. Such a file is handed to the program
wrapped in :class:`StreamFile`, whose reads and writes are boundaries one
call at a time (the chunks replay as they came). On replay there is no
file underneath.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from retrace.runtime import call
from retrace.streams import RecordedReads

from .boundaries import STREAM_READ, STREAM_WRITE


class StreamFile(RecordedReads):
    """A stream file: reads and writes are boundary calls; the rest is the real file's."""

    def __init__(self, real: Any, name: Any, mode: str) -> None:
        self._real = real
        self.name = name
        self.mode = mode
        self.closed = False

    def _read(self, method: str, size: Any) -> Any:
        label = str(self.name)
        if self._real is None:
            return call(STREAM_READ, _unreachable, label, method, size)
        return call(STREAM_READ, lambda *_: getattr(self._real, method)(size), label, method, size)

    def readinto(self, buffer: Any) -> int:
        data = self._read("read", len(memoryview(buffer)))
        memoryview(buffer).cast("B")[:len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        label = str(self.name)
        if self._real is None:
            written: int = call(STREAM_WRITE, _unreachable, label, len(data))
        else:
            written = call(STREAM_WRITE, lambda *_: self._real.write(data), label, len(data))
        return written

    def __iter__(self) -> Iterator[Any]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def readable(self) -> bool:
        return "r" in self.mode or "+" in self.mode

    def writable(self) -> bool:
        return not self.mode.startswith("r") or "+" in self.mode

    def seekable(self) -> bool:
        return False

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        if self._real is None:
            raise io.UnsupportedOperation("a replayed stream has no descriptor")
        number: int = self._real.fileno()
        return number

    def flush(self) -> None:
        if self._real is not None:
            self._real.flush()

    def close(self) -> None:
        self.closed = True
        if self._real is not None:
            self._real.close()

    def __enter__(self) -> StreamFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unreachable(*_: Any) -> Any:
    raise AssertionError("a replayed stream is answered from the recording")
