"""Pub/sub: commands, each message read, and closing are events.

``PubSub.execute_command`` (SUBSCRIBE, PSUBSCRIBE, PING...) sends without
reading; ``PubSub.parse_response`` reads one raw reply or message (or None
when nothing came in time), which is what ``get_message`` and ``listen``
build on. Everything above those two, the channel bookkeeping and message
handlers, runs for real on replay, so handlers see the same messages and
their own commands are recorded as the program's. ``reset``/``close`` give
the connection back, which is an event when one is held.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, runtime
from retrace.adapters.redis import client, commands, state
from retrace.boundary import Args, Kwargs


def _read_fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [list(args), sorted(kwargs.items())]


COMMAND = Boundary(
    "redis.pubsub.command",
    fingerprint=commands.fingerprint,
    summary=commands.summary,
    library=client.LIBRARY,
)
READ = Boundary(
    "redis.pubsub.read",
    fingerprint=_read_fingerprint,
    blocking=True,
    library=client.LIBRARY,
)
RELEASE = Boundary("redis.pubsub.release", library=client.LIBRARY)


def execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``PubSub.execute_command``."""
    state.take_connection(instance)
    return runtime.active().call(COMMAND, wrapped, instance, args, kwargs)


def reset(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``PubSub.reset``."""
    if state.give_back_connection(instance):
        runtime.active().call(RELEASE, wrapped, instance, args, kwargs)
        if not state.replaying():
            return None
    return wrapped(*args, **kwargs)
