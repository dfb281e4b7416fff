"""``retrace debug``: pdb on a replay, with commands that go backwards.

Every pdb command works as in pdb (this is :class:`pdb.Pdb`), and these are
added:

The commands (in :mod:`.commands`):

- ``rstep`` (``rs``): back one step — the step before this one, in this thread;
- ``rnext`` (``rn``): back one line in this function, over calls;
- ``rreturn``: back to the line that called this function;
- ``rcontinue`` (``rc``): back to the previous breakpoint hit or watch change;
- ``watch EXPR`` / ``unwatch N``: ``continue`` stops where EXPR changes in this frame;
- ``goto N``: to where boundary event ``N`` has been served (forwards or backwards);
- ``goto @STEP`` / ``goto @THREAD:STEP``: to a step of this (or another) thread;
- ``when``: the position here; ``checkpoints``: the checkpoints held, and their memory.

Going back is going forward again from a checkpoint (see :mod:`.forks`):
the debugger asks the coordinator, and a runner started from the nearest
earlier checkpoint reaches the position with breakpoints off and output
that was already shown suppressed, and takes over. This process leaves.

Stepping forward is pdb's own (``bdb``), fed with the events of the
program's code only: the debugger never steps into the standard library,
site-packages or retrace.
"""

from __future__ import annotations

import _thread
import bdb
import dis
import os
import pdb
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, TextIO

from .. import runtime
from ..session import Session
from . import conditions, forks
from .channel import Channel
from .commands import Finished, TravelCommands
from .console import LineReader
from .machine import PROMPT, MachineCommands
from .output import ShownOnce, flush_all
from .tracer import ThreadState, Tracer
from .watches import Watches

CHECK_EVERY = 1024
CANDIDATE_EVERY = 0.015
DEFAULT_INTERVAL = 0.05
_perf = time.perf_counter

Hook = Callable[[ThreadState, FrameType, str, Any], bool]


