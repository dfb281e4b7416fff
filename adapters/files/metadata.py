"""What the program sees of a directory and a file's metadata, as trace data.

``os.DirEntry`` cannot be built from Python, so ``os.scandir``
hands the program :class:`Entry` objects in both modes: name, path, inode
and the file-type answers are read eagerly (the kernel gives them with the
listing); ``stat()`` is a boundary of its own, asked only when called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from retrace.errors import BadRecording
from retrace.runtime import call

from .boundaries import DIRENTRY_STAT


def _describe(entry: os.DirEntry[Any]) -> list[Any]:
    def answer(question: Callable[..., bool], **kwargs: bool) -> bool | None:
        try:
            return question(**kwargs)
        except OSError:
            return None

    return [entry.name, entry.path, entry.inode(),
            answer(entry.is_dir), answer(entry.is_dir, follow_symlinks=False),
            answer(entry.is_file), answer(entry.is_file, follow_symlinks=False),
            answer(entry.is_symlink)]


def scan(scandir: Callable[..., Any], *args: Any) -> list[list[Any]]:
    """The real listing, as trace data."""
    with scandir(*args) as it:
        return [_describe(entry) for entry in it]


class Entry:
    """A directory entry the way ``os.DirEntry`` presents one."""

    __slots__ = ("_facts", "name", "path")

    def __init__(self, facts: list[Any]) -> None:
        self.name, self.path = facts[0], facts[1]
        self._facts = facts

    def __fspath__(self) -> Any:
        return self.path

    def __repr__(self) -> str:
        return f"<DirEntry {self.name!r}>"

    def inode(self) -> int:
        return int(self._facts[2])

    def _answer(self, index: int) -> bool:
        value = self._facts[index]
        return bool(value) if value is not None else False

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._answer(3 if follow_symlinks else 4)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._answer(5 if follow_symlinks else 6)

    def is_symlink(self) -> bool:
        return self._answer(7)

    def is_junction(self) -> bool:
        return False

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        result: os.stat_result = call(DIRENTRY_STAT, self._real_stat, self.path, follow_symlinks)
        return result

    def _real_stat(self, path: Any, follow_symlinks: bool) -> os.stat_result:
        return os.stat(path, follow_symlinks=follow_symlinks)


class Listing:
    """What ``os.scandir`` returns: an iterator that is also a context manager."""

    def __init__(self, entries: list[Entry]) -> None:
        self._entries: Iterator[Entry] = iter(entries)

    def __iter__(self) -> Listing:
        return self

    def __next__(self) -> Entry:
        return next(self._entries)

    def close(self) -> None:
        self._entries = iter(())

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def listing(facts: Any) -> Listing:
    """The listing of recorded entries; refuses facts a listing could not have produced."""
    if not isinstance(facts, list) or not all(
            isinstance(f, list) and len(f) == 8 and isinstance(f[0], (str, bytes)) for f in facts):
        raise BadRecording("a directory listing in the trace is malformed")
    return Listing([Entry(f) for f in facts])
