"""The coordinator: the ``retrace debug`` process itself, which never runs the program.

It keeps the session together while the process that runs the program
changes: it knows every checkpoint (and thins them), carries out a request
to go back (which checkpoint to resume, what to scan, segment by segment),
hands the terminal from the process that asked to the one that arrived, and
ends them all when the session ends — on ``quit``, on a signal, or when the
live process dies. Killed outright, it leaves nothing behind either: every
process of the session leaves when its connection to the coordinator ends.

On Linux it is also the *child subreaper* of the session, so the processes
whose parents have left are reaped here, not by init.
"""

from __future__ import annotations

import _socket
import ctypes
import os
import select
import shutil
import signal
import tempfile
import time
from typing import Any

import attrs

from .channel import Channel, listener
from .timeline import DEFAULT_LIMIT, Checkpoint, Timeline

_PR_SET_CHILD_SUBREAPER = 36
EXPECT_WITHIN = 5.0  # seconds a forked checkpoint has to introduce itself


def _become_subreaper() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def memory_of(pid: int) -> tuple[int, int]:
    """``(Pss, Private_Dirty)`` of a process in KiB, from ``/proc``; zeros where unknown."""
    fields = {"Pss:": 0, "Private_Dirty:": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                parts = line.split()
                if parts and parts[0] in fields:
                    fields[parts[0]] = int(parts[1])
    except (OSError, ValueError):
        pass
    return fields["Pss:"], fields["Private_Dirty:"]


def checkpoint_limit() -> int:
    """``RETRACE_CHECKPOINTS``: how many checkpoints a session keeps (besides the origin)."""
    raw = os.environ.get("RETRACE_CHECKPOINTS", "")
    return int(raw) if raw.isdigit() and int(raw) >= 2 else DEFAULT_LIMIT


@attrs.frozen
class Candidate:
    """A copy a scanning runner forked at one of its matches, for the way back to take."""

    thread: str
    step: int
    channel: Channel


class _Stop(Exception):
    """The session ends with this exit status."""

    def __init__(self, status: int) -> None:
        self.status = status


class Coordinator:
    def __init__(self, limit: int | None = None) -> None:
        self.folder = tempfile.mkdtemp(prefix="retrace-debug-")
        self.path = os.path.join(self.folder, "session")
        self.server = listener(self.path)
        self.timeline = Timeline(limit if limit is not None else checkpoint_limit())
        self.channels: dict[int, Channel] = {}
        self.roles: dict[int, str] = {}
        self.pids: dict[int, int] = {}
        self.live: Channel | None = None
        self.requester: Channel | None = None
        self.op: dict[str, Any] | None = None
        self.runner: Channel | None = None
        self.shown = [0, 0]
        self.status = 0
        self.expected: dict[int, float] = {}  # checkpoints forked, not yet introduced
        self.introduced: set[int] = set()  # introduced before their parent said they were forked
        self.deferred: list[tuple[Channel, dict[str, Any]]] = []
        self.candidates: list[Candidate] = []  # of the scan going on
        self.first = 0

    # -- the child's side ----------------------------------------------------
    def forget_in_child(self) -> None:
        """In the first live process: the listening socket is not its to hold."""
        self.server.close()

    # -- serving -------------------------------------------------------------
    def serve(self, first: int) -> int:
        """Run the session until it ends; its exit status.

        ``first`` is the first live process (a child, reaped like the others).
        """
        _become_subreaper()
        previous = {s: signal.signal(s, self._signalled) for s in (signal.SIGTERM, signal.SIGHUP)}
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.first = first
        try:
            self._loop()
        except _Stop as stop:
            self.status = stop.status
        finally:
            signal.signal(signal.SIGINT, interrupt)
            for s, handler in previous.items():
                signal.signal(s, handler)
            self._end_all()
        return self.status

    def _signalled(self, signum: int, frame: Any) -> None:
        raise _Stop(128 + signum)

    def _loop(self) -> None:
        while True:
            fds = [self.server.fileno(), *self.channels]
            readable, _, _ = select.select(fds, [], [], 0.5)
            self._reap()
            self._expire_expected()
            for fd in readable:
                if fd == self.server.fileno():
                    self._accept()
                    continue
                channel = self.channels.get(fd)
                if channel is None:
                    continue
                if not channel.feed():
                    self._gone(fd)
                    continue
                while (message := channel.take()) is not None:
                    self._handle(fd, channel, message)

    def _accept(self) -> None:
        try:
            sock, _address = self.server._accept()  # type: ignore[attr-defined]
        except OSError:
            return
        channel = Channel(_socket.socket(fileno=sock))
        self.channels[channel.fileno()] = channel

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            if pid == self.first and self.live is None:  # it never got as far as saying hello
                raise _Stop(os.waitstatus_to_exitcode(status) or 1)

    # -- messages --------------------------------------------------------------
    def _handle(self, fd: int, channel: Channel, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "hello":
            self._hello(fd, channel, message)
        elif kind == "forked":
            pid = int(message.get("pid", 0))
            if pid in self.introduced:
                self.introduced.discard(pid)
            else:
                self.expected[pid] = time.monotonic() + EXPECT_WITHIN
        elif kind == "request" and channel is self.live:
            self.deferred.append((channel, message))
            self._start_deferred()
        elif kind == "scanned" and channel is self.runner:
            self.runner = None  # its work is done: it leaves now
            self.deferred.append((channel, message))
            self._start_deferred()
        elif kind == "arrived" and channel is self.runner:
            self._arrived(channel)
        elif kind == "failed" and channel is self.runner:
            self._stay("the program ends before reaching that position")
        elif kind in ("finished", "status") and channel is self.live:
            self.status = int(message.get("status") or 0)
        elif kind == "quit" and channel is self.live:
            raise _Stop(int(message.get("status") or 0))

    def _hello(self, fd: int, channel: Channel, message: dict[str, Any]) -> None:
        role = str(message.get("role"))
        self.roles[fd] = role
        self.pids[fd] = int(message.get("pid", 0))
        if self.expected.pop(self.pids[fd], None) is None:
            self.introduced.add(self.pids[fd])
        if role == "live":
            self.live = channel
        elif role == "runner":
            self.runner = channel
        elif role == "candidate" and self.op is not None:
            self.candidates.append(Candidate(str(message["thread"]), int(message["step"]), channel))
        elif role == "candidate":
            self._forget(channel)  # its scan is over
        elif role == "checkpoint":
            checkpoint = Checkpoint(
                pid=self.pids[fd],
                thread=str(message["thread"]),
                step=int(message["step"]),
                total=int(message["total"]),
                steps=dict(message["steps"]),
                consumed=int(message["consumed"]),
                channel=channel,
            )
            for dropped in self.timeline.add(checkpoint):
                self._drop(dropped)
        self._start_deferred()

    def _start_deferred(self) -> None:
        """Carry out waiting requests and scan results once every fork before them said hello.

        A checkpoint (or candidate) connects on its own, so its hello may come
        after the message of the process that forked it; the message must see it.
        """
        while self.deferred and not self.expected:
            channel, message = self.deferred.pop(0)
            if message.get("type") == "request":
                self._request(channel, message)
            else:
                self._scanned(message.get("match"))

    def _expire_expected(self) -> None:
        now = time.monotonic()
        for pid, deadline in list(self.expected.items()):
            if deadline < now:
                del self.expected[pid]
        self._start_deferred()

    def _drop(self, checkpoint: Checkpoint) -> None:
        if isinstance(checkpoint.channel, Channel):
            self._forget(checkpoint.channel)

    def _forget(self, channel: Channel) -> None:
        """Tell a dormant process it is dropped, and close its connection: it leaves."""
        channel.send({"type": "drop"})
        fd = channel.fileno()
        self.channels.pop(fd, None)
        self.roles.pop(fd, None)
        self.pids.pop(fd, None)
        channel.close()

    def _gone(self, fd: int) -> None:
        channel = self.channels.pop(fd)
        channel.close()
        role = self.roles.pop(fd, None)
        self.pids.pop(fd, None)
        if role == "checkpoint":
            self.timeline.checkpoints = [c for c in self.timeline.checkpoints if c.channel is not channel]
        elif role == "candidate":
            self.candidates = [c for c in self.candidates if c.channel is not channel]
        elif channel is self.runner:
            self.runner = None
            if self.op is not None:
                self._stay("going back failed: the re-run ended early")
        elif channel is self.live and self.requester is None:
            raise _Stop(self.status or 1)  # the live process died: the session is over

    # -- going back ------------------------------------------------------------
    def _request(self, channel: Channel, message: dict[str, Any]) -> None:
        self.requester = channel
        self.op = message
        shown = message.get("shown") or [0, 0]
        self.shown = [max(a, int(b)) for a, b in zip(self.shown, shown, strict=True)]
        op = message.get("op")
        if op == "goto":
            thread, step = message["target"]
            self._goto(str(thread), int(step))
        elif op == "event":
            wanted = int(message["event"])
            self._run(self.timeline.latest_with_events_below(wanted), {"kind": "event", "event": wanted})
        elif op == "describe":
            self._stay(self.describe())
        elif op == "scan":
            thread, step = message["limit"]
            start = self.timeline.latest_before(str(thread), int(step))
            self._scan(start, [thread, step])
        else:
            self._stay(f"unknown request {op!r}")

    def _goto(self, thread: str, step: int) -> None:
        self._run(self.timeline.latest_before(thread, step), {"kind": "goto", "target": [thread, step]})

    def _scan(self, start: Checkpoint | None, limit: list[Any]) -> None:
        assert self.op is not None
        self.op["segment"] = start
        job = {
            "kind": "scan",
            "what": self.op["what"],
            "limit": limit,
            "thread": self.op.get("thread"),
            "depth": self.op.get("depth"),
            "strict": self.op.get("strict"),
        }
        self._run(start, job)

    def _scanned(self, match: list[Any] | None) -> None:
        op = self.op
        if op is None:
            return
        self.runner = None
        if match is not None:
            thread, step = str(match[0]), int(match[1])
            near = [c for c in self.candidates if c.thread == thread and c.step <= step]
            if near:  # a copy forked during the scan, at or just before the match
                best = max(near, key=lambda c: c.step)
                self.candidates.remove(best)
                self._run_from(best.channel, {"kind": "goto", "target": [thread, step]})
                self._drop_candidates()
            else:
                self._goto(thread, step)
            return
        segment: Checkpoint | None = op.get("segment")
        earlier = self.timeline.previous(segment) if segment is not None else None
        if segment is None or earlier is None:
            self._stay(str(op.get("fail", "nothing found")))
            return
        self._scan(earlier, [segment.thread, segment.step + 1])

    def _run(self, start: Checkpoint | None, job: dict[str, Any]) -> None:
        if start is None or not isinstance(start.channel, Channel):
            self._stay("no checkpoint leads there")
            return
        self._run_from(start.channel, job)

    def _run_from(self, channel: Channel, job: dict[str, Any]) -> None:
        assert self.op is not None
        job.update(state=self.op.get("state", {}), shown=self.shown)
        if not channel.send({"type": "run", "job": job}):
            self._stay("the checkpoint is gone")

    def _drop_candidates(self) -> None:
        for candidate in self.candidates:
            self._forget(candidate.channel)
        self.candidates = []

    def _arrived(self, channel: Channel) -> None:
        if self.requester is not None:
            self.requester.send({"type": "exit"})
        self.live = channel
        self.runner = None
        self.requester = None
        self.op = None
        self._drop_candidates()

    def _stay(self, message: str) -> None:
        if self.requester is not None:
            self.requester.send({"type": "stay", "message": message})
        self.requester = None
        self.op = None
        self.runner = None
        self._drop_candidates()

    def describe(self) -> str:
        """The checkpoints held and the memory they take (proportional set size, Linux)."""
        cps = self.timeline.checkpoints
        pss, private = 0, 0
        for c in cps:
            memory = memory_of(c.pid)
            pss, private = pss + memory[0], private + memory[1]
        spots = ", ".join(f"{c.thread}@{c.step}" for c in cps[:8]) + (" ..." if len(cps) > 8 else "")
        return (
            f"{len(cps)} checkpoints (at most {self.timeline.limit + 1}): {spots}; "
            f"memory {pss / 1024:.1f} MiB proportional, {private / 1024:.1f} MiB private"
        )

    # -- the end ---------------------------------------------------------------
    def _end_all(self) -> None:
        self.first = 0  # the session is over: nothing to learn from its exit
        pids = [pid for pid in self.pids.values() if pid > 0]
        for channel in self.channels.values():
            channel.close()
        self.channels.clear()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._reap()
        self.server.close()
        shutil.rmtree(self.folder, ignore_errors=True)
