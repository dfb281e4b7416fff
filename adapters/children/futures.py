"""``ProcessPoolExecutor``: which submitted work its manager thread found, pass by pass.

The executor's manager thread moves work from an in-process queue of work
ids to the workers' call queue, taking what it finds without waiting. What
it finds depends on how far the program's ``submit`` calls have got, so it
is an event: recording, each non-blocking take's outcome (an id, or empty);
on replay the same take waits for that id if the program has not put it yet,
and reports empty when the recording found it empty. Everything else the
manager does follows from its events (see :mod:`.connection`).
"""

from __future__ import annotations

import queue
from typing import Any

from retrace import Boundary, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import Divergence
from retrace.runtime import LOCAL, call, in_flight

from .fork import LIBRARY, state

TAKE = Boundary("concurrent.futures.process.take_work", library=LIBRARY)
_WAIT_SECONDS = 10.0


class WorkIds(queue.Queue):  # type: ignore[type-arg,unused-ignore]
    """An executor's queue of work ids whose non-blocking ``get`` is an event."""

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        mode = runtime.active().name
        if block or LOCAL.busy or mode == "passthrough":
            return super().get(block, timeout)
        if mode == "record":
            found = call(TAKE, lambda *_: self._take())
        else:
            found = call(TAKE, lambda *_: None)
            if type(found) is list and len(found) == 1:
                try:
                    with in_flight():  # taking it is part of the event, as when recorded
                        found = [super().get(True, _WAIT_SECONDS)]
                except queue.Empty:
                    _diverged()
        if found == []:
            raise queue.Empty
        return found[0]

    def _take(self) -> list[Any]:
        try:
            return [super().get(False)]
        except queue.Empty:
            return []


def _diverged() -> None:
    error = Divergence(
        f"retrace: replay diverged: a process pool's manager took submitted work when recorded, "
        f"and no work was submitted here within {_WAIT_SECONDS:g}s"
    )
    cursor = getattr(state.session, "cursor", None)
    if cursor is not None:
        cursor.on_divergence(error)
    raise error


def init_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    result = wrapped(*args, **kwargs)
    work_ids = getattr(instance, "_work_ids", None)
    if runtime.active().name != "passthrough" and type(work_ids) is queue.Queue:
        work_ids.__class__ = WorkIds
    return result
