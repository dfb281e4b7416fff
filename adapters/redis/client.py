"""``Redis.execute_command``: one command, one reply, one event.

Commands that wait on the server (``BLPOP``, ``XREAD BLOCK``, ``WAIT``...) go
through a boundary of the same name marked blocking, so the events before them
are on disk while the process waits. Commands that can carry credentials
(``AUTH``, ``HELLO``, ``MIGRATE``, ``CONFIG``, ``ACL``) go through one whose
fingerprint and reply are redacted; every other command skips that search
(and a scalar reply is then recorded by the core's shortest path). The three
share the name ``redis.command``, so a trace reads the same whichever
recorded a command. Which one a command takes is decided once per command
name.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, runtime
from retrace.adapters.redis import LIBRARY, commands
from retrace.boundary import Args, Kwargs

_BLOCKING = frozenset({
    "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
    "WAIT", "WAITAOF",
})
_MAYBE_BLOCKING = frozenset({"XREAD", "XREADGROUP"})


def _boundary(blocking: bool) -> Boundary:
    return Boundary(
        "redis.command",
        fingerprint=commands.plain_fingerprint,
        summary=commands.summary,
        summary_key=commands.plain_summary_key,
        blocking=blocking,
        library=LIBRARY,
    )


COMMAND = _boundary(blocking=False)
BLOCKING_COMMAND = _boundary(blocking=True)
#: A command that can carry credentials: its summary is made every time (it is redacted).
GUARDED_COMMAND = Boundary(
    "redis.command",
    fingerprint=commands.fingerprint,
    summary=commands.summary,
    encode=commands.redact_reply,
    library=LIBRARY,
)

#: The boundary of each command name seen (the first argument, as redis-py passes it);
#: ``XREAD``/``XREADGROUP`` are not in it: whether they block depends on their arguments.
_by_name: dict[str, Boundary] = {}
_KNOWN_NAMES = 1024


def _classify(args: Args) -> Boundary:
    if commands.may_carry_secrets(args):
        boundary = GUARDED_COMMAND
    else:
        name = commands.command_name(args)
        if name in _MAYBE_BLOCKING:
            blocks = any(commands.command_name((a,)) == "BLOCK" for a in args[1:])
            return BLOCKING_COMMAND if blocks else COMMAND
        boundary = BLOCKING_COMMAND if name in _BLOCKING else COMMAND
    first = args[0] if args else None
    if type(first) is str and len(_by_name) < _KNOWN_NAMES:
        _by_name[first] = boundary
    return boundary


def boundary_for(args: Args) -> Boundary:
    """The command's boundary: redacted for credentials, blocking for commands that wait."""
    first = args[0] if args else None
    boundary = _by_name.get(first) if type(first) is str else None
    return boundary if boundary is not None else _classify(args)


def execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Redis.execute_command``: :func:`calls.call` inlined, since every command
    comes this way (a frame less to run, and to walk past to find the program's)."""
    try:
        return runtime.active().call(boundary_for(args), wrapped, instance, args, kwargs)
    except Exception as exc:
        raise exc.with_traceback(None) from None
