"""``redis.asyncio``: not recorded yet, and said so instead of replayed wrongly.

Its client methods are coroutines, and a boundary call in the core today is a
plain call: recording one would record the coroutine object, not the reply.
Until the core can await (the asyncio issue), the same five methods the
synchronous client is recorded at are wrapped here only to say so: the
recording warns once that these commands are not in it, and a replay stops
at the first one with :class:`AsyncioNotRecorded` rather than talk to a
server. docs/adapters/redis.md says how the async boundaries will look.
"""

from __future__ import annotations

from typing import Any

from retrace.adapters.redis import state
from retrace.boundary import Args, Kwargs
from retrace.errors import UsageError
from retrace.session import warn

MODULE = "redis.asyncio.client"
TARGETS = (
    "Redis.execute_command",
    "Pipeline.immediate_execute_command",
    "Pipeline.execute",
    "PubSub.execute_command",
    "PubSub.parse_response",
)
MESSAGE = ("redis.asyncio is not recorded yet (see docs/adapters/redis.md, 'Known limits'); "
           "its commands ran against the server unrecorded")
_warned = False


class AsyncioNotRecorded(UsageError):
    """Replay reached a redis.asyncio call, which the recording does not hold."""


def unrecorded(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of the asyncio client's command methods."""
    global _warned
    if state.replaying():
        raise AsyncioNotRecorded(f"retrace: {MESSAGE} when this was recorded, so it cannot "
                                 "be replayed")
    if state.recording() and not _warned:
        _warned = True
        warn(f"{MESSAGE}; a replay will stop at the first one")
    return wrapped(*args, **kwargs)
