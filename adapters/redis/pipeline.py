"""Pipelines and transactions: ``execute`` is one event, WATCHed reads are one each.

``Pipeline.execute`` records the whole batch (the queued commands are the
fingerprint, the list of replies or the raised error is the outcome). The
commands a pipeline runs at once (``WATCH`` and the reads between ``WATCH``
and ``MULTI``) are ordinary command events. Giving the connection back
(``reset`` while a connection is held, as ``with pipeline:`` does after a
``WATCH``) is an event too, because in recording it talks to the server
(``UNWATCH``) and to the pool.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, runtime
from retrace.adapters.redis import client, commands, state
from retrace.boundary import Args, Kwargs

EXECUTE = Boundary(
    "redis.pipeline.execute",
    fingerprint=commands.stack_fingerprint,
    summary=commands.stack_summary,
    blocking=True,
    library=client.LIBRARY,
)
RELEASE = Boundary("redis.pipeline.release", library=client.LIBRARY)


def immediate_execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Pipeline.immediate_execute_command``."""
    state.take_connection(instance)
    result = runtime.active().call(client.boundary_for(args), wrapped, instance, args, kwargs)
    state.track_watch(instance, commands.command_name(args))
    return result


def execute(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Pipeline.execute``."""
    if not instance.command_stack and not instance.watching:
        return wrapped(*args, **kwargs)
    try:
        return runtime.active().call(EXECUTE, wrapped, instance, args, kwargs)
    finally:
        state.give_back_connection(instance)
        if state.replaying():
            instance.reset()


def reset(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Pipeline.reset``."""
    if state.give_back_connection(instance):
        runtime.active().call(RELEASE, wrapped, instance, args, kwargs)
        if not state.replaying():
            return None
    return wrapped(*args, **kwargs)
