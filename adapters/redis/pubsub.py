"""Pub/sub: each command sent and each message read is an event.

``PubSub.execute_command`` (SUBSCRIBE, PSUBSCRIBE, PING...) sends without
reading; ``PubSub.parse_response`` reads one raw reply or message (or None
when nothing came in time), which is what ``get_message`` and ``listen``
build on. Everything above those two, the channel bookkeeping and message
handlers, runs for real on replay, so handlers see the same messages and
their own commands are recorded as the program's.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary
from retrace.adapters.redis import calls, client, commands
from retrace.boundary import Args, Kwargs


def _read_fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [list(args), sorted(kwargs.items())]


def _as_list(value: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """hiredis hands pub/sub messages over as ``PushNotification`` (a list); the program
    sees only what ``handle_message`` builds from the items, so a plain list records them."""
    if isinstance(value, list) and type(value) is not list:
        return list(value)
    return value


COMMAND = Boundary(
    "redis.pubsub.command",
    fingerprint=commands.fingerprint,
    summary=commands.summary,
    summary_key=commands.summary_key,
    library=client.LIBRARY,
)
READ = Boundary(
    "redis.pubsub.read",
    fingerprint=_read_fingerprint,
    encode=_as_list,
    blocking=True,
    library=client.LIBRARY,
)


def execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``PubSub.execute_command``."""
    return calls.call(COMMAND, wrapped, instance, args, kwargs)


def parse_response(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``PubSub.parse_response``."""
    return calls.call(READ, wrapped, instance, args, kwargs)
