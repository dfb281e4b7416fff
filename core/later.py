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
#: One event is made at a time, so a thread that finds one being made waits for it instead of
#: making it again beside the first (what it reads, a libpq result, may be cleared meanwhile).
_making = threading.Lock()


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

    def made(self) -> tuple[Any, Any]:
        if self._value is _UNMADE:
            self.settle()
        return self._fp, self._value

    def marker(self) -> tuple[Any, ...] | None:
        if self._failure is None:
            return None
        return (0, trace.STOPPED, self.number, None, self._failure)

    def settle(self) -> None:
        """Make the fingerprint and the outcome now (once); drop what they were made from.

        An outcome that cannot be made (an adapter's bug) stops the recording,
        and the writer puts a stop marker in the event's place: a replay ends
        there, as it ends where :meth:`Recorder.call` failed to encode one.
        """
        with _making:
            recorder, args, make = self._recorder, self._args, self._make
            if recorder is None or args is None or make is None:
                return
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
        if self._failure is not None:  # outside the lock: stopping flushes, which makes events
            recorder.stop(self._failure)
