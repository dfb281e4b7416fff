"""psycopg's async connections: each round trip runs to its end inside the task's step.

psycopg waits for the server in two coroutines, ``waiting.wait_async`` and
``waiting.wait_conn_async``, both driving the same I/O generators the
synchronous connection uses; the round trips' boundaries are those
generators (see :mod:`.roundtrips`), so their events are made wherever the
generator returns. On replay a generator returns at once, inside the step of
the task that started it. While a session runs, recording drives the
generator with the synchronous wait functions instead, so it also returns
inside that same step: the two runs make the same events in the same task
steps, and the asyncio adapter's ordering holds without anything new.

The price, paid while recording only: a round trip holds the event loop
until the server answers, as a synchronous driver would. Cursors, row
factories, transactions, ``AsyncConnectionPool`` and error classes run
unchanged. docs/adapters/asyncio.md discusses the alternative.
"""

from __future__ import annotations

from typing import Any

from retrace import Patch, runtime
from retrace.boundary import Args, Kwargs


def _session() -> bool:
    return not isinstance(runtime.active(), runtime.Passthrough)


def wait_async(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``psycopg.waiting.wait_async(gen, fileno, interval, timeout)``."""
    if not _session() or runtime.LOCAL.busy:
        return wrapped(*args, **kwargs)
    from psycopg import waiting

    return _done(waiting.wait, args, kwargs)


def wait_conn_async(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``psycopg.waiting.wait_conn_async(gen, interval, timeout)``."""
    if not _session() or runtime.LOCAL.busy:
        return wrapped(*args, **kwargs)
    from psycopg import waiting

    return _done(waiting.wait_conn, args, kwargs)


async def _done(wait: Any, args: Args, kwargs: Kwargs) -> Any:
    return wait(*args, **kwargs)


def patches() -> list[Patch]:
    return [
        Patch("psycopg.waiting", "wait_async", wrapper=wait_async),
        Patch("psycopg.waiting", "wait_conn_async", wrapper=wait_conn_async),
    ]
