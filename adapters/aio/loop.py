"""The event loop made deterministic: one driver per loop, in both modes.

asyncio runs on one thread, so which callback runs next is decided by the
loop alone: its ready queue is first in, first out, and only three things
put work into it from outside the program's own callbacks: the selector (a
socket became readable), the clock (a timer fell due) and other threads
(``call_soon_threadsafe``). The driver replaces ``BaseEventLoop._run_once``
and sorts every callback into one of two kinds when it is scheduled:

- **internal**: scheduled while a boundary call is in flight (the real I/O
  of an awaitable boundary, the steps of its task), by the selector, or from
  another thread. Internal callbacks run with the boundary flag set, so what
  they reach passes through, and they are not counted. Replay has none of
  the boundary ones, because nothing real runs there.
- **program**: everything else. The driver counts them as they run.

What reaches the program from outside is recorded as an ``asyncio.turn``
event, ``[count, kind, serial]``: after ``count`` more program callbacks,
the outcome of awaitable call ``serial`` was handed to its task (the event
of that call follows), or that call was cancelled from inside, or program
timer ``serial`` fell due, or the result of executor call ``serial`` was
handed over. :mod:`.calls` holds what one awaited call carries. Replay runs the
same program callbacks in the same order and performs each turn after the
same count, so tasks interleave as recorded and a timeout that fired in the
recording fires at the same point, without waiting: replay never reads the
clock to decide, and never sleeps.
"""

from __future__ import annotations

import _thread
import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from retrace import Boundary, runtime
from retrace.adapters.aio.calls import Arrival, Call, Delivery, ThreadDelivery, as_made, copy_outcome
from retrace.boundary import Args, Kwargs
from retrace.cursor import DEFAULT_TURN_TIMEOUT
from retrace.divergence import report
from retrace.errors import BadRecording, Divergence, RetraceError

TURN = Boundary("asyncio.turn", library=("asyncio", "retrace"))
DONE, TIMER, CANCELLED, THREAD, ACCEPT = 0, 1, 2, 3, 4
_MAXIMUM_SELECT_TIMEOUT = 24 * 3600
_monotonic = getattr(time.monotonic, "__wrapped__", time.monotonic)  # the replay's own patience is real time
_LOCAL = runtime.LOCAL
#: The thread's real ident, as the loop's ``_thread_id`` holds it (asyncio is library code: the
#: threading adapter's ``get_ident`` gives it the real one too, through a wrapper).
_real_get_ident = _thread.get_ident


