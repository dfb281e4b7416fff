"""Pipelines and transactions: ``execute`` is one event, WATCHed reads are one each.

``Pipeline.execute`` records the whole batch (the queued commands are the
fingerprint, the list of replies or the raised error is the outcome); on
replay the pipeline is then reset as the real ``execute`` does. The commands
a pipeline runs at once (``WATCH`` and the reads between ``WATCH`` and
``MULTI``) are ordinary command events, after which the pipeline's WATCH
state is set as redis-py would have set it.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary
from retrace.adapters.redis import calls, client, commands, state
from retrace.boundary import Args, Kwargs

EXECUTE = Boundary(
    "redis.pipeline.execute",
    fingerprint=commands.stack_fingerprint,
    summary=commands.stack_summary,
    summary_key=commands.stack_summary_key,
    blocking=True,
    library=client.LIBRARY,
)


def immediate_execute_command(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Pipeline.immediate_execute_command``."""
    result = calls.call(client.boundary_for(args), wrapped, instance, args, kwargs)
    state.track_watch(instance, commands.command_name(args))
    return result


def execute(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``Pipeline.execute``."""
    if not instance.command_stack and not instance.watching:
        return wrapped(*args, **kwargs)
    try:
        return calls.call(EXECUTE, wrapped, instance, args, kwargs)
    finally:
        if state.replaying():
            instance.reset()
