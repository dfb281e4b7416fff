"""psycopg's async connections: the wait for the server is an awaited turn.

psycopg waits for the server in two coroutines, ``waiting.wait_async`` and
``waiting.wait_conn_async``, both driving the same I/O generators the
synchronous connection uses; the round trips' boundaries are those
generators (see :mod:`.roundtrips`), and one wait may drive several of them
(``BEGIN`` before a query). On replay a generator returns at once.

- **queries** (``wait_async``): while recording, the wait runs for real in a
  task apart, so the program's other tasks run while the server works; the
  round trips' events are kept (:class:`~.roundtrips.Collector`) and made by
  the task that waited once the loop hands it the outcome, at a recorded
  turn (:func:`retrace.aio.turn`). Replay waits for that turn, then drives
  the generator at once, taking the same events at the same place.
- **connecting** (``wait_conn_async``): driven to its end inside the task's
  step with the synchronous wait function, in both modes, so its events are
  made where replay takes them. A connection attempt holds the loop while
  recording.

A task cancelled while its query runs (``wait_for`` around a query, a
failing ``TaskGroup`` sibling) gets its ``CancelledError`` once the round
trip has ended, as with a synchronous driver: the query is not interrupted,
and the connection is left idle. With no loop retrace orders (the asyncio
adapter disabled), a wait runs to its end inside the task's step, holding
the loop while recording. Cursors, row factories, transactions,
``AsyncConnectionPool`` and error classes run unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from retrace import Patch, aio, runtime
from retrace.adapters.psycopg import roundtrips
from retrace.boundary import Args, Kwargs

NAME = "psycopg.wait"


class _Stopped(Exception):
    """The real wait was cancelled from outside the program (the loop shutting down)."""


def _session() -> bool:
    return not isinstance(runtime.active(), runtime.Passthrough)


def wait_async(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``psycopg.waiting.wait_async(gen, fileno, interval, timeout)``."""
    if not _session() or runtime.LOCAL.busy:
        return wrapped(*args, **kwargs)
    from psycopg import waiting

    if aio.current() is None:  # no loop retrace orders: run to the end in this step
        return _done(waiting.wait, args, kwargs)
    if isinstance(runtime.active(), runtime.Replayer):
        return _replayed(waiting.wait, args, kwargs)
    return _recorded(wrapped, args, kwargs)


def wait_conn_async(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``psycopg.waiting.wait_conn_async(gen, interval, timeout)``."""
    if not _session() or runtime.LOCAL.busy:
        return wrapped(*args, **kwargs)
    from psycopg import waiting

    return _done(waiting.wait_conn, args, kwargs)


async def _done(wait: Any, args: Args, kwargs: Kwargs) -> Any:
    return wait(*args, **kwargs)


async def _recorded(wrapped: Any, args: Args, kwargs: Kwargs) -> Any:
    """Record: the real wait in a task apart; its round trips' events made here at the turn."""
    collector = roundtrips.Collector()
    gen, rest = args[0], args[1:]
    drive: asyncio.Future[Any] | None = None

    async def run() -> Any:  # the turn's own task: the drive started here is internal to it
        nonlocal drive
        if drive is None:
            drive = asyncio.ensure_future(wrapped(roundtrips.attributed(gen, collector), *rest, **kwargs))
        try:
            return await asyncio.shield(drive)
        except asyncio.CancelledError:
            if drive.cancelled():  # the loop is shutting down: an outcome, not the program's cancel
                raise _Stopped from None
            raise

    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            value = await aio.turn(NAME, run)
        except asyncio.CancelledError as exc:
            cancelled = exc  # the round trip goes on: its end comes at a turn of its own
            continue
        except BaseException as exc:
            stopped = isinstance(exc, _Stopped)
            error = asyncio.CancelledError() if stopped else exc
            roundtrips.gave_up(collector, error)
            roundtrips.flush(collector)
            if stopped:
                raise error from None
            raise
        roundtrips.flush(collector)
        if cancelled is not None:
            raise cancelled
        return value


async def _replayed(wait: Any, args: Args, kwargs: Kwargs) -> Any:
    """Replay: at the turns the recording has, drive the generator at once (it takes its events)."""
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            await aio.turn(NAME, _unreachable)
        except asyncio.CancelledError as exc:
            cancelled = exc
            continue
        value = wait(*args, **kwargs)
        if cancelled is not None:
            raise cancelled
        return value


async def _unreachable() -> Any:
    raise AssertionError("replay served this wait from the trace")


def patches() -> list[Patch]:
    return [
        Patch("psycopg.waiting", "wait_async", wrapper=wait_async),
        Patch("psycopg.waiting", "wait_conn_async", wrapper=wait_conn_async),
    ]
