"""``Redis.execute_command``: one command, one reply, one event.

Commands that wait on the server (``BLPOP``, ``XREAD BLOCK``, ``WAIT``...) go
through a boundary of the same name marked blocking, so the events before them
are on disk while the process waits.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary
from retrace.adapters.redis import LIBRARY, calls, commands
from retrace.boundary import Args, Kwargs

_BLOCKING = frozenset({
    "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
    "WAIT", "WAITAOF",
})
_MAYBE_BLOCKING = frozenset({"XREAD", "XREADGROUP"})


def _boundary(blocking: bool) -> Boundary:
    return Boundary(
        "redis.command",
        fingerprint=commands.fingerprint,
        summary=commands.summary,
        summary_key=commands.summary_key,
        encode=commands.redact_reply,
        blocking=blocking,
        library=LIBRARY,
    )


COMMAND = _boundary(blocking=False)
BLOCKING_COMMAND = _boundary(blocking=True)


def boundary_for(args: Args) -> Boundary:
    """The command boundary, blocking for commands that wait on the server."""
    first = args[0] if args else ""
    name = first if type(first) is str and first.isupper() else commands.command_name(args)
    if name in _BLOCKING:
        return BLOCKING_COMMAND
    if name in _MAYBE_BLOCKING and any(commands.command_name((a,)) == "BLOCK" for a in args[1:]):
        return BLOCKING_COMMAND
    return COMMAND


def execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Redis.execute_command``."""
    return calls.call(boundary_for(args), wrapped, instance, args, kwargs)
