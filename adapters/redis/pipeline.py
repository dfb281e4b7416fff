"""Pipelines and transactions: ``execute`` is one event, WATCHed reads are one each.

``Pipeline.execute`` records the whole batch (the queued commands are the
fingerprint, the list of replies or the raised error is the outcome); on
replay the pipeline is then reset as the real ``execute`` does. The commands
a pipeline runs at once (``WATCH`` and the reads between ``WATCH`` and
``MULTI``) are ordinary command events, after which the pipeline's WATCH
state is set as redis-py would have set it.
"""

from __future__ import annotations

import weakref
from typing import Any

from retrace import Boundary
from retrace.adapters.redis import calls, client, commands, state
from retrace.boundary import Args, Kwargs

#: The pipelines about to execute commands whose replies can hold credentials: each one's
#: (position, command) pairs, taken by :func:`_redacted_replies` when the batch's outcome
#: is encoded.
_guarded: weakref.WeakKeyDictionary[Any, list[tuple[int, Args]]] = weakref.WeakKeyDictionary()


def note_guarded_replies(instance: Any) -> None:
    """Note which of the pipeline's queued commands have replies to redact (see the module's
    docstring); called by the sync and the asyncio ``execute`` before the call."""
    guarded = commands.secret_positions(instance.command_stack)
    if guarded:
        _guarded[instance] = guarded
    elif _guarded:
        _guarded.pop(instance, None)


def _redacted_replies(value: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    guarded = _guarded.pop(instance, None)
    if not guarded or not isinstance(value, list):
        return value
    replies = list(value)
    for position, cmd_args in guarded:
        if position < len(replies):
            replies[position] = commands.redact_reply(replies[position], None, cmd_args, {})
    return replies


EXECUTE = Boundary(
    "redis.pipeline.execute",
    fingerprint=commands.stack_fingerprint,
    summary=commands.stack_summary,
    summary_key=commands.stack_summary_key,
    encode=_redacted_replies,
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
    note_guarded_replies(instance)
    try:
        return calls.call(EXECUTE, wrapped, instance, args, kwargs)
    finally:
        if state.replaying():
            instance.reset()
