"""The replay cursor: one position in the trace, shared by all threads in turn.

Records are read one block at a time; definitions (boundary names, call
sites, summaries, thread paths) are absorbed as they pass, so the cursor
never scans and never holds more than one block.

A replayed thread finds its recorded twin by its path in the spawn tree: the
``DEF_THREAD`` record of a thread comes just before its first event, so a
thread whose key is not known yet waits until the next event belongs to a
key defined with its path. A thread whose event is not next sleeps on its own
gate (a raw lock, no busy-waiting); the thread that moves the cursor wakes
exactly the thread the next event belongs to. If no event is taken for
``RETRACE_REPLAY_TIMEOUT`` seconds while threads wait, the turn cannot come:
the replay stops with a report naming every waiting thread and what it waits
for.

Ordered calls (locks, queues, output) *hold* the turn while the real call
runs and :meth:`Cursor.advance` after it, so what one thread does there is
complete before the next event's thread goes on.
"""

from __future__ import annotations

import _thread
import itertools
import operator
import os
import sys
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from . import trace
from .boundary import Args, Boundary, Kwargs
from .callsite import CallSites
from .codecs import CodecRegistry
from .divergence import TRACEBACK, Side, report, written
from .errors import BadRecording, Divergence, RecordingEnds, RetraceError
from .interruptions import marked
from .library_threads import LibraryEvents, is_library_path, wait_quietly
from .runtime import LOCAL, ThreadKeys, fingerprint_of, summarize, thread_path

