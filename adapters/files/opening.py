"""``open()`` as a boundary: what is recorded when a file is opened, and what replay hands back.

Recording opens the file for real first (so every error is the real one),
then, for modes that can read (``r``, ``+``), takes in the content (see
:mod:`.blobs`). The program gets the real file object. The event holds the
digest, the size, the encoding the real file chose and, the first time a
small content is met, the content itself; for ``a`` only the size
(appending never reads, and logs grow large).

Character devices, FIFOs and sockets are streams (see :mod:`.streams`).
"""

from __future__ import annotations

import codecs
import os
import stat
import threading
from typing import Any

from retrace.errors import BadRecording

from . import state
from .handles import from_memory, in_memory, reopen, writes
from .streams import StreamFile

_stat = os.stat
_OPEN_PARAMETERS = ("file", "mode", "buffering", "encoding", "errors", "newline", "closefd", "opener")


class Opened:
    """What the boundary returns: the file object and the recorded facts about it."""

    __slots__ = ("file", "info")

    def __init__(self, file: Any, info: dict[str, Any]) -> None:
        self.file = file
        self.info = info


def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``open()``'s arguments by name."""
    bound = dict(zip(_OPEN_PARAMETERS, args, strict=False))
    bound.update(kwargs)
    return bound


def options_of(bound: dict[str, Any]) -> dict[str, Any]:
    return {"buffering": bound.get("buffering", -1), "encoding": bound.get("encoding"),
            "errors": bound.get("errors"), "newline": bound.get("newline")}


def _is_stream(absolute: str) -> bool:
    try:
        mode = _stat(absolute).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def recorded_open(real_open: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  absolute: str, mode: str) -> Opened:
    """Open for real and capture what replay needs."""
    files = state.current
    assert files is not None
    bound = bind(args, kwargs)
    if _is_stream(absolute):
        real = real_open(*args, **kwargs)
        return Opened(StreamFile(real, getattr(real, "name", bound["file"]), mode), {"stream": True})
    before = 0
    if "a" in mode and "+" not in mode:
        try:
            before = _stat(absolute).st_size
        except OSError:
            before = 0
    real = real_open(*args, **kwargs)
    info: dict[str, Any] = {"encoding": getattr(real, "encoding", None), "size": before}
    if "r" in mode or ("+" in mode and "a" in mode):
        try:
            info["blob"], info["size"], content = files.blobs.store_file(absolute)
        except Exception as exc:  # recording must never break the program
            files.give_up(f"the content of {absolute} could not be stored ({exc!r})")
        else:
            key = (threading.get_ident(), info["blob"])
            if content is not None and key not in files.sent:
                files.sent.add(key)
                info["data"] = content
    return Opened(real, info)


def _content(files: state.FilesState, info: dict[str, Any]) -> bytes | None:
    """The recorded content if it travelled in the trace (now or at an earlier event)."""
    digest = str(info.get("blob"))
    data = info.get("data")
    if isinstance(data, bytes):
        files.contents[digest] = data
        return data
    return files.contents.get(digest)


def _check(info: Any, files: state.FilesState) -> None:
    """Refuse an ``open`` event that could not have been recorded (the trace is not trusted)."""
    problem = None
    if not isinstance(info, dict):
        problem = "is not a map"
    elif not isinstance(info.get("size", 0), int) or info.get("size", 0) < 0:
        problem = "has a bad size"
    elif not isinstance(info.get("data", b""), bytes):
        problem = "has content that is not bytes"
    elif info.get("encoding") is not None:
        try:
            codecs.lookup(info["encoding"])
        except (TypeError, LookupError):
            problem = f"names an unknown encoding {info['encoding']!r}"
    if problem is None and info.get("blob") is not None:
        files.blobs.path(info["blob"])  # raises BadRecording for anything but a digest
    if problem is not None:
        raise BadRecording(f"{files.blobs.root.parent}: an open event in the trace {problem}")


def replayed_open(info: Any, args: tuple[Any, ...]) -> Opened:
    """The file object replay hands back, built from the recorded facts."""
    files = state.current
    assert files is not None
    _absolute, mode, options, name = args
    _check(info, files)
    if info.get("stream"):
        return Opened(StreamFile(None, name, mode), info)
    if info.get("encoding") and "b" not in mode:
        options = dict(options, encoding=info["encoding"])
    blob = info.get("blob")
    content = _content(files, info)
    if not writes(mode):
        if content is not None:
            return Opened(from_memory(content, name, mode, options), info)
        return Opened(reopen(str(files.blobs.existing(blob)), name, mode, options), info)
    if blob is not None and content is None:
        with open(files.blobs.existing(blob), "rb") as handle:
            content = handle.read()
    base = info.get("size", 0) if blob is None and "a" in mode else 0
    return Opened(in_memory(content or b"", base, name, mode, options), info)
