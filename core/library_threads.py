"""Threads a library starts for itself replay unordered, matched by what they call.

A connection pool's scheduler and workers, an exporter's flush thread: such
a thread waits on the library's own locks (which are not recorded, see
docs/adapters/threading.md) and paces itself with the clock. How its events
interleave with the program's depends on the operating system's scheduler,
so holding them to their recorded turns in the one global order would make
replay wait for turns that come in another order, or never.

So the events of a thread whose maker is not the program (the threading
adapter names it with a path ending in :data:`MARK`) are not held to turns:
the main cursor skips them, and on replay a library thread takes the
earliest untaken library-thread event with the same boundary and argument
digest (:class:`LibraryEvents`), whichever library thread made it, since
which of a pool's workers picks up a task is the scheduler's choice too.
Boundaries that only pace the caller (``Boundary(timing=True)``: the clock,
``sleep``) run live in such a thread in both modes, since how often a
library polls the clock is the scheduler's business too.
"""

from __future__ import annotations

import _thread
from collections import deque
from typing import Any

from . import trace
from .errors import BadRecording

#: The last character of the path of a thread a library started.
MARK = "*"


def is_library_path(path: str | None) -> bool:
    return path is not None and path.endswith(MARK)


class LibraryEvents:
    """The recorded events of every library thread, handed out by what they are.

    Which of a pool's workers picks up a task depends on the scheduler, so
    on replay the events are not tied to the thread that made them: a
    library thread takes the earliest untaken event of any library thread
    with the same boundary and argument digest. It reads the trace with a
    reader of its own, ahead as far as needed, keeping only library threads'
    events (one lock; library threads are few and their events rare).
    """

    def __init__(self, trace_path: str) -> None:
        self.reader = trace.TraceReader(trace_path)
        self._blocks = self.reader.blocks()
        self._items: list[Any] = []
        self._pos = 0
        self._offset = 0
        self._keys: set[int] = set()
        self._waiting: dict[tuple[str | None, Any], deque[tuple[Any, ...]]] = {}
        self._lock = _thread.allocate_lock()
        self.names: dict[int, str] = {}
        self.sites: dict[int, tuple[str, int]] = {}
        self.summaries: dict[int, str] = {}
        self.ended = False

    def take(self, name: str, digest: Any) -> tuple[Any, ...] | None:
        """The earliest untaken library-thread event of boundary ``name`` with ``digest``."""
        with self._lock:
            wanted = (name, digest)
            queue = self._waiting.get(wanted)
            while not queue and not self.ended:
                self._read_one()
                queue = self._waiting.get(wanted)
            return queue.popleft() if queue else None

    def _read_one(self) -> None:
        if self._pos >= len(self._items):
            block = next(self._blocks, None)
            if block is None:
                self._end()
                return
            self._offset, self._items = block
            self._pos = 0
            return
        rec = tuple(self._items[self._pos : self._pos + trace.RECORD_WIDTH])
        self._pos += trace.RECORD_WIDTH
        thread, code, ident, fp, value = rec
        if type(code) is not int or (code < 0 and not trace.valid_marker(code, ident, value)):
            raise BadRecording(f"{self.reader.path}: malformed record in block at byte {self._offset}")
        if code >= 0:
            if thread in self._keys:
                digest = trace.digest_of(fp)
                self._waiting.setdefault((self.names.get(code >> 1), digest), deque()).append(rec)
        elif code == trace.DEF_BOUNDARY:
            self.names[ident] = value
        elif code == trace.DEF_SITE:
            self.sites[ident] = (value[0], value[1])
        elif code == trace.DEF_SUMMARY:
            self.summaries[ident] = value
        elif code == trace.DEF_THREAD and is_library_path(value):
            self._keys.add(ident)
        elif code in (trace.FOOTER, trace.STOPPED):
            self._end()

    def _end(self) -> None:
        self.ended = True
        self.reader.close()


def wait_quietly(seconds: float) -> None:
    """Park a library thread whose recording has run out (see :meth:`Cursor.library_take`)."""
    gate = _thread.allocate_lock()
    gate.acquire()
    gate.acquire(True, seconds)
