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
from .runtime import digest, summarize

DEFAULT_TURN_TIMEOUT = float(os.environ.get("RETRACE_REPLAY_TIMEOUT", "10"))
# Taken before any patch: Condition.wait_for reads threading._time, which the
# alias sweep points at the clock boundary, so waiting for a turn must not use it.
_monotonic = time.monotonic


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
        if type(code) is not int or type(thread) is not int:
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
        ident = threading.get_ident()
        key = self._threads.get(ident)
        if key is None:
            key = self._threads[ident] = len(self._threads)
        return key

    # -- serving -----------------------------------------------------------
    def take(
        self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs, frame: FrameType | None
    ) -> tuple[int, Any]:
        """The recorded ``(raised, value)`` for this call, after checking it matches."""
        with self._cond:
            key = self.thread_key()
            rec = self._peek()
            if rec is not None and rec[0] != key:
                rec = self._wait_turn(key, b)
            if rec is None:
                self._fail(self._ended(b, instance, args, kwargs, frame, key))
            thread, code, site, fp, value = rec  # type: ignore[misc]
            name = self.names.get(code >> 1)
            if name != b.name:
                self._fail(self._diverged("boundary", rec, b, instance, args, kwargs, frame, key))
            if fp is not None:
                recorded = fp[0] if type(fp) is list else fp
                if b.fingerprint is None or recorded != digest(
                    self.codecs, b.fingerprint(instance, args, kwargs)
                ):
                    self._fail(self._diverged("arguments", rec, b, instance, args, kwargs, frame, key))
            self.consumed += 1
            self._next = None
            self._peek()
            if self._waiting:
                self._cond.notify_all()
            return code & 1, value

    def _wait_turn(self, key: int, b: Boundary) -> tuple[Any, ...] | None:
        self._waiting[key] = b.name
        try:
            ok = self._wait_for_key(key)
        finally:
            self._waiting.pop(key, None)
        if not ok:
            rec = self._peek()
            waiting = ", ".join(f"thread {k} waits to call {n}" for k, n in self._waiting.items())
            detail = (
                f"thread {key} waited {self.turn_timeout:g}s to call {b.name}; the next recorded "
                f"event belongs to thread {rec[0] if rec else '?'}"
                + (f"; {waiting}" if waiting else "")
            )
            self._fail(Divergence(report("stuck", self.consumed + 1, key, self._side(rec), None, detail)))
        return self._peek()

    def _wait_for_key(self, key: int) -> bool:
        deadline = _monotonic() + self.turn_timeout
        while True:
            rec = self._peek()
            if rec is None or rec[0] == key:
                return True
            remaining = deadline - _monotonic()
            if remaining <= 0:
                return False
            self._cond.wait(remaining)

    def finish(self, exit_status: int | None) -> None:
        """Check the program used every event and ended as recorded."""
        with self._cond:
            rec = self._peek()
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
