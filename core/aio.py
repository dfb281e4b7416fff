"""Awaitable boundaries: a coroutine whose outcome depends on the outside world.

:func:`retrace.runtime.call` runs one plain call as a boundary call. An
``async`` client (``redis.asyncio``, asyncio streams) needs the same for a
coroutine, with one more promise: the program's tasks must see each outcome
at the recorded moment, because which task runs next depends on it. That
ordering is the event loop's business, so the core only defines the seam and
the asyncio adapter provides the :class:`Scheduler` that keeps the order
(docs/adapters/asyncio.md explains how):

- **record**: the real coroutine runs apart from the program's task; when it
  finishes, the scheduler records its outcome as one event of ``boundary`` at
  the point where the loop hands it to the program;
- **replay**: nothing runs; the program's task waits until the scheduler
  reaches that point in the trace, and gets the recorded outcome there.

Inside a boundary call in flight (another awaitable boundary, or a plain one)
the coroutine simply runs, as nested boundaries do everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import runtime
from .boundary import Args, Boundary, Kwargs
from .errors import UsageError


class Scheduler(Protocol):
    """What the asyncio adapter gives the core for the running loop."""

    def submit(
        self,
        boundary: Boundary,
        function: Callable[..., Awaitable[Any]],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
    ) -> Awaitable[Any]:
        """Start one awaitable boundary call; awaiting the result gives its outcome."""
        ...

    def turn(self, name: str, function: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        """Start awaited work that makes no event of its own (see :func:`turn`)."""
        ...


#: Set by the asyncio adapter while a session runs: the scheduler of the
#: running event loop (or None outside one).
current: Callable[[], Scheduler | None] = lambda: None  # noqa: E731


async def call(
    boundary: Boundary, function: Callable[..., Awaitable[Any]], instance: Any, args: Args, kwargs: Kwargs
) -> Any:
    """Await ``function(*args, **kwargs)`` as one call of ``boundary`` in the active mode."""
    if runtime.LOCAL.busy or isinstance(runtime.active(), runtime.Passthrough):
        return await function(*args, **kwargs)
    scheduler = current()
    if scheduler is None:
        raise UsageError(
            f"retrace: {boundary.name} was awaited outside an event loop retrace "
            "orders: the 'asyncio' adapter must be enabled, and the loop must be "
            "asyncio's own (uvloop is not supported)"
        )
    return await scheduler.submit(boundary, function, instance, args, kwargs)


async def turn(name: str, function: Callable[[], Awaitable[Any]]) -> Any:
    """Await ``function()`` at a recorded turn, for work that is several boundary calls.

    :func:`call` makes one event of the awaited outcome. Some awaited work
    is a sequence of boundary calls whose events the adapter makes itself
    (psycopg's async wait drives several round trips); this gives it only
    the ordering:

    - **record**: ``function()`` runs apart from the program's task, and
      boundaries it reaches pass through, as inside any call in flight; its
      outcome reaches the program at the point the loop hands it over;
    - **replay**: ``function`` is not called; None reaches the program at
      the recorded point.

    Either way the caller then makes (record) or takes (replay) its events in
    the program's task, so both runs have them at the same place.
    ``name`` names the task that runs ``function`` while recording.
    """
    if runtime.LOCAL.busy or isinstance(runtime.active(), runtime.Passthrough):
        return await function()
    scheduler = current()
    if scheduler is None:
        raise UsageError(
            f"retrace: {name} was awaited outside an event loop retrace orders: the "
            "'asyncio' adapter must be enabled, and the loop must be asyncio's own "
            "(uvloop is not supported)"
        )
    return await scheduler.turn(name, function)
