"""``redis.asyncio``: the same boundaries as the synchronous client, awaited in the recorded order.

``Redis.execute_command``, ``Pipeline.immediate_execute_command`` and
``Pipeline.execute`` are awaitable boundaries (:func:`retrace.aio.call`)
with the synchronous client's names, fingerprints, summaries and
redactions, so a command looks the same in a trace whichever client sent
it. The asyncio adapter hands each reply to the waiting task at the
recorded turn. Closing a client or a pool (``aclose``, ``close``,
``disconnect``) is a boundary too: redis-py closes its sockets there, and
on replay there are none to close.

Pub/sub is recorded as the synchronous client's is: ``PubSub.execute_command``
(SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PING) and ``PubSub.parse_response`` (what
``get_message`` and ``listen`` read, or None when nothing came in time) are
awaited boundaries with the names ``redis.pubsub.command`` and
``redis.pubsub.read``; channel bookkeeping and message handlers run for real
on replay. ``PubSub.connect``, which ``run()`` calls outside any command, and
closing a ``PubSub`` are boundaries too, so replay takes no connection.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.adapters.redis import client, commands, connections, pipeline, pubsub, state
from retrace.boundary import Args, Kwargs

CLIENT = "redis.asyncio.client"
CLOSE = Boundary("redis.asyncio.close", library=client.LIBRARY)
PUBSUB_CONNECT = Boundary("redis.pubsub.connect", library=client.LIBRARY)


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
    pipeline.note_guarded_replies(instance)
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


# -- pub/sub ---------------------------------------------------------------------
def pubsub_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``redis.asyncio``'s ``PubSub.execute_command``."""
    return aio.call(pubsub.COMMAND, wrapped, instance, args, kwargs)


def pubsub_read(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``redis.asyncio``'s ``PubSub.parse_response``."""
    return aio.call(pubsub.READ, wrapped, instance, args, kwargs)


def pubsub_connect(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``PubSub.connect``: inside a command it runs as part of it; alone
    (``PubSub.run()`` calls it) it is one event, and replay takes no connection."""
    return aio.call(PUBSUB_CONNECT, wrapped, instance, args, kwargs)


async def pubsub_close(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of the coroutine that closes a ``PubSub`` (``aclose``; ``reset`` before 5.0.1).

    The connection is closed inside the boundary. On replay there is none, so
    the real method runs afterwards to forget the channels and patterns as it
    would have: with no connection it only resets those fields, without
    waiting on anything.
    """
    result = await aio.call(CLOSE, wrapped, instance, args, kwargs)
    if state.replaying() and getattr(instance, "connection", None) is None:
        await wrapped(*args, **kwargs)
    return result


def patches(version: tuple[int, ...]) -> list[Patch]:
    closing = [(CLIENT, "Redis.close"), ("redis.asyncio.connection", "ConnectionPool.disconnect")]
    if version >= (5, 0, 1):
        closing += [(CLIENT, "Redis.aclose"), ("redis.asyncio.connection", "ConnectionPool.aclose")]
    # redis-py 5.0.1+ closes a PubSub in aclose (close and reset call it); before, in reset.
    pubsub_closing = "PubSub.aclose" if version >= (5, 0, 1) else "PubSub.reset"
    return [
        Patch(CLIENT, "Redis.execute_command", wrapper=execute_command),
        Patch(CLIENT, "Pipeline.immediate_execute_command", wrapper=immediate_execute_command),
        Patch(CLIENT, "Pipeline.execute", wrapper=execute),
        *(Patch(module, target, wrapper=close) for module, target in closing),
        Patch(CLIENT, "PubSub.execute_command", wrapper=pubsub_command),
        Patch(CLIENT, "PubSub.parse_response", wrapper=pubsub_read),
        Patch(CLIENT, "PubSub.connect", wrapper=pubsub_connect),
        Patch(CLIENT, pubsub_closing, wrapper=pubsub_close),
        *(
            Patch("redis.asyncio.connection", f"{pool}.get_connection", wrapper=get_connection)
            for pool in ("ConnectionPool", "BlockingConnectionPool")
        ),
    ]