def _interval() -> float:
    try:
        return max(0.001, float(os.environ.get("RETRACE_CHECKPOINT_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


class TimeTravelPdb(TravelCommands, MachineCommands, pdb.Pdb):
    """pdb over a replay, able to go back."""

    def __init__(
        self,
        session: Session,
        link: Channel,
        socket_path: str,
        stdout: TextIO,
        streams: tuple[ShownOnce, ShownOnce],
    ) -> None:
        self.reader = LineReader(link, lambda: forks.orphaned(socket_path))
        super().__init__(stdin=self.reader, stdout=stdout, nosigint=True, readrc=False)  # type: ignore[arg-type]
        self.use_rawinput = False
        self.prompt = PROMPT
        self.session = session
        self.link = link
        self.socket_path = socket_path
        self.streams = streams
        self.tracer = Tracer(self)
        self.children: list[int] = []
        self.role = "live"
        self.interval = _interval()
        self.target: tuple[str, int] | None = None
        self.limit: tuple[str, int] | None = None
        self.hook: Hook | None = None
        self.hidden = False
        self.stepping = False
        self.scanning_breaks = False
        self.watches = Watches()
        self.focus: ThreadState | None = None
        self.match: list[Any] | None = None
        self.here: ThreadState | None = None
        self.finished_status: int | None = None
        self._since = -1e9  # the first step takes the origin checkpoint
        self._candidate_at = -1e9
        self._travelling = False
        self._at_prompt = False
        self._lock = _thread.RLock()  # not threading's: an adapter may wrap that class

    # -- running -----------------------------------------------------------
    def begin(self) -> None:
        """Trace the program from its first step; stop at its first line."""
        self.reset()
        self.hook = self._first_line
        self._update_slow()
        signal.signal(signal.SIGINT, self._interrupted)
        self.tracer.start()

    def _interrupted(self, signum: int, frame: Any) -> None:
        """Ctrl-C while the program runs: stop at its next step, as pdb does."""
        if self.role != "live" or self._travelling or self._at_prompt:
            return  # a runner on its way, a process waiting for one, or the prompt
        self.message("\nProgram interrupted. (Use 'cont' to resume).")
        self.set_step()

    def _first_line(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> bool:
        if event != "line":
            return False
        self._arrive(ts, frame, event, arg)
        return True

    def _update_slow(self) -> None:
        self.tracer.slow = self.stepping or self.hook is not None

    def _rearm(self, ts: ThreadState) -> None:
        alarm = ts.check
        for goal in (self.target, self.limit):
            if goal is not None and goal[0] == ts.name and ts.step < goal[1] < alarm:
                alarm = goal[1]
        ts.alarm = alarm

    def _rearm_all(self) -> None:
        for ts in list(self.tracer.threads.values()):
            self._rearm(ts)

    # -- the tracer's handler ------------------------------------------------
    def lines_for(self, code: CodeType) -> frozenset[int] | None:
        """The lines of ``code`` where bdb must be asked whether to stop.

        A breakpoint set by function name sits on the function's first line
        and bdb checks it on every line of the function; a watch is checked
        on every line of its frame.
        """
        lines = self.breaks.get(self.canonic(code.co_filename)) or []
        if code.co_firstlineno in lines or self.watches.covers(code):
            return frozenset(lines).union(line for _, line in dis.findlinestarts(code) if line)
        return frozenset(lines) if lines else None

    def alarm(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        if self.botframe is None:
            self.botframe = frame
        if ts.step >= ts.check:
            ts.check = ts.step + CHECK_EVERY
            self._periodic(ts, frame)
        target, limit = self.target, self.limit
        if target is not None and ts.step == target[1] and ts.name == target[0]:
            self._arrive(ts, frame, event, arg)
        elif limit is not None and ts.step == limit[1] and ts.name == limit[0]:
            self.scanned_to_end()
        else:
            self.tracer.normal(ts, frame, event, arg)
        self._rearm(ts)

    def slow_event(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        if self.hook is not None and self.hook(ts, frame, event, arg):
            return
        if self.hidden:
            return
        if self.stepping and ts is self.focus:
            if event == "line" and self.watches.items:
                self.watches.check(ts.name, ts.depth, frame)  # seen while stepping: no news later
            self._dispatch(ts, frame, event, arg)
        elif event == "line":
            lines = self.tracer.bp_lines.get(frame.f_code)
            if lines is not None and frame.f_lineno in lines:
                self.breakpoint_line(ts, frame)

    def breakpoint_line(self, ts: ThreadState, frame: FrameType) -> None:
        """A line with breakpoints or watches: stop if one is in effect (bdb decides)."""
        if self.watches.items and self._watched(ts, frame):
            return
        filename = self.canonic(frame.f_code.co_filename)
        line = conditions.line_of(self.breaks, filename, frame)
        if line is None:
            return
        if self.scanning_breaks:
            bp, flag = conditions.effective(filename, line, frame)
            if bp is not None and flag:
                self.match = [ts.name, ts.step]  # rcontinue's scan: remember, go on
                self._candidate(ts, frame, "line", None)
            return
        if self.hidden:
            return
        saved = conditions.counts(filename, line)
        bp, _flag = conditions.effective(filename, line, frame)
        if bp is not None:
            conditions.restore(saved)  # bdb counts this hit itself, as it stops
            self._dispatch(ts, frame, "line", None)

    def _watched(self, ts: ThreadState, frame: FrameType) -> bool:
        """Whether a watch changed here and that was dealt with (a stop, or a scan's match)."""
        changed = self.watches.check(ts.name, ts.depth, frame)
        if not changed or (self.hidden and not self.scanning_breaks):
            return False
        if self.scanning_breaks:
            self.match = [ts.name, ts.step]
            self._candidate(ts, frame, "line", None)
            return True  # a breakpoint here would be the same match
        for watch, old in changed:
            self.message(
                f"Watch {watch.number}: {watch.expression}\nOld value: {old}\nNew value: {watch.last}"
            )
        with self._lock:
            self.interaction(frame, None)
        return True

    def _dispatch(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        with self._lock:
            try:
                bdb.Bdb.trace_dispatch(self, frame, event, arg)
            except bdb.BdbQuit:
                self._quit()
            except Exception as exc:  # never into the program: it would change what it does
                self.error(
                    f"the debugger failed at this step ({type(exc).__name__}: {exc}); the program goes on"
                )

    # -- checkpoints -------------------------------------------------------
    def _periodic(self, ts: ThreadState, frame: FrameType) -> None:
        if self.link.pending() and not self.link.feed():
            forks.orphaned(self.socket_path)  # the coordinator is gone
        now = _perf()
        if now - self._since < self.interval or not self._can_fork():
            return
        steps = self.tracer.steps()
        steps[ts.name] -= 1  # this step is not processed yet
        cursor = self.session.cursor
        assert cursor is not None
        offset = cursor.reader.tell()
        hello = {
            "role": "checkpoint",
            "thread": ts.name,
            "step": ts.step - 1,
            "steps": steps,
            "total": sum(steps.values()),
            "consumed": cursor.consumed,
        }
        link = forks.take(
            hello,
            self.socket_path,
            self.children,
            self.link,
            lambda new, job: self._resume(new, job, offset, ts, frame),
        )
        if link is None:
            self._since = _perf()

    def _candidate(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        """In a scan, at a match: fork a copy here, so the way back need not re-run to it.

        At most one every :data:`CANDIDATE_EVERY` seconds of scanning: the
        way back then re-runs at most that long.
        """
        now = _perf()
        if now - self._candidate_at < CANDIDATE_EVERY or not self._can_fork():
            return
        self._candidate_at = now
        cursor = self.session.cursor
        assert cursor is not None
        offset = cursor.reader.tell()
        hello = {"role": "candidate", "thread": ts.name, "step": ts.step}
        link = forks.take(
            hello,
            self.socket_path,
            self.children,
            self.link,
            lambda new, job: self._resume(new, job, offset, ts, frame),
        )
        if link is not None and self.target == (ts.name, ts.step):
            self._arrive(ts, frame, event, arg)  # resumed exactly at the match

    @staticmethod
    def _can_fork() -> bool:
        return len(sys._current_frames()) == 1 and not runtime.LOCAL.busy

    def _resume(
        self, link: Channel, job: dict[str, Any], offset: int, ts: ThreadState, frame: FrameType
    ) -> None:
        """In a runner: take up ``job`` from the checkpoint's moment (``ts`` at ``frame``)."""
        cursor = self.session.cursor
        assert cursor is not None
        cursor.reader.reopen(offset)
        self.link = self.reader.link = link
        self.role = "runner"
        self.children = []
        self._since = _perf()
        self._candidate_at = -1e9
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._interrupted)
        self.import_state(job["state"])
        self.watches.prime(ts.name, ts.depth, frame, lambda code: bool(self.tracer.program.get(code)))
        for stream, shown in zip(self.streams, job["shown"], strict=True):
            stream.shown = max(stream.shown, shown)
        self.target = self.limit = self.hook = None
        self.match = None
        self.stepping = self.scanning_breaks = False
        self.hidden = True
        self._breakpoints_only()
        kind = job["kind"]
        if kind == "goto":
            self.target = (job["target"][0], job["target"][1])
        elif kind == "scan" and job["what"] == "break":
            self.limit = (job["limit"][0], job["limit"][1])
            self.scanning_breaks = True  # the tracer's own breakpoint check finds the hits
        elif kind == "scan":
            self.limit = (job["limit"][0], job["limit"][1])
            self.hook = self._depth_hook(job)
        elif kind == "event":
            self.hook = self._event_hook(job["event"])
        self._update_slow()
        self._rearm_all()

    def _depth_hook(self, job: dict[str, Any]) -> Hook:
        thread, depth, strict = job["thread"], job["depth"], job["strict"]

        def depths(ts: ThreadState, frame: FrameType, event: str, arg: Any) -> bool:
            if ts.name == thread and (ts.depth < depth or (ts.depth == depth and not strict)):
                self.match = [ts.name, ts.step]
                self._candidate(ts, frame, event, arg)
            return False

        return depths

    def _event_hook(self, wanted: int) -> Hook:
        cursor = self.session.cursor
        assert cursor is not None

        def served(ts: ThreadState, frame: FrameType, event: str, arg: Any) -> bool:
            if cursor.consumed < wanted:
                return False
            self._arrive(ts, frame, event, arg)
            return True

        return served

    def scanned_to_end(self) -> None:
        """A scan is done (its limit, or the program's end): report the last match and leave."""
        self.link.send({"type": "scanned", "match": self.match})
        flush_all()
        os._exit(0)

    # -- stopping ----------------------------------------------------------
    def _arrive(self, ts: ThreadState, frame: FrameType, event: str, arg: Any) -> None:
        """Stop at this step and hand it to the user."""
        self.target = self.limit = self.hook = None
        self.hidden = self.stepping = self.scanning_breaks = False
        self._update_slow()
        self._rearm_all()
        self._breakpoints_only()
        if self.role == "runner":
            self.link.send({"type": "arrived"})
            self.role = "live"
        if event == "line" and self.watches.items:
            self.watches.check(ts.name, ts.depth, frame)  # what the user sees here is no change
        with self._lock:
            if event == "call":
                self.message("--Call--")
                self.interaction(frame, None)
            elif event == "return":
                self.user_return(frame, arg)
            elif event == "exception":
                self.user_exception(frame, arg)
            else:
                self.interaction(frame, None)

    def interaction(self, frame: FrameType | None, tb: Any) -> None:
        self.here = self.tracer.current()
        paused = _perf()
        flush_all()  # the program's output comes before the prompt
        self._at_prompt = True
        try:
            super().interaction(frame, tb)
        finally:
            self._at_prompt = False
            self._since += _perf() - paused  # time at the prompt is not running time

    def _stepping_on(self) -> None:
        self.stepping = True
        self.focus = self.tracer.current()
        self._update_slow()

    def set_step(self) -> None:
        super().set_step()
        self._stepping_on()

    def set_next(self, frame: FrameType) -> None:
        super().set_next(frame)
        self._stepping_on()

    def set_return(self, frame: FrameType) -> None:
        super().set_return(frame)
        self._stepping_on()

    def set_until(self, frame: FrameType, lineno: int | None = None) -> None:
        super().set_until(frame, lineno)
        self._stepping_on()

    def _breakpoints_only(self) -> None:
        """bdb's state for "stop only at breakpoints" (what ``set_continue`` sets)."""
        self._set_stopinfo(self.botframe, None, -1)  # type: ignore[attr-defined]

    def set_continue(self) -> None:
        """Keep tracing (steps are counted all along); stop only at breakpoints."""
        self._breakpoints_only()
        self.stepping = False
        self._update_slow()

    def set_quit(self) -> None:
        self._quit()

    def _quit(self) -> None:
        self.link.send({"type": "quit", "status": self.finished_status or 0})
        flush_all()
        os._exit(0)

    # -- breakpoints follow the debugger from process to process ------------
    def set_break(self, *args: Any, **kwargs: Any) -> Any:
        result = super().set_break(*args, **kwargs)
        self.tracer.refresh_breakpoints()
        return result

    def clear_break(self, *args: Any, **kwargs: Any) -> Any:
        result = super().clear_break(*args, **kwargs)
        self.tracer.refresh_breakpoints()
        return result

    def clear_all_breaks(self) -> Any:
        result = super().clear_all_breaks()
        self.tracer.refresh_breakpoints()
        return result

    def export_state(self) -> dict[str, Any]:
        breakpoints = [
            {
                "number": bp.number,
                "file": bp.file,
                "line": bp.line,
                "temporary": bp.temporary,
                "cond": bp.cond,
                "funcname": bp.funcname,
                "enabled": bp.enabled,
                "ignore": bp.ignore,
                "hits": bp.hits,
            }
            for bp in bdb.Breakpoint.bpbynumber
            if bp is not None
        ]
        return {
            "watches": self.watches.export(),
            "breakpoints": breakpoints,
            "next": bdb.Breakpoint.next,
            "aliases": dict(self.aliases),
            "commands": {str(k): list(v) for k, v in self.commands.items()},
            "doprompt": {str(k): bool(v) for k, v in self.commands_doprompt.items()},
            "silent": {str(k): bool(v) for k, v in self.commands_silent.items()},
        }

    def import_state(self, state: dict[str, Any]) -> None:
        bdb.Breakpoint.bplist = {}
        bdb.Breakpoint.bpbynumber = [None]
        self.breaks = {}
        for saved in sorted(state["breakpoints"], key=lambda b: b["number"]):
            while len(bdb.Breakpoint.bpbynumber) < saved["number"]:
                bdb.Breakpoint.bpbynumber.append(None)
            bdb.Breakpoint.next = saved["number"]
            super().set_break(
                saved["file"], saved["line"], saved["temporary"], saved["cond"], saved["funcname"]
            )
            bp = bdb.Breakpoint.bpbynumber[saved["number"]]
            if bp is not None:
                bp.enabled, bp.ignore, bp.hits = saved["enabled"], saved["ignore"], saved["hits"]
        while len(bdb.Breakpoint.bpbynumber) < state["next"]:
            bdb.Breakpoint.bpbynumber.append(None)
        bdb.Breakpoint.next = state["next"]
        self.watches = Watches.load(state.get("watches", {}))
        self.aliases = dict(state["aliases"])
        self.commands = {int(k): list(v) for k, v in state["commands"].items()}
        self.commands_doprompt = {int(k): v for k, v in state.get("doprompt", {}).items()}
        self.commands_silent = {int(k): v for k, v in state.get("silent", {}).items()}
        self.tracer.refresh_breakpoints()

    # -- the end -------------------------------------------------------------
    def finished(self, status: int) -> None:
        """The program has ended here: offer going back, until quit."""
        self.tracer.stop()
        self.finished_status = status
        self.stack, self.curframe = [], None
        main = self.tracer.threads.get("MainThread")
        end = ThreadState(main.name if main else "MainThread")
        end.step = (main.step if main else 0) + 1
        self.here = end
        self.link.send({"type": "finished", "status": status})
        self.message(
            f"The program finished with exit status {status}. "
            "rstep, rcontinue and goto go back; quit ends the session."
        )
        Finished(self).cmdloop()
        self._quit()
