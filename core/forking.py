"""A session that goes on in a child process: recording a forked child, replaying one.

A forked child starts as a copy of its parent in the middle of the parent's
run, so it cannot be replayed from its own first line. Recording, the child
leaves its parent's trace (the parent keeps every event it buffered) and
writes a trace of its own from the fork on. Replaying child ``0.2``
(``retrace replay DIR --process 0.2``) replays the parent from the start
until it reaches the fork that made ``0.2``; there, instead of the recorded
pid, ``fork()`` returns 0, the replay goes on from the child's trace, and
the parent's other threads stop for good (in the child they do not exist).

In both cases every adapter is stopped and started again for the child,
in the same order, so what a start draws (the randomness adapter's seed) is
the child's first event, recorded and replayed alike.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from . import layout, processes, runtime, trace
from .cursor import Cursor
from .errors import BadRecording

if TYPE_CHECKING:
    from .session import Session

_wall_clock = time.time

#: On a ``--process`` replay, the process the replay starts from, and the fork
#: descendants still to reach from it, outermost first (see processes.replay_plan).
start: str = processes.ROOT
targets: list[str] = []


def _restart_adapters(session: Session, start: Any) -> None:
    session.stop_adapters()
    start()
    session.start_adapters()


def record_child(session: Session, process: str, start: str) -> None:
    """Go on recording this (just forked) process as child ``process``."""
    recorder = session.recorder
    if recorder is None:
        return
    processes.identity.reset(process)
    runtime.LOCAL.busy = False  # the fork may have happened inside a call in flight
    folder = processes.directory_of(session.directory, process)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        header = dict(session.header, process=processes.describe(process, start),
                      pid=os.getpid(), start_time=_wall_clock())
        with runtime.in_flight():  # opening the trace is retrace's own file access
            writer = trace.TraceWriter(str(layout.trace_path(folder)), header)
    except OSError as exc:
        from .session import warn

        warn(f"child process {process} is not recorded: {exc.strerror or exc}")
        return
    writer.limit = recorder.writer.limit
    child = type(recorder)(writer, recorder.codecs, on_stop=recorder._on_stop)

    def switch() -> None:
        session.header = header
        session.recorder = child
        session._mode = child
        session.ended = False
        runtime.set_mode(child)
        session.start_flusher()

    _restart_adapters(session, switch)


def replay_child(session: Session, process: str) -> None:
    """Go on replaying as fork child ``process``, from its own trace."""
    cursor = session.cursor
    assert cursor is not None
    path = layout.trace_path(processes.directory_of(session.directory, process))
    reader = trace.TraceReader(str(path))
    if processes.of_header(reader.header) != process:
        raise BadRecording(f"{path}: this trace is not process {process}'s")
    processes.identity.reset(process)
    runtime.LOCAL.busy = False
    survivor = threading.get_ident()
    others = {t.ident for t in threading.enumerate() if t.ident != survivor}
    _after_fork()
    child_cursor = Cursor(reader, session.codecs, cursor.on_divergence)
    replayer = ChildReplayer(child_cursor, session.codecs, others)

    def switch() -> None:
        session.header = reader.header
        session.cursor = child_cursor
        session._mode = replayer
        runtime.set_mode(replayer)

    _restart_adapters(session, switch)


def _after_fork() -> None:
    """What ``fork()`` does to ``threading`` in a child: only the calling thread is left."""
    after = getattr(threading, "_after_fork", None)
    if after is not None:
        try:
            after()
        except Exception:
            pass


class ChildReplayer(runtime.Replayer):
    """Replays a forked child inside the replayed parent's process.

    The parent's other threads are still running here, but in the recorded
    child they did not exist: a boundary call from one of them waits forever
    instead of taking the child's events.
    """

    def __init__(self, cursor: Cursor, codecs: Any, others: set[int | None]) -> None:
        super().__init__(cursor, codecs)
        self._before = others
        self._parked = threading.Event()

    def _park(self) -> None:
        if threading.get_ident() in self._before and not self._local.busy:
            while True:
                self._parked.wait(3600)

    def call(self, b: Any, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        self._park()
        return super().call(b, wrapped, instance, args, kwargs)

    def ordered(self, b: Any, fp: Any, wrapped: Any, instance: Any, args: Any, kwargs: Any,
                guard: Any = None) -> Any:
        self._park()
        return super().ordered(b, fp, wrapped, instance, args, kwargs, guard)
