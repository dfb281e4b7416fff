"""Client-side state that replay must reproduce because redis-py itself does not run.

On replay a command never reaches redis-py's connection code, so the state
that code would have left behind is set here instead: whether a pipeline is
WATCHing, and the reset ``Pipeline.execute`` ends with. Each rule depends
only on what the program asked for, never on the mode, so record and replay
reach the same boundaries in the same order.
"""

from __future__ import annotations

from typing import Any

from retrace import runtime

_UNWATCHING = frozenset({"EXEC", "DISCARD", "UNWATCH"})


def replaying() -> bool:
    """Whether calls are answered from a recording (redis-py's own code did not run)."""
    return isinstance(runtime.active(), runtime.Replayer)


def recording() -> bool:
    """Whether calls are being recorded."""
    return isinstance(runtime.active(), runtime.Recorder)


def track_watch(pipeline: Any, name: str) -> None:
    """Mirror ``Pipeline.parse_response``: WATCH starts watching, EXEC/DISCARD/UNWATCH end it."""
    if name == "WATCH":
        pipeline.watching = True
    elif name in _UNWATCHING:
        pipeline.watching = False
