"""``multiprocessing`` queues' semaphores, which other processes and threads share.

A ``Queue`` counts its items with a semaphore shared with every process that
uses it: ``put`` takes one, a ``get`` in any process gives one back. On
replay the other processes do not run, so the count would only go one way
(a bounded queue would block forever, a ``get`` of an item another process
put would release too many). During a session's replay each queue counts
with a semaphore that never blocks, and what the count told the program,
``full()`` and ``qsize()``, is an event.

A ``Queue`` and a ``SimpleQueue`` also hold a lock around each read
(``_rlock``) and each write (``_wlock``) of their pipe, so that messages of
two writers (a pool's task handler and ``terminate()``, both putting to the
result queue) do not interleave. The read or write is an event made inside
the lock, so the trace holds them in the order the lock let them through.
On replay the pipe is not touched and that order is the trace's; a real
lock there would be a second order, unrecorded: a thread could take it and
wait for its event's turn while the thread whose event comes first waits
for the lock. During a session's replay these locks never block either.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, runtime
from retrace.boundary import Args, Kwargs
from retrace.runtime import LOCAL, call

from .fork import LIBRARY

COUNT = Boundary("multiprocessing.Queue.count", fingerprint=lambda i, a, k: list(a),
                 library=LIBRARY)


class InertSemaphore:
    """A semaphore that is always available: a replayed queue's count of items in flight,
    and its read and write locks."""

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return True

    def release(self) -> None:
        return None

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        return None


def init_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``Queue``/``SimpleQueue`` made or unpickled: on replay, its semaphores never block."""
    result = wrapped(*args, **kwargs)
    if runtime.active().name == "replay":
        for name in ("_sem", "_rlock", "_wlock"):
            semaphore = getattr(instance, name, None)
            if semaphore is not None and not isinstance(semaphore, InertSemaphore):
                # kept alive: its finalizer (unlinking a named semaphore) runs at exit, as
                # when recorded
                setattr(instance, f"_retrace_real{name}", semaphore)
                setattr(instance, name, InertSemaphore())
    return result


def counted(method: str) -> Any:
    """``full``/``qsize``: an event, since other processes change the answer."""

    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy or runtime.active().name == "passthrough":
            return wrapped(*args, **kwargs)
        return call(COUNT, lambda *_: wrapped(*args, **kwargs), method)

    return wrapper
