"""``os.open`` of a data file: a boundary, like ``open()``, whose descriptor replays in memory.

``os.open`` of a data file (the same include/exclude rules as ``open()``) records
what ``open()`` records: the content at that moment when the flags can read
it (the blob store's digest, the content itself in the trace when small),
else the size. On replay no data file is opened: the program gets a real
descriptor of an anonymous in-memory file holding that content, so
``os.read``, ``os.write``, ``os.lseek``, ``os.fdopen``/``open(fd)`` and
``os.close`` work on it for real and nothing reaches the disk. What is
read is then what was in the file when it was opened, as with ``open()``.
``os.fstat`` on such a descriptor is a boundary (the in-memory file's
metadata is not the file's). Descriptors the program did not get from
``os.open`` of a data file (pipes, sockets, retrace's own) are left alone.

Files ``tempfile`` makes (``mkstemp``, ``NamedTemporaryFile``) are left
alone, as everything ``tempfile`` does (see :mod:`.policy`).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from retrace import runtime
from retrace.errors import BadRecording

from . import state
from .boundaries import _boundary, stat_boundary
from .opening import _content
from .wrappers import _files, _served

OS_OPEN = _boundary("os.open")
OS_FSTAT = stat_boundary("os.fstat")


def _reads_content(flags: int) -> bool:
    return (flags & os.O_ACCMODE) != os.O_WRONLY and not flags & os.O_TRUNC


def _recorded(files: state.FilesState, wrapped: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
              absolute: str, flags: int) -> dict[str, Any]:
    fd = wrapped(*args, **kwargs)
    info: dict[str, Any] = {"fd": fd, "size": 0}
    try:
        if _reads_content(flags):
            info["blob"], info["size"], content = files.blobs.store_file(absolute)
            key = (threading.get_ident(), info["blob"])
            if content is not None and key not in files.sent:
                files.sent.add(key)
                info["data"] = content
        elif not flags & os.O_TRUNC:
            info["size"] = os.fstat(fd).st_size
    except Exception as exc:  # recording must never break the program
        files.give_up(f"the content of {absolute} could not be stored ({exc!r})")
    return info


def _stand_in(files: state.FilesState, info: Any, flags: int) -> int:
    """A real descriptor of an anonymous in-memory file with the recorded content."""
    if (type(info) is not dict or type(info.get("fd")) is not int
            or type(info.get("size", 0)) is not int or info.get("size", 0) < 0
            or not isinstance(info.get("data", b""), bytes)):
        raise BadRecording(f"{files.blobs.root.parent}: an os.open event in the trace is malformed")
    content = b""
    if info.get("blob") is not None:
        content = _content(files, info) or b""
        if not content and info.get("size"):
            with open(files.blobs.existing(info["blob"]), "rb") as handle:
                content = handle.read()
    with runtime.in_flight():
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("retrace-replayed-file", os.MFD_CLOEXEC)
        else:
            import tempfile  # only where memfd_create is missing: tempfile imports shutil, bz2, lzma

            with tempfile.TemporaryFile() as anonymous:
                fd = os.dup(anonymous.fileno())
        if content:
            os.write(fd, content)
        elif info.get("size"):
            os.ftruncate(fd, info["size"])
        os.lseek(fd, 0, os.SEEK_END if flags & os.O_APPEND else os.SEEK_SET)
    return fd


def open_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = _files()
    if files is None or kwargs.get("dir_fd") is not None or not args:
        return wrapped(*args, **kwargs)
    absolute = files.policy.boundary_path(args[0], sys._getframe(1))
    if absolute is None:
        return wrapped(*args, **kwargs)
    flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
    info = _served(files, OS_OPEN, lambda *_: _recorded(files, wrapped, args, kwargs, absolute, flags),
                   absolute, flags)
    fd = info["fd"] if runtime.active().name == "record" else _stand_in(files, info, flags)
    files.fds[fd] = absolute
    return fd


def fstat_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    fd = args[0] if args else kwargs.get("fd")
    files = state.current
    if files is None or type(fd) is not int or fd not in files.fds or _files() is None:
        return wrapped(*args, **kwargs)
    return _served(files, OS_FSTAT, lambda *_: wrapped(*args, **kwargs), files.fds[fd])


def close_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Forget a data file's descriptor; the real close (of the file, or its stand-in) happens."""
    files = state.current
    fd = args[0] if args else kwargs.get("fd")
    if files is not None and type(fd) is int:
        files.fds.pop(fd, None)
    return wrapped(*args, **kwargs)
