"""``multiprocessing.Queue``'s count of items in flight, which other processes change.

A ``Queue`` counts its items with a semaphore shared with every process that
uses it: ``put`` takes one, a ``get`` in any process gives one back. On
replay the other processes do not run, so the count would only go one way
(a bounded queue would block forever, a ``get`` of an item another process
put would release too many). During a session's replay each queue counts
with a semaphore that never blocks, and what the count told the program,
``full()`` and ``qsize()``, is an event.
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
    """A semaphore that is always available: a replayed queue's count of items in flight."""

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return True

    def release(self) -> None:
        return None

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        return None


def init_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    result = wrapped(*args, **kwargs)
    if runtime.active().name == "replay" and not isinstance(instance._sem, InertSemaphore):
        # kept alive: its finalizer (unlinking a named semaphore) runs at exit, as when recorded
        instance._retrace_counted_by = instance._sem
        instance._sem = InertSemaphore()
    return result


def counted(method: str) -> Any:
    """``full``/``qsize``: an event, since other processes change the answer."""

    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy or runtime.active().name == "passthrough":
            return wrapped(*args, **kwargs)
        return call(COUNT, lambda *_: wrapped(*args, **kwargs), method)

    return wrapper
