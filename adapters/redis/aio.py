"""``redis.asyncio``: the same boundaries as the synchronous client, awaited in the recorded order.

``Redis.execute_command``, ``Pipeline.immediate_execute_command`` and
``Pipeline.execute`` are awaitable boundaries (:func:`retrace.aio.call`)
with the synchronous client's names, fingerprints, summaries and
redactions, so a command looks the same in a trace whichever client sent
it. The asyncio adapter hands each reply to the waiting task at the
recorded turn. Closing a client or a pool (``aclose``, ``close``,
``disconnect``) is a boundary too: redis-py closes its sockets there, and
on replay there are none to close.

Pub/sub on the asyncio client is not recorded yet: the recording warns once
that it is missing, and a replay stops at it with
:class:`AsyncioNotRecorded` rather than talk to a server.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.adapters.redis import client, commands, connections, pipeline, state
from retrace.boundary import Args, Kwargs
from retrace.errors import UsageError
from retrace.session import warn

CLIENT = "redis.asyncio.client"
CLOSE = Boundary("redis.asyncio.close", library=client.LIBRARY)
PUBSUB_TARGETS = ("PubSub.execute_command", "PubSub.parse_response")
MESSAGE = (
    "redis.asyncio pub/sub is not recorded yet (see docs/adapters/redis.md, 'Known limits'); "
    "its commands ran against the server unrecorded"
)
_warned = False


class AsyncioNotRecorded(UsageError):
    """Replay reached a redis.asyncio pub/sub call, which the recording does not hold."""


def execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``redis.asyncio.Redis.execute_command``."""
    return aio.call(client.boundary_for(args), wrapped, instance, args, kwargs)


async def immediate_execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``redis.asyncio``'s ``Pipeline.immediate_execute_command``."""
    result = await aio.call(client.boundary_for(args), wrapped, instance, args, kwargs)
    state.track_watch(instance, commands.command_name(args))
    return result


async def execute(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``redis.asyncio``'s ``Pipeline.execute``."""
    if not instance.command_stack and not instance.watching:
        return await wrapped(*args, **kwargs)
    try:
        return await aio.call(pipeline.EXECUTE, wrapped, instance, args, kwargs)
    finally:
        if state.replaying():
            await instance.reset()


def close(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of the closing coroutines of clients and pools."""
    return aio.call(CLOSE, wrapped, instance, args, kwargs)


def get_connection(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of the asyncio pools' ``get_connection``: outside a command it is refused.

    Inside a command (an awaited boundary in flight) redis-py takes its
    connection for real while recording and not at all on replay. A
    connection taken outside one (``single_connection_client=True``,
    ``Redis.client()``, ``monitor()``) would send its handshake, ``AUTH``
    included, through the recorded streams: said loudly instead, as for the
    synchronous client.
    """
    if not runtime.LOCAL.busy:
        connections.outside_command()
    return wrapped(*args, **kwargs)


def unrecorded(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of the asyncio pub/sub methods: said loudly instead of replayed wrongly."""
    global _warned
    if state.replaying():
        raise AsyncioNotRecorded(f"retrace: {MESSAGE} when this was recorded, so it cannot be replayed")
    if state.recording() and not _warned:
        _warned = True
        warn(f"{MESSAGE}; a replay will stop at the first one")
    return wrapped(*args, **kwargs)


def patches(version: tuple[int, ...]) -> list[Patch]:
    closing = [(CLIENT, "Redis.close"), ("redis.asyncio.connection", "ConnectionPool.disconnect")]
    if version >= (5, 0, 1):
        closing += [(CLIENT, "Redis.aclose"), ("redis.asyncio.connection", "ConnectionPool.aclose")]
    return [
        Patch(CLIENT, "Redis.execute_command", wrapper=execute_command),
        Patch(CLIENT, "Pipeline.immediate_execute_command", wrapper=immediate_execute_command),
        Patch(CLIENT, "Pipeline.execute", wrapper=execute),
        *(Patch(module, target, wrapper=close) for module, target in closing),
        *(Patch(CLIENT, target, wrapper=unrecorded) for target in PUBSUB_TARGETS),
        *(
            Patch("redis.asyncio.connection", f"{pool}.get_connection", wrapper=get_connection)
            for pool in ("ConnectionPool", "BlockingConnectionPool")
        ),
    ]
