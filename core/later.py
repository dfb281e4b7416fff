"""Events whose fingerprint and outcome are made after the call, while the program waits.

A database round trip's outcome costs more to turn into trace data (a
result's cells, its field descriptions, the JSON of them) than a clock
reading does, and so does digesting what was sent. Made at once, that work
lies between the reply and the program's next query. But what it reads does
not change afterwards (a libpq result, the buffers psycopg sent), so the
recorder can take the event's place in the trace at once and make its
contents later: when the same thread next waits for its server anyway
(:func:`retrace.runtime.settle`, which an adapter calls right after sending
the next request), or when the trace is written, whichever comes first.

The record in the buffer holds its :class:`Later` in both the fingerprint
and the value slot; the writer asks it for the two items
(:class:`retrace.trace.Pending`). One event is made at a time, and once, so
the program's thread and the writer's may both ask. Everything the outcome
depends on that *can* change (the connection's state) is read at once by
the adapter and closed over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import trace
from .codecs import SCALARS

if TYPE_CHECKING:
    from .boundary import Args, Boundary
    from .runtime import Recorder

_UNMADE = object()
#: Held while an event is made, and by an adapter about to change what one reads (see
#: :func:`making`). Re-entrant: a signal handler may make events on a thread that was making
#: one. The writer, which holds its own lock, only tries it, and leaves an event it cannot
#: make now for its next write: it never waits for a thread that may be waiting for it.
_making = threading.RLock()
#: How long the last write of a session waits for a thread that is making an event.
FINAL_WAIT = 5.0


def making() -> Any:
    """A context in which no other thread makes an event: for an adapter about to change
    what one may still read (a result the program clears)."""
    return _making


def forget_after_fork() -> None:
    """In a forked child: a fresh lock (a thread of the parent, gone, may have held it)."""
    global _making
    _making = threading.RLock()


class Later(trace.Pending):
    """One deferred event: what its fingerprint and value slots will hold."""

    __slots__ = ("_args", "_boundary", "_failure", "_fp", "_make", "_recorder", "_secrets",
                 "_summary", "_value", "number")

    def __init__(self, recorder: Recorder, boundary: Boundary, args: Args, secrets: Any,
                 summary: Any, make: Callable[[], Any], number: int) -> None:
        self._recorder: Recorder | None = recorder
        self._boundary = boundary
        self._args: Args | None = args
        #: The secrets known when the call was made: one learnt later must not change its digest.
        self._secrets = secrets
        self._summary = summary
        self._make: Callable[[], Any] | None = make
        self._fp: Any = _UNMADE
        self._value: Any = _UNMADE
        self._failure: str | None = None
        #: The event's number in the recording (a stop marker in its place says it).
        self.number = number

    def made(self, wait: bool) -> tuple[Any, Any] | None:
        if self._value is _UNMADE and not self.settle(FINAL_WAIT if wait else 0.0):
            return None
        return self._fp, self._value

    def marker(self) -> tuple[Any, ...] | None:
        if self._failure is None:
            return None
        return (0, trace.STOPPED, self.number, None, self._failure)

    def settle(self, wait: float = -1) -> bool:
        """Make the fingerprint and the outcome now (once); drop what they were made from.

        Whether it is made: False when another thread kept :data:`_making`
        for ``wait`` seconds (0: do not wait); after a final wait that long,
        that thread is stuck and the event is made without it. An event of a
        recording whose writer writes no more is dropped. An outcome that
        cannot be made (an adapter's bug) stops the recording, and the writer
        puts a stop marker in the event's place: a replay ends there, as it
        ends where :meth:`Recorder.call` failed to encode one.
        """
        if self._recorder is None:
            return True
        held = _making.acquire(False) if wait == 0 else _making.acquire(True, wait)
        if not held and wait < FINAL_WAIT:
            return False
        try:
            recorder, args, make = self._recorder, self._args, self._make
            if recorder is None or args is None or make is None:
                return True
            if not recorder.writer.writing:
                self._fp = self._value = None
                self._recorder = self._args = self._make = self._secrets = None
                return True
            boundary = self._boundary
            fp = recorder.digest_later(boundary, args, self._secrets)
            if self._summary is not None:
                fp = trace.with_summary(fp, self._summary)
            try:
                value = make()
                if type(value) not in SCALARS:
                    value = recorder.codecs.to_plain(value)
            except Exception as exc:
                value = None
                self._failure = f"encoding the outcome of {boundary.name} failed: {exc!r}"
            self._fp, self._value = fp, value
            self._recorder = self._args = self._make = self._secrets = None
        finally:
            if held:
                _making.release()
        if self._failure is not None:  # outside the lock: stopping flushes, which makes events
            recorder.stop(self._failure)
        return True
