"""Events the outside world starts: a signal handler runs because a signal arrived.

A boundary call is something the program does; an interruption happens to
it, at a moment no call of the program chose, often in the middle of a
boundary call (``signal.alarm`` going off during ``time.sleep``). Python
runs the handler there, and what the handler does is the program's own work:
its output, its clock readings, the exception it raises out of the
interrupted call.

While recording, the adapter that sees the interruption calls :func:`record`:
one event marks it, with whether a boundary call was in flight, and the
handler then runs with its own boundary calls recorded as events (they are
not the in-flight call's internals). On replay nothing arrives from outside:
the cursor meets the marking event and performs the interruption itself,
through the function the adapter registered (:meth:`Cursor.on_interruption`):

- one that arrived during a boundary call is performed when the program
  makes that call again, before its outcome; if the handler raises, the
  exception comes out of that call, as it did, and the call's recorded
  failure is consumed with it;
- one that arrived between boundary calls is performed as soon as the
  event before it has been replayed: an interruption between two events is
  replayed at the first of them, where a signal the program sends itself
  arrives; one from outside arrived somewhere between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import runtime
from .boundary import Boundary


def record(boundary: Boundary, payload: Any, run: Callable[[], Any]) -> Any:
    """Mark an interruption (``payload``: plain data for the replay's performer), then ``run`` it."""
    local = runtime.LOCAL
    in_flight = local.busy
    local.busy = False
    try:
        runtime.call(boundary, _marked, payload, in_flight)
        return run()
    finally:
        local.busy = in_flight


def _marked(payload: Any, in_flight: bool) -> list[Any]:
    return [payload, in_flight]


def marked(value: Any) -> tuple[Any, bool] | None:
    """``(payload, in_flight)`` of a recorded marking event, or None if it is malformed."""
    if type(value) is list and len(value) == 2 and type(value[1]) is bool:
        return value[0], value[1]
    return None
