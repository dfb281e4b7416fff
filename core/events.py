"""Reading a recording's events with names resolved, for commands that look at them all.

:class:`TraceReader` hands out flat records with boundaries, call sites and
summaries as numbers defined earlier in the stream; :func:`read_events`
absorbs the definitions and yields one :class:`Event` per boundary call,
still one block at a time. The end of the trace (footer, stop marker or a
torn tail) is kept on the :class:`EventStream`. Progress goes to stderr when
it is a terminal, so a long ``retrace stats`` or ``diff`` is not silent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import cbor2

from . import layout, trace
from .codecs import to_cbor
from .progress import Progress, stderr_is_terminal


@attrs.frozen
class Event:
    """One recorded boundary call."""

    number: int
    thread: int
    boundary: str
    site: tuple[str, int]
    fingerprint: int | None
    summary: str | None
    raised: bool
    value: Any
    size: int
    #: Nanoseconds the real call took, when recorded with ``RETRACE_TIMINGS=1``.
    duration: int | None = None


class EventStream:
    """The events of one recording, read once, front to back."""

    def __init__(self, directory: Path, progress: str | None = None) -> None:
        self.directory = layout.locate(directory)
        self.path = layout.trace_path(self.directory)
        self.reader = trace.TraceReader(str(self.path))
        self.header = self.reader.header
        self.footer: dict[str, Any] | None = None
        self.stopped: str | None = None
        self._progress = (
            Progress(f"{progress} {self.directory.name}", self.reader.size)
            if progress and stderr_is_terminal() else None
        )

    def __iter__(self) -> Iterator[Event]:
        """Events in trace order; with timings, each once its ``TIMING`` record is read.

        A ``TIMING`` record follows its event, possibly after other threads'
        records, so events are held back (in order) until their duration is
        known: the thread's timing, or its next event, or the end.
        """
        timed = bool(self.header.get("timings"))
        held: deque[list[Any]] = deque()
        last: dict[int, list[Any]] = {}
        for entry in self._records():
            if entry[0] is None:  # a TIMING record: [None, thread, nanoseconds]
                owner = last.pop(entry[1], None)
                if owner is not None:
                    owner[0] = attrs.evolve(owner[0], duration=entry[2])
                    owner[1] = True
            else:
                previous = last.get(entry[0].thread)
                if previous is not None:
                    previous[1] = True
                entry[1] = not timed
                held.append(entry)
                if timed:
                    last[entry[0].thread] = entry
            while held and held[0][1]:
                yield held.popleft()[0]
        while held:
            yield held.popleft()[0]

    def _records(self) -> Iterator[list[Any]]:
        names: dict[int, str] = {}
        sites: dict[int, tuple[str, int]] = {}
        summaries: dict[int, str] = {}
        number = 0
        try:
            for offset, items in self.reader.blocks():
                if self._progress is not None:
                    self._progress.show(offset)
                for i in range(0, len(items), trace.RECORD_WIDTH):
                    thread, code, ident, fp, value = items[i : i + trace.RECORD_WIDTH]
                    if code == trace.TIMING:
                        yield [None, thread, ident]
                    elif code == trace.DEF_BOUNDARY:
                        names[ident] = value
                    elif code == trace.DEF_SITE:
                        sites[ident] = (value[0], value[1])
                    elif code == trace.DEF_SUMMARY:
                        summaries[ident] = value
                    elif code == trace.FOOTER:
                        self.footer = value
                    elif code == trace.STOPPED:
                        self.stopped = value
                    elif code >= 0:
                        number += 1
                        digest = trace.digest_of(fp)
                        summary = trace.summary_of(fp, summaries)
                        yield [Event(number, thread, names.get(code >> 1, f"<{code >> 1}>"),
                                     sites.get(ident, ("<unknown>", 0)), digest, summary,
                                     bool(code & 1), value,
                                     _size(items[i : i + trace.RECORD_WIDTH])), False]
        finally:
            if self._progress is not None:
                self._progress.done()
            self.reader.close()

    @property
    def state(self) -> str:
        """``complete``, ``incomplete`` or ``partial``: how the recording ended."""
        if self.footer is not None:
            return "complete" if self.footer.get("complete") else "incomplete"
        return "incomplete" if self.stopped is not None else "partial"


def _size(record: list[Any]) -> int:
    """Bytes the record takes in its block (before framing)."""
    try:
        return len(cbor2.dumps(to_cbor(record)))
    except Exception:
        return 0


def read_events(directory: Path, progress: str | None = None) -> EventStream:
    """The events of the recording in ``directory``; iterate the result once."""
    return EventStream(directory, progress)
