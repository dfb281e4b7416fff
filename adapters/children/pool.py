"""``multiprocessing.Pool``: the parts of its machinery that are not about what the program sees.

A pool's three threads replay on their own terms: the task handler's sends
and the result handler's messages are events (see :mod:`.connection`), so
results reach the program, its callbacks run and ``imap`` yields in the
recorded order. Two parts of the pool only look after its workers, at
moments that depend on timing, and are left out of the trace:

- the **worker handler** thread reaps exited workers and starts new ones
  (``maxtasksperchild``, a crashed worker). Recording, it runs as retrace's
  own work (its calls are not events; a worker it starts is recorded in its
  own trace). On replay there are no workers to look after: it waits until
  the pool is closed and its jobs are done (or it is terminated), then tells
  the task handler to stop, which is what it does at its end.
- ``_help_stuff_finish`` drains the task queue at ``terminate()`` so that
  the task handler is not blocked writing to it; on replay nothing was
  written, and it finds the queue empty.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from retrace import runtime
from retrace.boundary import Args, Kwargs
from retrace.runtime import in_flight

_sleep = time.sleep
_POLL_SECONDS = 0.005


def _thread_pool(cls: Any) -> bool:
    from multiprocessing.pool import ThreadPool

    return isinstance(cls, type) and issubclass(cls, ThreadPool)


def workers_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    mode = runtime.active().name
    if mode == "passthrough" or _thread_pool(instance):
        return wrapped(*args, **kwargs)
    with in_flight():
        if mode == "record":
            return wrapped(*args, **kwargs)
        return _replayed_worker_handler(args[0], args[1])


def _replayed_worker_handler(cache: Any, taskqueue: Any) -> None:
    from multiprocessing.pool import RUN, TERMINATE

    thread: Any = threading.current_thread()
    while thread._state == RUN or (cache and thread._state != TERMINATE):
        _sleep(_POLL_SECONDS)
    taskqueue.put(None)


def quietly(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Run as retrace's own work: nothing it does is an event."""
    if runtime.active().name == "passthrough" or _thread_pool(instance):
        return wrapped(*args, **kwargs)
    with in_flight():
        return wrapped(*args, **kwargs)
