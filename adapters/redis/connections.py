"""Connections taken outside any command: said loudly instead of replayed wrongly.

redis-py takes pooled connections inside commands, where retrace records the
command and replay needs no connection. Two features take one when an object
is created instead: ``Redis(single_connection_client=True)`` (and
``Redis.client()``) and ``Redis.monitor()``. Those are not supported yet: the
recording says so once on stderr, and a replay stops there with a
:class:`~retrace.errors.UsageError` rather than open a socket.
"""

from __future__ import annotations

from typing import Any

from retrace.adapters.redis import state
from retrace.boundary import Args, Kwargs
from retrace.errors import UsageError
from retrace.runtime import LOCAL
from retrace.session import warn

MESSAGE = (
    "redis-py took a connection outside a command (Redis(single_connection_client=True), "
    "Redis.client() or Redis.monitor()); retrace cannot replay that yet "
    "(see docs/adapters/redis.md, 'Known limits')"
)
_warned = False


class ConnectionOutsideCommand(UsageError):
    """Replay reached a redis-py feature that holds a connection of its own."""


def get_connection(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``ConnectionPool.get_connection`` (and the blocking pool's).

    Inside a command the thread is busy (the mode marks it so while the real
    call runs; on replay a command's real call does not run at all).
    """
    if not LOCAL.busy:
        outside_command()
    return wrapped(*args, **kwargs)


def outside_command() -> None:
    """A connection is being taken outside any command: refuse on replay, warn once recording."""
    global _warned
    if state.replaying():
        raise ConnectionOutsideCommand(f"retrace: {MESSAGE}")
    if state.recording() and not _warned:
        _warned = True
        warn(f"{MESSAGE}; this recording will stop there on replay")
