"""Counting the program's steps, per thread, with as little work per step as we can.

Every trace event in the program's own code (a call, a line, a return, an
exception) is a *step*; each thread counts its own. The counts are what make
a position repeatable (see :mod:`.timeline`). Code outside the program
(the standard library, site-packages, retrace) is not traced at all.

The per-step work is a few attribute reads: bump the count, compare it with
the thread's *alarm* (the next step at which the debugger wants a word: a
target, a scan limit, a periodic checkpoint check), and on a line, look the
line up in the breakpoint lines of its code. Everything else is the
handler's, called only when the tracer is ``slow`` (stepping, scanning) or
an alarm rings.
"""

from __future__ import annotations

import _thread
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Protocol

from ..snapshot import is_program_file


class ThreadState:
    """One thread's place: its name, its step count, its depth in program frames."""

    __slots__ = ("alarm", "check", "depth", "local", "name", "step")

    def __init__(self, name: str) -> None:
        self.name = name
        self.step = 0
        self.depth = 0
        self.alarm = 0
        self.check = 0
        self.local: Any = None


class Handler(Protocol):
    def alarm(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None: ...
    def slow_event(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None: ...
    def breakpoint_line(self, ts: ThreadState, frame: FrameType) -> None: ...
    def lines_for(self, code: CodeType) -> frozenset[int] | None: ...


class Tracer:
    """The trace functions, and the state they keep per thread and per code object."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.slow = False
        self.program: dict[CodeType, bool] = {}
        self.bp_lines: dict[CodeType, frozenset[int] | None] = {}
        self.threads: dict[str, ThreadState] = {}
        # _thread's own: an adapter may wrap threading's classes while a replay runs
        self._tls = _thread._local()
        self._lock = _thread.allocate_lock()

    def start(self) -> None:
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(None)
        threading.settrace(None)

    def current(self) -> ThreadState:
        ts: ThreadState | None = getattr(self._tls, "ts", None)
        return ts if ts is not None else self._new_state()

    def refresh_breakpoints(self) -> None:
        for code, ours in self.program.items():
            if ours:
                self.bp_lines[code] = self.handler.lines_for(code)

    def steps(self) -> dict[str, int]:
        return {name: ts.step for name, ts in self.threads.items()}

    def _new_state(self) -> ThreadState:
        base = threading.current_thread().name
        with self._lock:
            name, n = base, 1
            while name in self.threads:
                n += 1
                name = f"{base}#{n}"
            ts = self.threads[name] = ThreadState(name)
        ts.local = self._make_local(ts)
        self._tls.ts = ts
        return ts

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        ours = self.program.get(code)
        if ours is None:
            ours = self.program[code] = is_program_file(code.co_filename)
            if ours:
                self.bp_lines[code] = self.handler.lines_for(code)
        if not ours:
            return None
        ts: ThreadState | None = getattr(self._tls, "ts", None)
        if ts is None:
            ts = self._new_state()
        ts.depth += 1
        return ts.local(frame, event, arg)

    def _make_local(self, ts: ThreadState) -> Any:
        tracer = self
        handler = self.handler
        bp_lines = self.bp_lines

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            step = ts.step = ts.step + 1
            if step >= ts.alarm:
                handler.alarm(ts, frame, event, arg)
            elif tracer.slow:
                handler.slow_event(ts, frame, event, arg)
            elif event == "line":
                lines = bp_lines.get(frame.f_code)
                if lines is not None and frame.f_lineno in lines:
                    handler.breakpoint_line(ts, frame)
            if event == "return":
                ts.depth -= 1
            return local

        return local

    def normal(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        """What an event gets when no alarm rings: the slow path or the breakpoint check."""
        if self.slow:
            self.handler.slow_event(ts, frame, event, arg)
        elif event == "line":
            lines = self.bp_lines.get(frame.f_code)
            if lines is not None and frame.f_lineno in lines:
                self.handler.breakpoint_line(ts, frame)
