"""Serial mode (experimental, ``RETRACE_SERIAL=1`` when recording): races replay too.

Ordered events fix the order of synchronisation, but between two events
threads run at once, and where the interpreter switches between them is not
recorded: an unsynchronised race is only *detected* (by output
verification). In serial mode program threads run one at a time. A thread
holds the *baton* while it runs program code and gives it up only where it
may block: around every ordered "after" call (acquire, get, join, wait) and
every blocking boundary (sleep, stdin), and when its ``run`` ends. Giving the
baton up and taking it back are events of their own (``retrace.pause``,
``retrace.resume``), so the trace says which thread ran between which two
points; replay makes each thread wait for those turns, so the code between
a resume and the next pause runs alone in both runs.

The price: no preemption. A thread that spins or blocks outside any
boundary (a polled flag, a C call retrace does not see) keeps the baton and
the other threads wait for it. The mode is recorded in the header and a
replay follows it.
"""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable
from typing import Any

from . import runtime
from .boundary import Args, Boundary, Kwargs

RESUME = Boundary("retrace.resume", ordered="after")
PAUSE = Boundary("retrace.pause", ordered="before")


class _Holding(threading.local):
    held = False


class _BatonAroundBlocking:
    """Give the baton up around every call that may block, and take it back after.

    Shared by the recorder and the replayer, so both give it up at exactly
    the same calls: the replayer's turns are the recorder's marks.
    """

    _local: Any

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        if not b.blocking or self._local.busy:
            return super().call(b, wrapped, instance, args, kwargs)  # type: ignore[misc]
        self.pause()
        try:
            return super().call(b, wrapped, instance, args, kwargs)  # type: ignore[misc]
        finally:
            self.resume()

    def ordered(self, b: Boundary, fp: Any, wrapped: Callable[..., Any], instance: Any, args: Args,
                kwargs: Kwargs, guard: Any = None) -> Any:
        if b.ordered != "after" or self._local.busy:
            return super().ordered(b, fp, wrapped, instance, args, kwargs,  # type: ignore[misc]
                                   guard)
        self.pause()
        try:
            return super().ordered(b, fp, wrapped, instance, args, kwargs,  # type: ignore[misc]
                                   guard)
        finally:
            self.resume()


class SerialRecorder(_BatonAroundBlocking, runtime.Recorder):
    """A recorder whose program threads run one at a time; the constructing thread starts
    with the baton."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._baton = _thread.allocate_lock()
        self._holding = _Holding()
        self.resume(record=False)

    def pause(self, record: bool = True) -> None:
        """Give up the baton (before a call that may block, at a thread's end)."""
        if not self._holding.held:
            return
        self._holding.held = False
        if self.stopped is not None:
            return
        if record:
            self._mark(PAUSE, "<retrace: the thread pauses>")
        self._baton.release()

    def resume(self, record: bool = True) -> None:
        """Take the baton back and record that this thread runs now."""
        if self._holding.held or self.stopped is not None:
            return
        self._baton.acquire()
        if self.stopped is not None:  # recording stopped while we waited: threads run freely
            self._baton.release()
            return
        self._holding.held = True
        if record:
            self._mark(RESUME, "<retrace: the thread runs on>")

    def _mark(self, b: Boundary, site: str) -> None:
        key = self.thread_key()
        known = self._boundaries.get(b)
        if known is None:
            known = self._define(b)
        sid = self._site_id((site, 0))
        self.writer.records.append((key, known[0] * 2, sid, None, None))
        next(self._counter)

    def stop(self, reason: str) -> None:
        """Stop recording; every thread runs freely from now on."""
        stopped_before = self.stopped is not None
        super().stop(reason)
        if not stopped_before and self._baton.locked():
            self._baton.release()



class SerialReplayer(_BatonAroundBlocking, runtime.Replayer):
    """A replayer that lets a thread run on only at its recorded ``retrace.resume`` turn."""

    def pause(self) -> None:
        """Reach the point where the recorded thread gave the baton up."""
        self.cursor.hold(PAUSE, None, None, (), {}, None)
        self.cursor.advance()

    def resume(self) -> None:
        """Wait until the recorded thread took the baton back."""
        self.cursor.hold(RESUME, None, None, (), {}, None)
        self.cursor.advance()


def pause() -> None:
    """Give up the baton before an adapter blocks outside an ordered call (a record-time guard)."""
    mode = runtime.active()
    if isinstance(mode, SerialRecorder) and not runtime.LOCAL.busy:
        mode.pause()


def thread_runs(run: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a thread's ``run`` so it takes the baton first and gives it up at the end."""

    def serial_run() -> Any:
        mode = runtime.active()
        if not isinstance(mode, (SerialRecorder, SerialReplayer)):
            return run()
        mode.resume()
        try:
            return run()
        finally:
            mode.pause()

    return serial_run


def enabled() -> bool:
    """Whether the active session runs threads one at a time."""
    return isinstance(runtime.active(), (SerialRecorder, SerialReplayer))

