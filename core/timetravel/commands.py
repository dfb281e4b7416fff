"""The commands that go back, and the prompt after the program's end.

Mixed into :class:`~.debugger.TimeTravelPdb`: each command turns into a
request to the coordinator (``rstep`` is "go to the step before this one",
``rcontinue`` is "scan back for the last breakpoint hit"), or, for a
position ahead, into a target the running process stops at.
"""

from __future__ import annotations

import cmd
import os
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from . import forks
from .machine import PROMPT
from .output import flush_all
from .tracer import ThreadState, Tracer
from .watches import Watches

if TYPE_CHECKING:
    from ..session import Session
    from .channel import Channel
    from .output import ShownOnce


MAIN = "MainThread"
FIRST_LINE = 2  # step 1 is the call of the main module's code, step 2 its first line


class TravelCommands:
    """``rstep``, ``rnext``, ``rreturn``, ``rcontinue``, ``goto``, ``when``, ``watch``..."""

    session: Session
    link: Channel
    socket_path: str
    tracer: Tracer
    streams: tuple[ShownOnce, ShownOnce]
    watches: Watches
    here: ThreadState | None
    finished_status: int | None
    target: tuple[str, int] | None
    hidden: bool
    stepping: bool
    stdout: IO[str]
    stack: list[tuple[FrameType, int]]
    curindex: int
    curframe: FrameType | None
    _travelling: bool

    if TYPE_CHECKING:  # the debugger's and pdb's (declared only: the real ones come later in the MRO)
        hook: Any

        def message(self, msg: str) -> None: ...
        def error(self, msg: str) -> None: ...
        def export_state(self) -> dict[str, Any]: ...
        def _update_slow(self) -> None: ...
        def _rearm_all(self) -> None: ...
        def _event_hook(self, wanted: int) -> Any: ...

    def _position(self) -> ThreadState:
        here = self.here
        if here is None:
            here = self.here = self.tracer.current()
        return here

    def _travel(self, request: dict[str, Any]) -> None:
        """Ask the coordinator to take the session to an earlier position.

        On success another process carries on and this one leaves; otherwise
        the coordinator says why and the prompt comes back here.
        """
        request.update(
            type="request", state=self.export_state(), shown=[stream.shown for stream in self.streams]
        )
        flush_all()
        self.stdout.flush()
        self._travelling = True  # the way back is not interrupted
        try:
            if not self.link.send(request):
                forks.orphaned(self.socket_path)
            reply = self.link.recv()
            if reply is None:
                forks.orphaned(self.socket_path)
            if reply.get("type") == "exit":
                os._exit(0)  # another process has taken over
        finally:
            self._travelling = False
        self.message(str(reply.get("message", "")))

    def do_rstep(self, arg: str) -> None:
        """rs(tep)
        Go back one step: the step before this one in this thread."""
        here = self._position()
        if here.step <= 1:
            self.error("this is the program's first step")
            return
        self._travel({"op": "goto", "target": [here.name, here.step - 1]})

    do_rs = do_rstep

    def do_rnext(self, arg: str) -> None:
        """rn(ext)
        Go back one line in this function, over calls (or to its caller's line)."""
        here = self._position()
        self._travel(
            {
                "op": "scan",
                "what": "depth",
                "thread": here.name,
                "depth": here.depth,
                "strict": False,
                "limit": [here.name, here.step],
                "fail": "this is the program's first step",
            }
        )

    do_rn = do_rnext

    def do_rreturn(self, arg: str) -> None:
        """rreturn
        Go back to the line that called the current function."""
        here = self._position()
        self._travel(
            {
                "op": "scan",
                "what": "depth",
                "thread": here.name,
                "depth": here.depth,
                "strict": True,
                "limit": [here.name, here.step],
                "fail": "no caller in the program to go back to",
            }
        )

    def do_rcontinue(self, arg: str) -> None:
        """rc(ontinue)
        Go back to the previous breakpoint hit."""
        here = self._position()
        self._travel(
            {
                "op": "scan",
                "what": "break",
                "limit": [here.name, here.step],
                "fail": "no earlier breakpoint hit" + (" or watch change" if self.watches.items else ""),
            }
        )

    do_rc = do_rcontinue

    def do_goto(self, arg: str) -> int | None:
        """goto N | goto @STEP | goto @THREAD:STEP
        Go to where boundary event N has been served, or to a step of this
        thread (or of THREAD), forwards or backwards (see `when`)."""
        here = self._position()
        text = arg.strip()
        cursor = self.session.cursor
        assert cursor is not None
        try:
            if text.startswith("@"):
                thread, _, number = text[1:].rpartition(":")
                thread = thread or here.name
                step = int(number)
                if step < 1:
                    raise ValueError
            else:
                event = int(text.lstrip("#"))
                if event < 0:
                    raise ValueError
        except ValueError:
            self.error("usage: goto N (a boundary event), goto @STEP or goto @THREAD:STEP")
            return None
        if text.startswith("@"):
            known = self.tracer.threads.get(thread)
            if known is not None and step <= known.step and (known is not here or step < here.step):
                self._travel({"op": "goto", "target": [thread, step]})
                return None
            if self.finished_status is not None:
                self.error("the program has finished; that position is not in this run")
                return None
            self.target = (thread, step)
        else:
            if event <= cursor.consumed:
                self._travel({"op": "event", "event": event})
                return None
            if self.finished_status is not None:
                self.error(f"the program has finished after {cursor.consumed} boundary events")
                return None
            self.hook = self._event_hook(event)
        self.hidden = True
        self.stepping = False
        self._update_slow()
        self._rearm_all()
        return 1

    def where_thread(self) -> tuple[str, int]:
        here = self._position()
        return here.name, here.step

    def do_when(self, arg: str) -> None:
        """when
        Show the position: thread, step, depth and boundary events served."""
        here = self._position()
        cursor = self.session.cursor
        consumed = cursor.consumed if cursor is not None else 0
        self.message(
            f"thread {here.name}, step {here.step}, depth {here.depth}; boundary events served: {consumed}"
        )

    def do_watch(self, arg: str) -> None:
        """watch [EXPRESSION]
        Watch an expression in the current frame: continue stops where its
        value changes, rcontinue goes back to where it last changed. Without
        an expression, list the watches."""
        if not arg.strip():
            for w in self.watches.items:
                self.message(f"{w.number}: {w.expression} = {w.last} (in {w.code[2]}, thread {w.thread})")
            return
        frame = self.curframe
        if frame is None:
            self.error("no frame to watch in")
            return
        depth = sum(1 for f, _line in self.stack[: self.curindex + 1] if self.tracer.program.get(f.f_code))
        watch = self.watches.add(arg.strip(), self._position().name, depth, frame)
        self.tracer.refresh_breakpoints()
        self.message(f"Watch {watch.number}: {watch.expression} = {watch.last}")

    def do_unwatch(self, arg: str) -> None:
        """unwatch NUMBER
        Stop watching an expression."""
        try:
            number = int(arg)
        except ValueError:
            self.error("usage: unwatch NUMBER")
            return
        if not self.watches.remove(number):
            self.error(f"no watch {number}")
        self.tracer.refresh_breakpoints()

    def do_checkpoints(self, arg: str) -> None:
        """checkpoints
        Show the checkpoints the session holds, and their memory."""
        self._travel({"op": "describe"})

    def do_restart(self, arg: str) -> None:
        """restart | run
        Go back to the program's first line (the replay cannot change its arguments)."""
        here = self._position()
        if here.name == MAIN and here.step <= FIRST_LINE:
            self.error("this is the program's first line")
            return
        self._travel({"op": "goto", "target": [MAIN, FIRST_LINE]})

    do_run = do_restart

    def do_jump(self, arg: str) -> None:
        """j(ump) is not available: a replay must run the lines the recording ran."""
        self.error("jump would make the program do what the recording did not; use goto")

    do_j = do_jump

    def do_debug(self, arg: str) -> None:
        """debug is not available: a second debugger would take the trace function."""
        self.error("a nested debugger is not available in retrace debug")


