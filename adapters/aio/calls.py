"""One awaited boundary call: what it was when it started, and how its outcome is handed over.

The loop's driver (:mod:`.loop`) starts awaited calls and hands their
outcomes to the program's tasks at recorded turns; this module holds the
pieces each call carries between the two moments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from retrace import Boundary
from retrace.boundary import Args, Kwargs

if TYPE_CHECKING:
    from retrace.adapters.aio.loop import Driver


class Call:
    """An awaitable boundary call as it was made.

    Its outcome is recorded (or served) later, when the loop hands it over,
    and by then the call's objects may have changed (a pipeline has reset
    its command stack); so the fingerprint and summary are taken when the
    call starts, and the event is made through :func:`as_made`.
    """

    __slots__ = ("args", "fingerprint", "instance", "kwargs", "summary")

    def __init__(self, boundary: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> None:
        self.instance = instance
        self.args = args
        self.kwargs = kwargs
        self.fingerprint = _taken(boundary.fingerprint, instance, args, kwargs)
        self.summary = _summary_at_start(boundary, instance, args, kwargs)


def _taken(function: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if function is None:
        return None
    try:
        return function(instance, args, kwargs)
    except Exception as exc:  # the same text on both sides; the recorder reports adapter bugs
        return f"<{type(exc).__name__}: {exc}>"


#: Per boundary with a ``summary_key``: the summaries made so far, by key (as the recorder
#: keeps them for plain calls), so a call whose key was seen makes no summary.
_summaries: dict[Boundary, dict[Any, Any]] = {}
_KNOWN_SUMMARIES = 65536


def _summary_at_start(boundary: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if boundary.summary is None:
        return None
    if boundary.summary_key is None:
        return _taken(boundary.summary, instance, args, kwargs)
    try:
        key = boundary.summary_key(instance, args, kwargs)
        by_key = _summaries.setdefault(boundary, {})
        known = by_key.get(key) if key is not None else None
    except Exception:  # an unhashable key: an adapter's slip, the summary still comes
        key = known = None
    if known is not None:
        return known
    summary = _taken(boundary.summary, instance, args, kwargs)
    if key is not None and len(by_key) < _KNOWN_SUMMARIES:
        by_key[key] = summary
    return summary


_as_made: dict[Boundary, Boundary] = {}


def as_made(b: Boundary) -> Boundary:
    """``b`` for a :class:`Call`: same name and codecs, fingerprint and summary as taken at the start."""
    known = _as_made.get(b)
    if known is not None:
        return known

    def adapt(hook: Any, with_outcome: bool) -> Any:
        if hook is None:
            return None
        if with_outcome:
            return lambda value, c, a, k: hook(value, c.instance, c.args, c.kwargs)
        return lambda c, a, k: hook(c.instance, c.args, c.kwargs)

    made = b.replace(
        fingerprint=None if b.fingerprint is None else lambda c, a, k: c.fingerprint,
        summary=None if b.summary is None else lambda c, a, k: c.summary,
        summary_key=None,  # taken with the summary when the call started
        passthrough=None,
        encode=adapt(b.encode, True),
        decode=adapt(b.decode, True),
        encode_error=adapt(b.encode_error, True),
        on_replay=adapt(b.on_replay, False),
        blocking=False,
        library=(*b.library, "asyncio", "retrace"),
    )
    _as_made[b] = made
    return made


class Delivery:
    """Done callback of a recorded call's inner task: hands it to the program's task at a turn."""

    __slots__ = ("driver", "outer", "serial")

    def __init__(self, driver: Driver, serial: int, outer: asyncio.Future[Any]) -> None:
        self.driver = driver
        self.serial = serial
        self.outer = outer

    def __call__(self, inner: asyncio.Task[Any]) -> None:
        self.driver.deliver(self, inner)


class ThreadDelivery:
    """Done callback of an executor call's future: hands its result to the program at a turn."""

    __slots__ = ("driver", "outer", "serial")

    def __init__(self, driver: Driver, serial: int, outer: asyncio.Future[Any]) -> None:
        self.driver = driver
        self.serial = serial
        self.outer = outer

    def __call__(self, real: asyncio.Future[Any]) -> None:
        self.driver.deliver_thread(self, real)


class Arrival:
    """Callback that hands something from outside the program to it at a turn: an accepted connection.

    ``hand_over(recorded)`` does the handing over once the turn is recorded
    (``recorded`` is False when the session has ended meanwhile).
    """

    __slots__ = ("driver", "hand_over")

    def __init__(self, driver: Driver, hand_over: Callable[[bool], None]) -> None:
        self.driver = driver
        self.hand_over = hand_over

    def __call__(self) -> None:
        self.driver.deliver_arrival(self)


def copy_outcome(real: asyncio.Future[Any], outer: asyncio.Future[Any]) -> None:
    """Give ``outer`` the result, exception or cancellation ``real`` ended with."""
    if real.cancelled():
        outer.cancel()
    elif real.exception() is not None:
        outer.set_exception(real.exception())  # type: ignore[arg-type]
    else:
        outer.set_result(real.result())
