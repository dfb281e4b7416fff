"""The replay cursor: one position in the trace, shared by all threads in turn.

Records are read one block at a time; definitions (boundary names, call
sites, summaries) are absorbed as they pass, so the cursor never scans and
never holds more than one block. A thread whose event is not next waits on a
condition (no busy-waiting) until its turn comes, or until the turn cannot
come, which is reported as a divergence.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import trace
from .boundary import Args, Boundary, Kwargs
from .callsite import CallSites
from .codecs import CodecRegistry
from .divergence import Side, report
from .errors import BadRecording, Divergence, RecordingEnds
from .runtime import LOCAL, fingerprint_of, summarize

DEFAULT_TURN_TIMEOUT = float(os.environ.get("RETRACE_REPLAY_TIMEOUT", "10"))
_monotonic = time.monotonic  # taken before any patch


class Cursor:
    """Hands out recorded events in the recorded order."""

    def __init__(
        self,
        reader: trace.TraceReader,
        codecs: CodecRegistry,
        on_divergence: Callable[[Exception], None],
        turn_timeout: float = DEFAULT_TURN_TIMEOUT,
    ) -> None:
        self.reader = reader
        self.codecs = codecs
        self.on_divergence = on_divergence
        self.turn_timeout = turn_timeout
        self.names: dict[int, str] = {}
        self.sites: dict[int, tuple[str, int]] = {}
        self.summaries: dict[int, str] = {}
        self.consumed = 0
        self.footer: dict[str, Any] | None = None
        self.stopped: str | None = None
        self._blocks = reader.blocks()
        self._items: list[Any] = []
        self._pos = 0
        self._next: tuple[Any, ...] | None = None
        self._exhausted = False
        self._cond = threading.Condition()
        self._local = LOCAL
        self._threads: dict[int, int] = {}
        self._waiting: dict[int, str] = {}
        self._sites = CallSites()
        self._peek()

    # -- reading -----------------------------------------------------------
    def _peek(self) -> tuple[Any, ...] | None:
        """The next event record, absorbing definitions; None at the end."""
        while self._next is None and not self._exhausted:
            if self._pos >= len(self._items):
                block = next(self._blocks, None)
                if block is None:
                    self._exhausted = True
                    break
                self._offset, self._items = block
                self._pos = 0
                continue
            rec = tuple(self._items[self._pos : self._pos + trace.RECORD_WIDTH])
            self._pos += trace.RECORD_WIDTH
            self._absorb(rec)
        return self._next

    def _absorb(self, rec: tuple[Any, ...]) -> None:
        thread, code, ident, _fp, value = rec
        if type(code) is not int or type(thread) is not int or (
            code < 0 and not trace.valid_marker(code, ident, value)
        ):
            raise BadRecording(f"{self.reader.path}: malformed record in block at byte {self._offset}")
        if code >= 0:
            self._next = rec
        elif code == trace.DEF_BOUNDARY:
            self.names[ident] = value
        elif code == trace.DEF_SITE:
            self.sites[ident] = (value[0], value[1])
        elif code == trace.DEF_SUMMARY:
            self.summaries[ident] = value
        elif code == trace.FOOTER:
            self.footer = value
            self._exhausted = True
        elif code == trace.STOPPED:
            self.stopped = value
            self._exhausted = True

    # -- threads -----------------------------------------------------------
    def thread_key(self) -> int:
        local = self._local
        if local.owner is not self:
            with self._cond:
                local.key = self._threads[threading.get_ident()] = len(self._threads)
                local.owner = self
        return local.key  # type: ignore[return-value]

    def upcoming(self, wait_for: Boundary | None = None) -> str | None:
        """The boundary name of the next event if it is this thread's, without taking it.

        For schedulers that must know what comes next before they decide what
        to run (the asyncio adapter's event loop); None when the next event
        is another thread's or the trace has ended. With ``wait_for``, first
        wait (as a call of that boundary would) until the next event is this
        thread's or the trace ends.
        """
        key = self.thread_key()
        rec = self._next
        if wait_for is not None and (rec is None or rec[0] != key):
            rec = self._wait_turn(key, wait_for)
        if rec is None or rec[0] != key:
            return None
        return self.names.get(rec[1] >> 1)

    # -- serving -----------------------------------------------------------
    def take(
        self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs, frame: FrameType | None
    ) -> tuple[int, Any]:
        """The recorded ``(raised, value)`` for this call, after checking it matches.

        Only the thread an event belongs to can take it, so taking needs no
        lock; the taker alone advances the cursor, and publishes the next
        event only after absorbing the definitions before it. Threads whose
        turn it is not wait on the condition.
        """
        local = self._local
        key = local.key if local.owner is self else None
        if key is None:
            key = self.thread_key()
        rec = self._next
        if rec is None or rec[0] != key:
            rec = self._wait_turn(key, b)
            if rec is None:
                self._fail(self._ended(b, instance, args, kwargs, frame, key))
        assert rec is not None
        _thread, code, _site, fp, value = rec
        if self.names.get(code >> 1) != b.name:
            self._fail(self._diverged("boundary", rec, b, instance, args, kwargs, frame, key))
        if fp is not None:
            recorded = fp[0] if type(fp) is list else fp
            if b.fingerprint is None or recorded != fingerprint_of(
                self.codecs, b, instance, args, kwargs
            )[0]:
                self._fail(self._diverged("arguments", rec, b, instance, args, kwargs, frame, key))
        self.consumed += 1
        self._next = None
        try:
            self._peek()
        except BadRecording as exc:  # a damaged block: stop the replay, never raise into the program
            self._fail(exc)
        if self._waiting:
            with self._cond:
                self._cond.notify_all()
        return code & 1, value

    def _wait_turn(self, key: int, b: Boundary) -> tuple[Any, ...] | None:
        """Block until the next event is this thread's, or the trace ends."""

        def my_turn() -> bool:
            rec = self._next
            return (rec is None and self._exhausted) or (rec is not None and rec[0] == key)

        deadline = _monotonic() + self.turn_timeout
        local = self._local
        busy, local.busy = local.busy, True  # our own waiting reads the clock for real
        try:
            with self._cond:
                self._waiting[key] = b.name
                try:
                    while not my_turn():
                        left = deadline - _monotonic()
                        if left <= 0:
                            self._stuck(key, b)
                        self._cond.wait(min(left, 0.05))
                finally:
                    self._waiting.pop(key, None)
        finally:
            local.busy = busy
        return self._next

    def _stuck(self, key: int, b: Boundary) -> None:
        rec = self._next
        others = ", ".join(
            f"thread {k} waits to call {n}" for k, n in self._waiting.items() if k != key
        )
        detail = (
            f"thread {key} waited {self.turn_timeout:g}s to call {b.name}; the next recorded "
            f"event belongs to thread {rec[0] if rec else '?'}" + (f"; {others}" if others else "")
        )
        self._fail(Divergence(report("stuck", self.consumed + 1, key, self._side(rec), None, detail)))

    def finish(self, exit_status: int | None) -> None:
        """Check the program used every event and ended as recorded."""
        with self._cond:
            rec = self._next
            if rec is not None:
                self._fail(Divergence(report(
                    "missing", self.consumed + 1, rec[0], self._side(rec), None,
                    "the program finished, but the recording has more events",
                )))
            if self.footer is not None and exit_status is not None:
                recorded = self.footer.get("exit_status")
                if recorded is not None and recorded != exit_status:
                    self._fail(Divergence(report(
                        "exit", self.consumed, 0, None, None,
                        f"recorded exit status {recorded}, replay exit status {exit_status}",
                    )))

    # -- reports -----------------------------------------------------------
    def unreadable(self, b: Boundary, error: Exception) -> None:
        """Stop: the event just taken holds a value no installed codec can rebuild."""
        self._fail(BadRecording(
            f"{self.reader.path}: event #{self.consumed} ({b.name}) holds a value replay "
            f"cannot rebuild: {error}"
        ))

    def _fail(self, error: Exception) -> None:
        self.on_divergence(error)
        raise error

    def _side(self, rec: tuple[Any, ...] | None) -> Side | None:
        if rec is None:
            return None
        _thread, code, site, fp, _value = rec
        file, line = self.sites.get(site, ("<unknown>", 0))
        summary = self.summaries.get(fp[1], fp[1]) if type(fp) is list else None
        return Side(self.names.get(code >> 1, f"<boundary {code >> 1}>"), summary, f"{file}:{line}")

    def _actual(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs,
                frame: FrameType | None) -> Side:
        file, line = self._sites.find(frame, b.library)
        return Side(b.name, summarize(b, instance, args, kwargs), f"{file}:{line}")

    def _diverged(self, kind: str, rec: tuple[Any, ...], b: Boundary, instance: Any, args: Args,
                  kwargs: Kwargs, frame: FrameType | None, key: int) -> Divergence:
        return Divergence(report(kind, self.consumed + 1, key, self._side(rec),
                                 self._actual(b, instance, args, kwargs, frame)))

    def _ended(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs,
               frame: FrameType | None, key: int) -> Exception:
        actual = self._actual(b, instance, args, kwargs, frame)
        if self.footer is not None:
            return Divergence(report("extra", self.consumed + 1, key, None, actual))
        if self.stopped is not None:
            why = f"recording stopped while the program ran on: {self.stopped}"
        elif self.reader.truncated_at is not None:
            why = (f"the recorded process died; {self.reader.path} ends in an incomplete block "
                   f"at byte {self.reader.truncated_at}")
        else:
            why = "the recorded process died (or was killed) before this call completed"
        return RecordingEnds(
            f"retrace: the recording ends here, after event #{self.consumed}: {why}.\n"
            f"  the program went on to call {b.name} at {actual.site}"
        )