class Finished(cmd.Cmd):
    """The prompt after the program's end: only the ways back (and quit) make sense."""

    def __init__(self, debugger: Any) -> None:
        super().__init__(stdin=debugger.stdin, stdout=debugger.stdout)
        self.use_rawinput = False
        self.prompt = PROMPT
        self.debugger = debugger

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        name, _, arg = line.partition(" ")
        if name in ("_stack", "_vars", "_eval", "_breaks"):
            getattr(self.debugger, f"do_{name}")(arg)
        else:
            self.debugger.error("the program has finished: use rstep, rcontinue, goto, when or quit")

    def do_rstep(self, arg: str) -> bool:
        self.debugger.do_rstep(arg)
        return False

    do_rs = do_rnext = do_rn = do_rstep

    def do_rcontinue(self, arg: str) -> bool:
        self.debugger.do_rcontinue(arg)
        return False

    do_rc = do_rcontinue

    def do_goto(self, arg: str) -> bool:
        self.debugger.do_goto(arg)
        return False

    def do_when(self, arg: str) -> bool:
        self.debugger.do_when(arg)
        return False

    def do_checkpoints(self, arg: str) -> bool:
        self.debugger.do_checkpoints(arg)
        return False

    def do_restart(self, arg: str) -> bool:
        self.debugger.do_restart(arg)
        return False

    do_run = do_restart

    def do_quit(self, arg: str) -> bool:
        return True

    do_q = do_exit = do_quit

    def do_EOF(self, arg: str) -> bool:
        self.debugger.message("")
        return True
