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

The record in the buffer holds a :class:`Later` in its fingerprint slot and
its :attr:`Later.outcome` in its value slot; the writer asks both for their
items (:class:`retrace.trace.Pending`). Making them is idempotent, so the
program's thread and the writer's may race to it harmlessly. Everything the
outcome depends on that *can* change (the connection's state) is read at
once by the adapter and closed over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import trace
from .codecs import SCALARS

if TYPE_CHECKING:
    from .boundary import Args, Boundary
    from .runtime import Recorder

_UNMADE = object()


class Later(trace.Pending):
    """One deferred event: its fingerprint item, and (as :attr:`outcome`) its value item."""

    __slots__ = ("_args", "_boundary", "_fp", "_make", "_recorder", "_summary", "_value",
                 "outcome")

    def __init__(self, recorder: Recorder, boundary: Boundary, args: Args,
                 summary: Any, make: Callable[[], Any]) -> None:
        self._recorder = recorder
        self._boundary = boundary
        self._args: Args | None = args
        self._summary = summary
        self._make: Callable[[], Any] | None = make
        self._fp: Any = _UNMADE
        self._value: Any = _UNMADE
        self.outcome = _Outcome(self)

    def item(self) -> Any:
        if self._fp is _UNMADE:
            self.settle()
        return self._fp

    def value(self) -> Any:
        if self._value is _UNMADE:
            self.settle()
        return self._value

    def settle(self) -> None:
        """Make the fingerprint and the outcome now (once); drop what they were made from.

        What they are made from is read once, into locals: another thread that
        settled meanwhile drops it only after storing what it made.
        """
        args, make = self._args, self._make
        if make is None or args is None:
            return
        recorder, boundary = self._recorder, self._boundary
        fp = recorder.digest_later(boundary, args)
        if self._summary is not None:
            fp = trace.with_summary(fp, self._summary)
        try:
            value = make()
            if type(value) not in SCALARS:
                value = recorder.codecs.to_plain(value)
        except Exception as exc:  # an adapter bug: the event says nothing, the recording stops
            value = None
            recorder.stop(f"encoding the outcome of {boundary.name} failed: {exc!r}")
        self._fp, self._value = fp, value
        self._args = self._make = None


class _Outcome(trace.Pending):
    """The value slot of a :class:`Later` record."""

    __slots__ = ("_later",)

    def __init__(self, later: Later) -> None:
        self._later = later

    def item(self) -> Any:
        return self._later.value()