#: No records: the reading state before the first block, and ``_events`` of a block that must be
#: read record by record.
_NOTHING: Iterator[Any] = iter(())
_ONLY_INT = frozenset((int,))
DEFAULT_TURN_TIMEOUT = float(os.environ.get("RETRACE_REPLAY_TIMEOUT", "10"))
#: ``RETRACE_CHECK_OUTPUT=0`` replays output at its turns without comparing digests
#: (for a program that prints what redaction replaced).
CHECK_OUTPUT = os.environ.get("RETRACE_CHECK_OUTPUT", "1") != "0"
_monotonic = time.monotonic  # taken before any patch
_raw_lock = _thread.allocate_lock  # retrace's own locks are never recorded


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
        self.check_output = CHECK_OUTPUT
        self.names: dict[int, str] = {}
        #: Event codes whose boundary name :meth:`take` found to be a :class:`Boundary`'s.
        self._bound: dict[int, Boundary] = {}
        self.sites: dict[int, tuple[str, int]] = {}
        self.summaries: dict[int, str] = {}
        self.paths: dict[int, str] = {}
        self.keys_by_path: dict[str, int] = {}
        self.consumed = 0
        self.footer: dict[str, Any] | None = None
        self.stopped: str | None = None
        self._blocks = reader.blocks()
        self._offset = 0
        #: The current block's records not read yet, and the run of them :meth:`take` publishes
        #: without checks (see :meth:`_load`).
        self._records: Iterator[tuple[Any, ...]] = _NOTHING
        self._events: Iterator[tuple[Any, ...]] = _NOTHING
        self._pos = self._size = 0  # the index of the next record in the block, and their number
        #: Indices of the block's definitions and markers (None: check every record).
        self._marks: list[int] | None = None
        self._next: tuple[Any, ...] | None = None
        self._exhausted = False
        self._mutex = _raw_lock()
        self._local = LOCAL
        self._keys = ThreadKeys()
        self._fallbacks = itertools.count()
        self._gates: dict[str, Any] = {}
        self._waiting: dict[str, str] = {}
        self._holding: tuple[str, str] | None = None
        self._finisher: Any = None
        self._library_keys: set[int] = set()
        self._library_events: LibraryEvents | None = None
        self._sites = CallSites()
        self._interruptions: dict[str, Callable[[Any], None]] = {}
        self._interruption_ids: set[int] = set()
        #: Whether the trace read so far defines an interruption boundary (one cheap test per event).
        self.has_interruptions = False
        self._peek()

    # -- reading -----------------------------------------------------------
    def _peek(self) -> tuple[Any, ...] | None:
        """The next event record, absorbing definitions; None at the end."""
        while self._next is None and not self._exhausted:
            rec = next(self._records, None)
            if rec is None:
                self._load()
                continue
            self._pos += 1
            code = rec[1]
            if type(code) is int and code >= 0 and type(rec[0]) is int and not self._library_keys:
                self._next = rec  # an event of a program thread, the common record: as _absorb
                self._plain_run()
            else:
                self._absorb(rec)
        return self._next

    def _load(self) -> None:
        """Read the next block, and find the records :meth:`take` may publish without checks.

        Records are made into tuples in C (:func:`~retrace.trace.records_of`). The thread keys and
        codes of the whole block are checked here, in C too; then the events
        between its definitions and markers (all of a block but the first,
        in most traces) are published by :meth:`take` straight from
        ``_events`` (see :meth:`_plain_run`), and only the rest go through
        :meth:`_peek` record by record, with its checks.
        """
        block = next(self._blocks, None)
        if block is None:
            self._exhausted = True
            return
        self._offset, items = block
        self._records = trace.records_of(items)
        self._pos = 0
        threads, codes = items[0 :: trace.RECORD_WIDTH], items[1 :: trace.RECORD_WIDTH]
        self._size = len(codes)
        if not (_ONLY_INT.issuperset(map(type, threads)) and _ONLY_INT.issuperset(map(type, codes))):
            self._marks = None  # a malformed record: each one is checked (and reported) in turn
        elif not codes or min(codes) >= 0:
            self._marks = []  # events alone: most blocks after the first
        else:
            negative = map(operator.lt, codes, itertools.repeat(0))
            self._marks = list(itertools.compress(itertools.count(), negative))

    def _plain_run(self) -> None:
        """Let ``_events`` give the records from here to the next definition or marker.

        They are program threads' events, checked by :meth:`_load`; while
        library threads are known, every record goes through :meth:`_peek`,
        which leaves theirs out.
        """
        marks = self._marks
        if marks is None or self._library_keys:
            self._events = _NOTHING
            return
        start = self._pos
        following = bisect_left(marks, start)
        end = marks[following] if following < len(marks) else self._size
        self._events = itertools.islice(self._records, end - start) if end > start else _NOTHING
        self._pos = end  # where _records is when _events runs out

    def _read_on(self) -> None:
        """Publish the next event after the current one (the slow way: see :meth:`_load`)."""
        self._next = None
        try:
            self._peek()
        except BadRecording as exc:  # a damaged block: stop the replay, never raise into the program
            self._fail(exc)

    def _absorb(self, rec: tuple[Any, ...]) -> None:
        thread, code, ident, _fp, value = rec
        if type(code) is not int or type(thread) is not int or (
            code < 0 and not trace.valid_marker(code, ident, value)
        ):
            raise BadRecording(f"{self.reader.path}: malformed record in block at byte {self._offset}")
        if code >= 0:
            if not self._library_keys or thread not in self._library_keys:
                self._next = rec
        elif code == trace.DEF_BOUNDARY:
            self.names[ident] = value
            self._bound.pop(ident * 2, None)  # a boundary id defined again is checked again
            self._bound.pop(ident * 2 + 1, None)
            if value in self._interruptions:
                self._interruption_ids.add(ident)
                self.has_interruptions = True
        elif code == trace.DEF_SITE:
            self.sites[ident] = (value[0], value[1])
        elif code == trace.DEF_SUMMARY:
            self.summaries[ident] = value
        elif code == trace.DEF_THREAD:
            self.paths[ident] = value
            self.keys_by_path[value] = ident
            if is_library_path(value):
                self._library_keys.add(ident)
        elif code == trace.FOOTER:
            self.footer = value
            self._exhausted = True
        elif code == trace.STOPPED:
            self.stopped = value
            self._exhausted = True

    # -- threads -----------------------------------------------------------
    def thread_key(self) -> int | None:
        """This thread's recorded key, or None while its definition is still ahead."""
        keys = self._keys
        path = keys.path
        if path is None:
            path = keys.path = thread_path(self._fallbacks)
        key = keys.key = self.keys_by_path.get(path)
        return key

    def _path(self, key: int | None) -> str:
        return self.paths.get(key, f"#{key}") if key is not None else (self._keys.path or "?")

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
        if wait_for is not None and (rec is None or key is None or rec[0] != key):
            rec = self._wait_turn(wait_for, None)
            key = self._keys.key
        if rec is None or key is None or rec[0] != key:
            return None
        return self.names.get(rec[1] >> 1)

    # -- serving -----------------------------------------------------------
    def take(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> tuple[int, Any]:
        """The recorded ``(raised, value)`` for this call of a program thread, after checking it matches.

        Only the thread an event belongs to can take it, so taking needs no
        lock; the taker alone advances the cursor, and publishes the next
        event only after absorbing the definitions before it. Threads whose
        turn it is not wait at their gates. :meth:`Replayer.call
        <retrace.runtime.Replayer.call>` calls it, so the frame a report
        names the call site from is two above (the boundary's wrapper's).
        """
        rec = self._next
        if rec is None or rec[0] != self._keys.key:
            rec = self._turn(b, instance, args, kwargs, sys._getframe(2))
        if self.has_interruptions and rec[1] >> 1 in self._interruption_ids:
            rec = self._interrupted(rec, b, instance, args, kwargs, sys._getframe(2))
        code = rec[1]
        if self._bound.get(code) is not b and not self._bind(code, b):
            self._fail(self._diverged("boundary", rec, b, instance, args, kwargs, sys._getframe(2)))
        fp = rec[3]
        if fp is not None:
            # trace.digest_of(), its common case (an int) inlined: this runs on every event
            recorded = fp & trace.DIGEST_MASK if type(fp) is int else trace.digest_of(fp)
            if b.fingerprint is None or recorded != fingerprint_of(
                self.codecs, b, instance, args, kwargs
            )[0]:
                self._fail(self._diverged(b.mismatch, rec, b, instance, args, kwargs,
                                          sys._getframe(2)))
        # advance(), inlined: this runs on every event
        self._holding = None
        self.consumed += 1
        after = next(self._events, None)
        if after is None:
            self._read_on()
        else:
            self._next = after
        if self._gates or self._finisher is not None:
            self._wake()
        if self.has_interruptions:
            self.interruptions_due()
        return code & 1, rec[4]

    def _bind(self, code: int, b: Boundary) -> bool:
        """Whether events with ``code`` are ``b``'s (by name); if so, remembered by identity."""
        if self.names.get(code >> 1) != b.name:
            return False
        self._bound[code] = b
        return True

    def hold(
        self, b: Boundary, fp: Any, instance: Any, args: Args, kwargs: Kwargs,
        frame: FrameType | None,
    ) -> tuple[int, Any]:
        """Wait for this ordered call's turn and check it.

        The caller then performs the call and calls :meth:`advance`. ``fp`` is
        the call's fingerprint, already digested.
        """
        if self._local.library:
            return self.library_take(b, fp, instance, args, kwargs, frame)
        key = self._keys.key
        rec = self._next
        if rec is None or key is None or rec[0] != key:
            rec = self._turn(b, instance, args, kwargs, frame)
        if self.has_interruptions and rec[1] >> 1 in self._interruption_ids:
            rec = self._interrupted(rec, b, instance, args, kwargs, frame)
        _thread, code, _site, recorded, value = rec
        if self.names.get(code >> 1) != b.name:
            self._fail(self._diverged("boundary", rec, b, instance, args, kwargs, frame))
        if recorded != fp and (self.check_output or b.mismatch != "output"):
            self._fail(self._diverged(b.mismatch, rec, b, instance, args, kwargs, frame))
        self._holding = (self._keys.path or "?", b.name)
        return code & 1, value

    # -- interruptions (see retrace.interruptions) ---------------------------
    def on_interruption(self, name: str, perform: Callable[[Any], None]) -> None:
        """Perform the recorded events of boundary ``name`` by calling ``perform(payload)``."""
        self._interruptions[name] = perform
        self._interruption_ids.update(i for i, known in self.names.items() if known == name)
        self.has_interruptions = bool(self._interruption_ids)

    def interruptions_due(self) -> None:
        """Perform the interruptions recorded between this thread's last event and its next."""
        while True:
            rec = self._next
            if rec is None or rec[0] != self._keys.key or rec[1] >> 1 not in self._interruption_ids:
                return
            if self._marking(rec)[1]:
                return  # it arrived during the next call: performed when that call is made
            self._perform(rec, None, None)

    def _interrupted(self, rec: tuple[Any, ...], b: Boundary, instance: Any, args: Args,
                     kwargs: Kwargs, frame: FrameType | None) -> tuple[Any, ...]:
        """Perform the interruptions recorded in this call; then this call's own event."""
        while rec[1] >> 1 in self._interruption_ids:
            self._perform(rec, b, frame)
            rec = self._turn(b, instance, args, kwargs, frame)
        return rec

    def _perform(self, rec: tuple[Any, ...], b: Boundary | None, frame: FrameType | None) -> None:
        """Run the interruption ``rec`` marks. What the handler raises is the program's; a
        :class:`~retrace.errors.RetraceError` from the performer (a payload it cannot use, a
        handler the program no longer has) stops the replay with its report."""
        payload, in_flight = self._marking(rec)
        perform = self._interruptions[self.names[rec[1] >> 1]]
        self.advance()
        try:
            perform(payload)
        except RetraceError as exc:
            self._fail(exc)
        except BaseException:
            if in_flight and b is not None:
                # The handler's exception came out of the interrupted call: its recorded
                # failure is that exception, consumed with it.
                after = self._wait_turn(b, frame)
                if after is not None and after[1] & 1 and self.names.get(after[1] >> 1) == b.name:
                    self.advance()
            raise

    def _marking(self, rec: tuple[Any, ...]) -> tuple[Any, bool]:
        got = marked(rec[4])
        if got is None:
            self._fail(BadRecording(f"{self.reader.path}: event #{self.consumed + 1} "
                                    f"({self.names.get(rec[1] >> 1)}) is not an interruption's mark"))
        assert got is not None
        return got

    def advance(self) -> None:
        """Consume the current event and wake the thread the next one belongs to."""
        if self._local.library:
            return  # a library thread's event came from its own stream
        self._holding = None
        self.consumed += 1
        rec = next(self._events, None)
        if rec is None:
            self._read_on()
        else:
            self._next = rec
        if self._gates or self._finisher is not None:
            self._wake()

    def library_take(self, b: Boundary, ordered_fp: Any, instance: Any, args: Args,
                     kwargs: Kwargs, frame: FrameType | None) -> tuple[int, Any]:
        """An event for a thread a library started (see :mod:`retrace.library_threads`).

        ``ordered_fp`` is the digest an ordered call brings (None for other
        calls, whose digest is computed here). When no recorded event of a
        library thread matches, the thread is parked: a library's background
        thread that does more on replay than when recorded must not stop the
        program; if the program needs it to go on, the report comes after the
        turn timeout.
        """
        if b.ordered is not None:
            digest = ordered_fp
        elif b.fingerprint is not None:
            digest = fingerprint_of(self.codecs, b, instance, args, kwargs)[0]
        else:
            digest = None
        with self._mutex:
            events = self._library_events
            if events is None:
                events = self._library_events = LibraryEvents(self.reader.path)
        try:
            rec = events.take(b.name, digest)
        except BadRecording as exc:
            self._fail(exc)
        if rec is None:
            path = self._keys.path or thread_path(self._fallbacks)
            wait_quietly(self.turn_timeout)
            self._fail(RecordingEnds(
                f"retrace: library thread {path} called {b.name} at "
                f"{self._actual(b, instance, args, kwargs, frame).site}, and no library thread "
                f"made that call with these arguments when recorded (or the recording ends "
                f"before it)"
            ))
        assert rec is not None
        return rec[1] & 1, rec[4]

    def _wake(self) -> None:
        with self._mutex:
            finisher = self._finisher
            if finisher is not None and finisher.locked():
                finisher.release()
            rec = self._next
            if rec is None:
                gates = list(self._gates.values())
            else:
                gate = self._gates.get(self.paths.get(rec[0], ""))
                gates = [gate] if gate is not None else []
            for gate in gates:
                if gate.locked():
                    gate.release()

    def _turn(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs,
              frame: FrameType | None) -> tuple[Any, ...]:
        """This thread's next event, once it is next; fails at the end of the trace."""
        rec = self._wait_turn(b, frame)
        if rec is None:
            self._fail(self._ended(b, instance, args, kwargs, frame))
        assert rec is not None
        return rec

    def _wait_turn(self, b: Boundary, frame: FrameType | None) -> tuple[Any, ...] | None:
        """Block until the next event is this thread's, or the trace ends.

        The deadline moves whenever any thread takes an event: only a replay
        where nothing happens for ``turn_timeout`` seconds is stuck.
        """
        keys = self._keys
        local = self._local
        busy, local.busy = local.busy, True  # our own waiting reads the clock for real
        try:
            key = keys.key if keys.key is not None else self.thread_key()
            path = keys.path or "?"
            gate = _raw_lock()
            gate.acquire()
            site = "{}:{}".format(*self._sites.find(frame, b.library))
            progress, deadline = self.consumed, _monotonic() + self.turn_timeout
            with self._mutex:
                self._waiting[path] = f"{b.name} at {site}"
                self._gates[path] = gate
            try:
                while True:
                    with self._mutex:
                        if key is None:
                            key = keys.key = self.keys_by_path.get(path)
                        rec = self._next
                        if rec is None and self._exhausted:
                            return None
                        if rec is not None and rec[0] == key:
                            return rec
                    now = _monotonic()
                    if self.consumed != progress:
                        progress, deadline = self.consumed, now + self.turn_timeout
                    elif now >= deadline:
                        self._stuck(path, b)
                    gate.acquire(True, max(deadline - now, 0.001))
            finally:
                with self._mutex:
                    self._waiting.pop(path, None)
                    self._gates.pop(path, None)
        finally:
            local.busy = busy

    def _stuck(self, path: str, b: Boundary, detail: str | None = None) -> None:
        rec = self._next
        lines = [detail or f"thread {path} waited {self.turn_timeout:g}s to call {b.name}, "
                 f"and no thread took an event meanwhile"]
        if rec is not None and self._path(rec[0]) != path:
            owner = self._path(rec[0])
            side = self._side(rec)
            assert side is not None
            lines.append(f"the next recorded event is thread {owner}'s {side.boundary} at "
                         f"{side.site}; thread {owner} is not waiting for it (it was never "
                         f"started here, took another path, or is blocked outside retrace)")
        if self._holding is not None and self._holding[0] != path:
            lines.append(f"thread {self._holding[0]} is performing {self._holding[1]}")
        for other, what in sorted(self._waiting.items()):
            lines.append(f"thread {other} waits to call {what}")
        self._fail(Divergence(report("stuck", self.consumed + 1, path, self._side(rec), None,
                                     "\n  ".join(lines))))

    def blocked(self, b: Boundary, why: str) -> None:
        """An ordered call could not complete at its turn: report who waits for what."""
        path = self._keys.path or "?"
        self._stuck(path, b, f"thread {path} could not complete {b.name} at its turn: {why}")

    def outcome_differs(self, b: Boundary, expected: str, actual: str) -> None:
        """An ordered call performed at its turn ended differently than recorded."""
        path = self._keys.path or "?"
        rec = self._next
        self._fail(Divergence(report(
            "sync", self.consumed + 1, path, self._side(rec), None,
            f"{b.name} {expected} when recorded, and {actual} on replay",
        )))

    def _drain(self) -> None:
        """Let other threads (daemons) take the events recorded after this thread's last.

        Returns when the trace is used up, when the next event is this
        thread's own (it will never take it: missing), or when no thread has
        taken an event for ``turn_timeout`` seconds.
        """
        me = self._keys.path
        gate = _raw_lock()
        gate.acquire()
        self._finisher = gate
        try:
            progress, deadline = self.consumed, _monotonic() + self.turn_timeout
            while True:
                rec = self._next
                if rec is None or self.paths.get(rec[0]) == me:
                    return
                now = _monotonic()
                if self.consumed != progress:
                    progress, deadline = self.consumed, now + self.turn_timeout
                elif now >= deadline:
                    return
                gate.acquire(True, deadline - now)
        finally:
            self._finisher = None

    def finish(self, exit_status: int | None) -> None:
        """Check the program used every event and ended as recorded."""
        self._drain()
        with self._mutex:
            rec = self._next
            if rec is not None:
                self._fail(Divergence(report(
                    "missing", self.consumed + 1, self._path(rec[0]), self._side(rec), None,
                    "the program finished, but the recording has more events",
                )))
            if self.footer is not None and exit_status is not None:
                recorded = self.footer.get("exit_status")
                if recorded is not None and recorded != exit_status:
                    self._fail(Divergence(report(
                        "exit", self.consumed, "0", None, None,
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
        summary = trace.summary_of(fp, self.summaries)
        return Side(self.names.get(code >> 1, f"<boundary {code >> 1}>"), summary, f"{file}:{line}")

    def _actual(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs,
                frame: FrameType | None) -> Side:
        file, line = self._sites.find(frame, b.library)
        summary = summarize(b, instance, args, kwargs)
        if summary is None and b.mismatch == "output" and args and type(args[0]) is str:
            summary = written(args[0])
        return Side(b.name, summary, f"{file}:{line}")

    def _diverged(self, kind: str, rec: tuple[Any, ...], b: Boundary, instance: Any, args: Args,
                  kwargs: Kwargs, frame: FrameType | None) -> Divergence:
        actual = self._actual(b, instance, args, kwargs, frame)
        if (actual.summary or "").startswith(TRACEBACK):
            kind = "crashed"
        return Divergence(report(kind, self.consumed + 1, self._path(rec[0]), self._side(rec),
                                 actual))

    def _ended(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs,
               frame: FrameType | None) -> Exception:
        actual = self._actual(b, instance, args, kwargs, frame)
        if self.footer is not None:
            return Divergence(report("extra", self.consumed + 1, self._path(self._keys.key), None,
                                     actual))
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
