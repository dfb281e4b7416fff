"""asyncio: the event loop made deterministic, and asyncio's own I/O as awaitable boundaries.

``loop`` replaces one iteration of ``BaseEventLoop`` so tasks, timers,
timeouts and cancellation run in the recorded order and replay never waits
in real time; it is also the :class:`retrace.aio.Scheduler` other adapters'
awaitable boundaries go through (``redis.asyncio``, psycopg's async
connections). ``streams`` and ``io`` make asyncio's streams, name resolution
and ``sock_*`` calls boundaries, so a pure-asyncio client replays.
docs/adapters/asyncio.md explains the design. Works with ``asyncio.run`` and
the standard loops on Unix; uvloop's loop is not ordered (use the standard
one while recording).

The adapter waits for the program's ``import asyncio`` (``imports``): its
modules subclass asyncio's classes, so they are imported only then, and a
program that never uses asyncio does not pay for importing it (about a
third of a bare start-up; docs/performance.md, "start-up").
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from retrace import Adapter, Patch, aio

if TYPE_CHECKING:
    from retrace.codecs import CodecRegistry
    from retrace.session import Session


class AsyncioAdapter(Adapter):
    name = "asyncio"
    modules = ("asyncio",)
    #: The loop's executor runs the program's functions (``to_thread``,
    #: ``run_in_executor``): its threads are the program's, for the threading adapter.
    coordinating = ("asyncio",)
    imports = ("asyncio",)

    def patches(self) -> list[Patch]:
        from retrace.adapters.aio import io, loop, order, servers, streams, subprocesses

        module = "asyncio.base_events"
        return [
            Patch(module, "BaseEventLoop._run_once", wrapper=loop.run_once),
            Patch(module, "BaseEventLoop._call_soon", wrapper=loop.call_soon),
            Patch(module, "BaseEventLoop.call_at", wrapper=loop.call_at),
            Patch(module, "BaseEventLoop.run_in_executor", wrapper=loop.run_in_executor),
            Patch(module, "BaseEventLoop.create_task", wrapper=order.create_task),
            Patch("asyncio.tasks", "as_completed", wrapper=order.as_completed),
            Patch("asyncio.tasks", "wait", wrapper=order.wait),
            Patch("asyncio.tasks", "all_tasks", wrapper=order.all_tasks),
            *(
                [Patch("asyncio.taskgroups", "TaskGroup.__init__", wrapper=order.task_group_init)]
                if sys.version_info >= (3, 11)
                else []
            ),
            *streams.patches(),
            *servers.patches(),
            *io.patches(),
            *subprocesses.patches(),
        ]

    def register_codecs(self, codecs: CodecRegistry) -> None:
        codecs.allow_exceptions_from("asyncio")

    def start(self, session: Session) -> None:
        from retrace.adapters.aio.loop import current_scheduler

        aio.current = current_scheduler

    def stop(self, session: Session) -> None:
        aio.current = _none


def _none() -> None:
    return None


adapter = AsyncioAdapter()
