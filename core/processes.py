"""Which process this is in a recording, and where each process's trace lives.

A recording holds one trace per recorded process. Processes are named by
where they sit in the spawn tree, never by an OS pid (pids differ on every
run): the program is ``0``; the n-th child a process starts (forked, spawned
by ``multiprocessing``, a Python ``subprocess``...) is that process's ID
followed by ``.n``, counting from 1 (``0.1``, ``0.2``, ``0.2.1``). IDs are
given out in the order the children are started while recording, and the
event that starts a child records the ID it got, so a replay never has to
count.

::

    DIR/trace.bin                  process 0, the program
    DIR/processes/0.2/trace.bin    its second child
    DIR/processes/0.2.1/trace.bin  that child's first child
    DIR/run/, DIR/blobs/           shared by every process

A child's header says who it is under ``process``: its ``id``, its
``parent``'s ID and how it ``start``-ed (``fork``, ``spawn``,
``forkserver``, ``exec``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UsageError

ROOT = "0"
FOLDER = "processes"
_ID = re.compile(r"0(\.[1-9][0-9]{0,8}){0,64}")


def valid(process: str) -> bool:
    """Whether ``process`` is a process ID (``0``, ``0.1``, ``0.2.1``)."""
    return type(process) is str and _ID.fullmatch(process) is not None


def checked(process: str) -> str:
    if not valid(process):
        raise UsageError(f"{process!r} is not a process ID (like 0, 0.1 or 0.2.1; "
                         "`retrace inspect DIR` lists them)")
    return process


def directory_of(recording: Path, process: str) -> Path:
    """The folder holding ``process``'s trace: the recording itself for the program."""
    if process == ROOT:
        return recording
    return recording / FOLDER / checked(process)


def parent_of(process: str) -> str | None:
    return process.rpartition(".")[0] or None


def describe(process: str, start: str) -> dict[str, Any]:
    """The ``process`` field of a child's header."""
    return {"id": process, "parent": parent_of(process), "start": start}


def of_header(header: dict[str, Any]) -> str:
    """The process ID a trace header names (``0`` when it names none)."""
    found = header.get("process")
    ident = found.get("id") if type(found) is dict else None
    return ident if isinstance(ident, str) and valid(ident) else ROOT


def recorded(recording: Path) -> list[str]:
    """Every child process with a trace in ``recording``, in spawn-tree order."""
    folder = recording / FOLDER
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if valid(p.name) and (p / "trace.bin").is_file()]
    return sorted(found, key=lambda p: [int(n) for n in p.split(".")])


class Identity:
    """This process's ID, and the IDs it gives the children it starts.

    ``collect()`` lets a caller that starts children inside one bigger call
    (a ``multiprocessing.Pool`` starting its workers) learn their IDs, to
    record them with the call. ``expect()`` does the reverse on replay:
    the children a replayed call starts for real take the recorded IDs.
    """

    def __init__(self) -> None:
        self.current = ROOT
        self._count = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def reset(self, process: str) -> None:
        """This process is now ``process`` and has started no child yet (a new child)."""
        self.current = process
        self._count = 0
        self._local = threading.local()

    def next_child(self) -> str:
        expected = getattr(self._local, "expected", None)
        if expected:
            child = expected.pop(0)
        else:
            with self._lock:
                self._count += 1
                child = f"{self.current}.{self._count}"
        collected = getattr(self._local, "collected", None)
        if collected is not None:
            collected.append(child)
        return child

    @contextmanager
    def collect(self) -> Iterator[list[str]]:
        """The IDs of the children this thread starts inside the block."""
        outer = getattr(self._local, "collected", None)
        ids: list[str] = []
        self._local.collected = ids
        try:
            yield ids
        finally:
            self._local.collected = outer
            if outer is not None:
                outer.extend(ids)

    @contextmanager
    def expect(self, ids: list[str]) -> Iterator[None]:
        """Children started by this thread inside the block take ``ids``, in order."""
        outer = getattr(self._local, "expected", None)
        self._local.expected = list(ids)
        try:
            yield
        finally:
            self._local.expected = outer


identity = Identity()


def header_of(recording: Path, process: str) -> dict[str, Any]:
    from . import layout, trace
    from .errors import BadRecording

    path = layout.trace_path(directory_of(recording, process))
    if not path.is_file():
        raise BadRecording(f"{recording}: no process {process} in this recording "
                           "(`retrace inspect` lists the processes it holds)")
    reader = trace.TraceReader(str(path))
    try:
        return reader.header
    finally:
        reader.close()


def replay_plan(recording: Path, process: str) -> tuple[str, list[str]]:
    """Where a replay of ``process`` starts, and the forks it then follows.

    A forked child has no first line of its own: its replay starts at the
    nearest ancestor that was started afresh (the program, or a spawned
    child) and follows each fork down to ``process``.
    """
    forks: list[str] = []
    current = checked(process)
    while current != ROOT:
        described = header_of(recording, current).get("process")
        start = described.get("start") if type(described) is dict else None
        if start == "forkserver":
            raise UsageError(
                f"process {current} is multiprocessing's fork server, and {process} runs in it "
                "or was forked by it: it cannot be replayed on its own (its parent's replay "
                "shows what it sent back)")
        if start != "fork":
            break
        forks.insert(0, current)
        current = parent_of(current) or ROOT
    return current, forks
