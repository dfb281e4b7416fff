"""Client-side state that replay must reproduce because redis-py itself does not run.

On replay a command never reaches redis-py's connection code, so the state
that code would have left behind is set here instead: which pipelines and
pub/sub objects hold a pooled connection (so that giving it back later is one
recorded event in both modes), and whether a pipeline is WATCHing. Each rule
is applied in both modes and depends only on what the program asked for,
never on the mode, so record and replay reach the same boundaries.
"""

from __future__ import annotations

from typing import Any

from retrace import runtime

HOLDS_CONNECTION = "_retrace_holds_connection"
_UNWATCHING = frozenset({"EXEC", "DISCARD", "UNWATCH"})


def replaying() -> bool:
    """Whether calls are answered from a recording (redis-py's own code did not run)."""
    return isinstance(runtime.active(), runtime.Replayer)


def take_connection(instance: Any) -> None:
    """``instance`` now holds a pooled connection until it is reset."""
    setattr(instance, HOLDS_CONNECTION, True)


def give_back_connection(instance: Any) -> bool:
    """Forget the held connection; true if there was one."""
    held = bool(instance.__dict__.pop(HOLDS_CONNECTION, False))
    return held


def track_watch(pipeline: Any, name: str) -> None:
    """Mirror ``Pipeline.parse_response``: WATCH starts watching, EXEC/DISCARD/UNWATCH end it."""
    if name == "WATCH":
        pipeline.watching = True
    elif name in _UNWATCHING:
        pipeline.watching = False
