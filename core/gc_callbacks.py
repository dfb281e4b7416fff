"""Garbage-collector callbacks run outside the program's order, so they are never events.

``gc.callbacks`` run whenever the collector decides to run, which depends on
allocation counts that differ between a recording and its replay (and in a
scoped session, on everything else the process does). A callback that reads
the clock (hypothesis installs one that times collections) would put events
into the trace at arbitrary places. For a session, every callback runs as
retrace's own work (``runtime.in_flight``): it calls through in both modes
and is never recorded.

Callbacks can be added during the session (hypothesis adds its own on first
use), so a callback of ours sits first in the list and wraps any newcomer
before the collector reaches it: CPython calls the list's items by index, so
an item replaced ahead of the current one is the one called.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from . import runtime


class QuietCallbacks:
    """Wraps the collector's callbacks for one session and puts them back after it."""

    def __init__(self) -> None:
        self._originals: dict[int, Callable[..., Any]] = {}
        self._installed = False

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        gc.callbacks.insert(0, self._wrap_newcomers)
        self._wrap_newcomers("", {})

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        gc.callbacks[:] = [self._originals.get(id(c), c) for c in gc.callbacks
                           if c != self._wrap_newcomers]
        self._originals.clear()

    def _wrap_newcomers(self, phase: str, info: dict[str, Any]) -> None:
        callbacks = gc.callbacks
        for index, callback in enumerate(callbacks):
            if id(callback) in self._originals or callback == self._wrap_newcomers:
                continue
            quiet = _quiet(callback)
            self._originals[id(quiet)] = callback
            callbacks[index] = quiet


def _quiet(callback: Callable[..., Any]) -> Callable[..., Any]:
    def retrace_quiet_gc_callback(phase: str, info: dict[str, Any]) -> Any:
        with runtime.in_flight():
            return callback(phase, info)

    return retrace_quiet_gc_callback