def _unreachable(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("replay served this call from the trace")


_DELIVERIES = (Delivery, ThreadDelivery, Arrival)


class Driver:
    """The deterministic part of one event loop during one session."""

    def __init__(self, loop: asyncio.AbstractEventLoop, mode: Any) -> None:
        self.loop: Any = loop
        self.mode = mode
        self.replaying = isinstance(mode, runtime.Replayer)
        self.cursor: Any = mode.cursor if self.replaying else None
        self.count = 0
        self._ops = itertools.count()
        self._timers = itertools.count()
        self.internal: set[int] = set()
        self.timer_serials: dict[int, int] = {}  # id(handle) -> serial, of program timers
        self.timer_handles: dict[int, Any] = {}  # replay: serial -> handle
        self.inner: dict[int, asyncio.Task[Any]] = {}  # record: serial -> inner task
        self.pending: dict[int, asyncio.Future[Any]] = {}  # replay: serial -> what its task awaits
        self.threads: dict[int, tuple[Any, Any]] = {}  # replay: serial -> (real, outer) futures
        self.held: list[int] | None = None  # replay: a turn taken, not yet due
        self._chaining = False  # an executor call is being submitted
        self.servers: list[Any] = []  # the program's streams servers, in the order it started them
        self.accepts = itertools.count()  # connections handed to the program
        self.on_accept: Callable[[Driver, int], None] | None = None  # replay: hand over connection #n

    def current(self) -> bool:
        """Whether this driver's session is still the one patched calls go to."""
        return runtime.active() is self.mode

    # -- classifying callbacks as they are scheduled --------------------------
    def _is_internal_now(self) -> bool:
        if _LOCAL.busy or self._chaining:
            return True
        owner = self.loop._thread_id
        return owner is not None and owner != _real_get_ident()

    def call_soon(self, callback: Any, args: Args, context: Any) -> Any:
        """``BaseEventLoop._call_soon``, classifying the handle before another thread can see it."""
        loop = self.loop
        handle = asyncio.Handle(callback, args, loop, context)
        if handle._source_traceback:  # type: ignore[attr-defined]
            del handle._source_traceback[-1]  # type: ignore[attr-defined]
        if self._is_internal_now():
            self.internal.add(id(handle))
        loop._ready.append(handle)
        return handle

    def timer(self, handle: Any) -> None:
        if self._is_internal_now():
            self.internal.add(id(handle))
            return
        serial = next(self._timers)
        self.timer_serials[id(handle)] = serial
        if self.replaying:
            self.timer_handles[serial] = handle

    # -- awaitable boundaries (retrace.aio.Scheduler) --------------------------
    def submit(
        self,
        boundary: Boundary,
        function: Callable[..., Awaitable[Any]],
        instance: Any,
        args: Args,
        kwargs: Kwargs,
    ) -> Awaitable[Any]:
        if boundary.passthrough is not None and boundary.passthrough(instance, args, kwargs):
            return function(*args, **kwargs)
        serial = next(self._ops)
        outer = self.loop.create_future()
        call = Call(boundary, instance, args, kwargs)
        made = as_made(boundary)
        if self.replaying:
            self.pending[serial] = outer
        else:
            busy, _LOCAL.busy = _LOCAL.busy, True
            try:
                inner = self.loop.create_task(function(*args, **kwargs), name=boundary.name)
                inner.add_done_callback(Delivery(self, serial, outer))
            finally:
                _LOCAL.busy = busy
            self.inner[serial] = inner
        return self._wait(serial, outer, made, call)

    def turn(self, name: str, function: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        """Awaited work that makes no event of its own: only its turn is recorded.

        Record: ``function()`` runs in a task apart, as an awaited call's real
        coroutine does, and its outcome reaches the program's task at the
        turn. Replay: nothing runs, and None reaches it at the turn. The
        caller makes or takes its events itself once its task resumes.
        """
        serial = next(self._ops)
        outer = self.loop.create_future()
        if self.replaying:
            self.pending[serial] = outer
        else:
            busy, _LOCAL.busy = _LOCAL.busy, True
            try:
                inner = self.loop.create_task(function(), name=name)
                inner.add_done_callback(Delivery(self, serial, outer))
            finally:
                _LOCAL.busy = busy
            self.inner[serial] = inner
        return self._wait(serial, outer, None, None)

    def run_in_executor(self, wrapped: Any, args: Args, kwargs: Kwargs) -> Any:
        """The function runs in its thread in both modes; its result reaches the program at a turn."""
        serial = next(self._ops)
        # Its chaining callbacks are internal whichever thread makes them (the loop's, if
        # the call is already done); the submission itself is the program's (its thread,
        # its executor's locks), so this is not a boundary in flight.
        self._chaining = True
        try:
            real = wrapped(*args, **kwargs)
        finally:
            self._chaining = False
        outer = self.loop.create_future()
        if self.replaying:
            self.threads[serial] = (real, outer)
        else:
            real.add_done_callback(ThreadDelivery(self, serial, outer))
        return outer

    async def _wait(
        self, serial: int, outer: asyncio.Future[Any], boundary: Boundary | None, call: Call | None
    ) -> Any:
        """The program's side of an awaited call: its event is made here, when the task resumes.

        Made in the task that awaited, the event's call site is the
        program's ``await`` line, in both modes (the stack of a running
        coroutine reaches the frames that await it). A task cancelled after
        its outcome was handed over, before it resumed, still makes the
        event: the recording holds it, and replay takes the same path.
        """
        try:
            handed = await outer
        except asyncio.CancelledError:
            if not outer.done() or outer.cancelled():
                self._abandon(serial)
                raise
            try:
                self._outcome(outer.result(), boundary, call)
            except asyncio.CancelledError:
                raise
            except RetraceError:
                raise
            except BaseException:  # the task is cancelled: that is what it sees
                pass
            raise
        return self._outcome(handed, boundary, call)

    def _outcome(self, handed: Any, boundary: Boundary | None, call: Call | None) -> Any:
        """The event of a call whose outcome was handed over: the inner task's (record) or the trace's.

        A :meth:`turn` (no boundary) makes none: its inner task's outcome, or None on replay.
        """
        if self.replaying:
            return None if boundary is None else self.mode.call(boundary, _unreachable, call, (), {})
        inner: asyncio.Task[Any] = handed
        if boundary is None or not self.current():  # no event, or the session ended meanwhile
            return inner.result()
        error = inner.exception()
        if error is not None:
            error.__traceback__ = None  # replay's copy has none: the program sees the same
            error.__suppress_context__ = True

        def outcome(*args: Any, **kwargs: Any) -> Any:
            if error is not None:
                raise error
            return inner.result()

        return self.mode.call(boundary, outcome, call, (), {})

    def _abandon(self, serial: int) -> None:
        """The program's task was cancelled while it waited: the real call is cancelled too."""
        if self.replaying:
            self.pending.pop(serial, None)
            return
        inner = self.inner.pop(serial, None)
        if inner is not None:
            busy, _LOCAL.busy = _LOCAL.busy, True
            try:
                inner.cancel()
            finally:
                _LOCAL.busy = busy

    def deliver_thread(self, delivery: ThreadDelivery, real: asyncio.Future[Any]) -> None:
        """Record: an executor call's result arrived; record the turn, hand it over."""
        if delivery.outer.done():
            if not real.cancelled():
                real.exception()
            return
        if self.current():
            self._record_turn(THREAD, delivery.serial)
        copy_outcome(real, delivery.outer)

    def deliver(self, delivery: Delivery, inner: asyncio.Task[Any]) -> None:
        """Record: the real call finished; record the turn and hand the inner task over.

        The call's own event is made by the program's task when it resumes
        (:meth:`_wait`).
        """
        self.inner.pop(delivery.serial, None)
        outer = delivery.outer
        if outer.done():  # the program stopped waiting: not its outcome
            if not inner.cancelled():
                inner.exception()
            return
        if self.current():
            if inner.cancelled():
                self._record_turn(CANCELLED, delivery.serial)
                outer.cancel()
                return
            self._record_turn(DONE, delivery.serial)
        outer.set_result(inner)

    def deliver_arrival(self, arrival: Arrival) -> None:
        """Record: something from outside (a connection) reaches the program: a turn, then its hand-over."""
        recorded = self.current()
        if recorded:
            self._record_turn(ACCEPT, next(self.accepts))
        arrival.hand_over(recorded)

    def _record_turn(self, kind: int, serial: int) -> None:
        value = [self.count, kind, serial]
        self.count = 0
        busy, _LOCAL.busy = _LOCAL.busy, False
        try:
            self.mode.call(TURN, lambda: value, None, (), {})
        finally:
            _LOCAL.busy = busy

    # -- one iteration of the loop -----------------------------------------
    def run_once(self) -> None:
        if self.replaying:
            self._drop_cancelled_timers()
            self.settle()
            if not self.loop._ready and not self.loop._stopping:
                self._idle()
        else:
            self._record_poll()
        self._run_ready()

    def _record_poll(self) -> None:
        """Record: poll the selector and the clock as the loop does, recording due program timers."""
        loop = self.loop
        busy, _LOCAL.busy = _LOCAL.busy, True
        try:
            self._drop_cancelled_timers()
            timeout: float | None = None
            if loop._ready or loop._stopping:
                timeout = 0
            elif loop._scheduled:
                timeout = min(max(0.0, loop._scheduled[0]._when - loop.time()), _MAXIMUM_SELECT_TIMEOUT)
            if timeout != 0:  # the loop may wait long: what is recorded so far goes to disk first
                self.mode.flush()
            self._poll(timeout)
            end_time = loop.time() + loop._clock_resolution
            scheduled = loop._scheduled
            while scheduled and scheduled[0]._when < end_time:
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
                serial = self.timer_serials.pop(id(handle), None)
                if handle._cancelled:
                    self.internal.discard(id(handle))
                    continue
                if serial is not None:
                    self._record_turn(TIMER, serial)
                loop._ready.append(handle)
        finally:
            _LOCAL.busy = busy

    def _poll(self, timeout: float | None) -> None:
        loop = self.loop
        events = loop._selector.select(timeout)
        ready = loop._ready
        before = len(ready)
        loop._process_events(events)
        for handle in itertools.islice(ready, before, None):
            self.internal.add(id(handle))

    def _drop_cancelled_timers(self) -> None:
        loop = self.loop
        scheduled = loop._scheduled
        while scheduled and scheduled[0]._cancelled:
            loop._timer_cancelled_count -= 1
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
            self._forget_timer(handle)
        if len(scheduled) > 100 and loop._timer_cancelled_count * 2 > len(scheduled):
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False
                    self._forget_timer(handle)
            loop._scheduled = [h for h in scheduled if not h._cancelled]
            heapq.heapify(loop._scheduled)
            loop._timer_cancelled_count = 0

    def _forget_timer(self, handle: Any) -> None:
        self.internal.discard(id(handle))
        serial = self.timer_serials.pop(id(handle), None)
        if serial is not None:
            self.timer_handles.pop(serial, None)

    def _run_ready(self) -> None:
        loop = self.loop
        ready = loop._ready
        internal = self.internal
        for _ in range(len(ready)):
            handle = ready.popleft()
            key = id(handle)
            if handle._cancelled:
                internal.discard(key)
                continue
            if type(handle._callback) in _DELIVERIES:
                internal.discard(key)
                handle._run()
            elif key in internal:
                self._run_internal(handle)
            else:
                handle._run()
                self.count += 1
                if self.replaying and not loop._stopping:
                    self.settle()

    # -- replay: performing the recorded turns --------------------------------
    def settle(self) -> None:
        """Perform every recorded turn that is due after the program callbacks run so far."""
        while True:
            if self.held is None:
                # An executor call's result may be the next turn, after its thread's events.
                if self.cursor.upcoming(TURN if self.threads else None) != TURN.name:
                    return
                value = self.mode.call(TURN, _unreachable, None, (), {})
                if not (type(value) is list and len(value) == 3 and all(type(v) is int for v in value)):
                    self._fail_bad(value)
                self.held = value
            count, kind, serial = self.held
            if count > self.count:
                return
            if count < self.count:
                self._diverge(
                    f"the recording's next turn ({_describe(kind, serial)}) came after "
                    f"{count} more callbacks; the replay has run {self.count}"
                )
            self.held = None
            self.count = 0
            self._perform(kind, serial)

    def _perform(self, kind: int, serial: int) -> None:
        loop = self.loop
        if kind == TIMER:
            handle = self.timer_handles.pop(serial, None)
            if handle is not None:
                self.timer_serials.pop(id(handle), None)
            if handle is None or handle._cancelled:
                state = "never set it or cancelled it" if handle is None else "cancelled it"
                self._diverge(f"{_describe(kind, serial)} fired in the recording here; the replay {state}")
            scheduled = loop._scheduled
            if scheduled and scheduled[0] is handle:
                heapq.heappop(scheduled)
            else:
                loop._scheduled = [h for h in scheduled if h is not handle]
                heapq.heapify(loop._scheduled)
            handle._scheduled = False
            loop._ready.append(handle)
            return
        if kind == THREAD:
            self._hand_over_thread(serial)
            return
        if kind == ACCEPT:
            if self.on_accept is None:
                self._diverge(f"the recording handed {_describe(kind, serial)} to the program here; "
                              "the replay started no server")
            self.on_accept(self, serial)
            return
        outer = self.pending.pop(serial, None)
        if outer is None or outer.done():
            self._diverge(
                f"the recording handed the outcome of {_describe(kind, serial)} to the "
                "program here; the replay "
                + ("never made that call" if outer is None else "had stopped waiting for it")
            )
        if kind == CANCELLED:
            outer.cancel()
        else:  # the waiting task takes the call's event when it resumes (Driver._wait)
            outer.set_result(None)

    def _hand_over_thread(self, serial: int) -> None:
        """Replay: the executor call's result, once its thread (running for real) has delivered it."""
        entry = self.threads.pop(serial, None)
        if entry is None or entry[1].done():
            self._diverge(
                f"the recording handed the result of {_describe(THREAD, serial)} to the "
                "program here; the replay "
                + ("never made that call" if entry is None else "had stopped waiting for it")
            )
        real, outer = entry
        deadline = _monotonic() + DEFAULT_TURN_TIMEOUT
        ready = self.loop._ready
        while not real.done():
            internal = [h for h in ready if id(h) in self.internal]
            if internal:
                kept = [h for h in ready if id(h) not in self.internal]
                ready.clear()
                ready.extend(kept)
                for handle in internal:
                    self._run_internal(handle)
                continue
            if _monotonic() > deadline:
                self._diverge(f"{_describe(THREAD, serial)} did not finish within {DEFAULT_TURN_TIMEOUT:g}s")
            busy, _LOCAL.busy = _LOCAL.busy, True
            try:
                self._poll(0.05)
            finally:
                _LOCAL.busy = busy
        copy_outcome(real, outer)

    def _run_internal(self, handle: Any) -> None:
        self.internal.discard(id(handle))
        if handle._cancelled:
            return
        busy, _LOCAL.busy = _LOCAL.busy, True
        try:
            handle._run()
        finally:
            _LOCAL.busy = busy

    def _idle(self) -> None:
        """Nothing is ready: the next turn must come from the trace, or from another thread."""
        loop = self.loop
        deadline = _monotonic() + DEFAULT_TURN_TIMEOUT
        while not loop._ready and not loop._stopping:
            self.settle()
            if loop._ready:
                return
            if self.held is not None:
                count, kind, serial = self.held
                self._diverge(
                    f"the recording's next turn ({_describe(kind, serial)}) came after "
                    f"{count} more callbacks; the replay has no more to run "
                    f"after {self.count}"
                )
            if _monotonic() > deadline:
                self.mode.call(TURN, _unreachable, None, (), {})  # reports what comes next instead
                self._diverge("the event loop has nothing to run and the recording no turn to give")
            busy, _LOCAL.busy = _LOCAL.busy, True
            try:
                self._poll(0.05)
            finally:
                _LOCAL.busy = busy

    def diverge(self, detail: str) -> NoReturn:
        """Stop the replay with a divergence report about the loop's order."""
        self._diverge(detail)

    def _diverge(self, detail: str) -> NoReturn:
        cursor = self.cursor
        error = Divergence(report("boundary", cursor.consumed + 1, "asyncio", None, None, detail))
        cursor.on_divergence(error)
        raise error

    def _fail_bad(self, value: Any) -> NoReturn:
        self.fail_bad(TURN.name, value, "[count, kind, serial]")

    def fail_bad(self, name: str, value: Any, shape: str) -> NoReturn:
        """Stop the replay: the event just taken does not hold what ``name`` events hold."""
        error = BadRecording(
            f"{self.cursor.reader.path}: event #{self.cursor.consumed} ({name}) holds {value!r}, not {shape}"
        )
        self.cursor.on_divergence(error)
        raise error


def _describe(kind: int, serial: int) -> str:
    if kind == TIMER:
        return f"timer #{serial} (call_later/call_at/sleep)"
    if kind == THREAD:
        return f"executor call #{serial} (run_in_executor/to_thread)"
    if kind == ACCEPT:
        return f"connection #{serial} (accepted by a server of the program)"
    return f"awaited call #{serial}" + (" (cancelled)" if kind == CANCELLED else "")


def driver_for(loop: Any) -> Driver | None:
    """The driver of ``loop`` for the active session (None when nothing is recorded or replayed)."""
    mode = runtime.active()
    driver = loop.__dict__.get("_retrace_driver")
    if driver is not None and driver.mode is mode:
        return driver
    if isinstance(mode, runtime.Passthrough):
        return None
    driver = loop._retrace_driver = Driver(loop, mode)
    return driver


def current_scheduler() -> Driver | None:
    """The driver of the running loop: :data:`retrace.aio.current` while a session runs."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    if not isinstance(loop, asyncio.BaseEventLoop):  # uvloop: its loop is not ours to order
        return None
    return driver_for(loop)


# -- the wrappers of BaseEventLoop ----------------------------------------------
def run_once(wrapped: Any, loop: Any, args: Args, kwargs: Kwargs) -> Any:
    driver = driver_for(loop)
    if driver is None:
        return wrapped(*args, **kwargs)
    driver.run_once()
    return None


def call_soon(wrapped: Any, loop: Any, args: Args, kwargs: Kwargs) -> Any:
    driver = driver_for(loop)
    if driver is None:
        return wrapped(*args, **kwargs)
    return driver.call_soon(*args, **kwargs)


def run_in_executor(wrapped: Any, loop: Any, args: Args, kwargs: Kwargs) -> Any:
    driver = driver_for(loop)
    if driver is None or _LOCAL.busy:
        return wrapped(*args, **kwargs)
    return driver.run_in_executor(wrapped, args, kwargs)


def call_at(wrapped: Any, loop: Any, args: Args, kwargs: Kwargs) -> Any:
    handle = wrapped(*args, **kwargs)
    driver = driver_for(loop)
    if driver is not None:
        driver.timer(handle)
    return handle
