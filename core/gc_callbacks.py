"""Garbage-collector callbacks run outside the program's order, so they are never events.

``gc.callbacks`` run whenever the collector decides to run, which depends on
allocation counts that differ between a recording and its replay (and in a
scoped session, on everything else the process does). A callback that reads
the clock (hypothesis installs one that times collections) would put events
into the trace at arbitrary places. For a session, each callback present
runs as retrace's own work (``runtime.in_flight``): it calls through in
both modes and is never recorded.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from . import runtime


class QuietCallbacks:
    """Wraps the collector's callbacks for one session and puts them back after it."""

    def __init__(self) -> None:
        self._wrapped: dict[int, Callable[..., Any]] = {}

    def install(self) -> None:
        for index, callback in enumerate(gc.callbacks):
            quiet = _quiet(callback)
            self._wrapped[id(quiet)] = callback
            gc.callbacks[index] = quiet

    def uninstall(self) -> None:
        gc.callbacks[:] = [self._wrapped.get(id(c), c) for c in gc.callbacks]
        self._wrapped.clear()


def _quiet(callback: Callable[..., Any]) -> Callable[..., Any]:
    def retrace_quiet_gc_callback(phase: str, info: dict[str, Any]) -> Any:
        with runtime.in_flight():
            return callback(phase, info)

    return retrace_quiet_gc_callback
