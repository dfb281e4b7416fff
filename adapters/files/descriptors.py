"""``os.open`` and the descriptor calls on what it opened: ``read``, ``write``, ``lseek``, ``fstat``.

``os.open`` of a data file (the same include/exclude rules as ``open()``) is
a boundary, and the descriptor it returns is remembered until ``os.close``.
On that descriptor ``os.read`` records the bytes it returned, chunk by
chunk; ``os.write`` records how many bytes it wrote (the data itself is
fingerprinted by a CRC); ``os.lseek`` and ``os.fstat`` record their answers.
On replay no data file is opened: the program gets a real descriptor of
the null device standing in for the file (so ``os.close`` and ``select``
on it work), every call above answers from the trace, and nothing is
written. Descriptors the program did not get from ``os.open`` of a data
file (pipes, sockets, retrace's own) are left alone at the cost of one
dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import Any

from retrace import runtime
from retrace.errors import BadRecording
from retrace.runtime import LOCAL

from . import state
from .boundaries import _boundary, stat_boundary
from .wrappers import _files, _served

OS_OPEN = _boundary("os.open")
OS_READ = _boundary("os.read", blocking=True)
OS_WRITE = _boundary("os.write")
OS_LSEEK = _boundary("os.lseek")
OS_FSTAT = stat_boundary("os.fstat")
_devnull = os.devnull
_real_open = os.open


def _ours(fd: Any) -> state.FilesState | None:
    files = state.current
    if files is None or type(fd) is not int or fd not in files.fds:
        return None
    return _files()


def open_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = _files()
    if files is None or kwargs.get("dir_fd") is not None or not args:
        return wrapped(*args, **kwargs)
    absolute = files.policy.boundary_path(args[0], sys._getframe(1))
    if absolute is None:
        return wrapped(*args, **kwargs)
    flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
    recorded = _served(files, OS_OPEN, lambda *_: wrapped(*args, **kwargs), absolute, flags)
    if type(recorded) is not int:
        raise BadRecording("an os.open event in the trace is not a descriptor")
    fd = recorded
    if runtime.active().name == "replay":
        with runtime.in_flight():
            fd = _real_open(_devnull, os.O_RDWR | os.O_CLOEXEC)
    files.fds[fd] = absolute
    return fd


def read_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    fd = args[0] if args else None
    files = _ours(fd)
    if files is None:
        return wrapped(*args, **kwargs)
    data = _served(files, OS_READ, lambda *_: wrapped(*args, **kwargs), files.fds[fd], *args[1:])
    if not isinstance(data, bytes):
        raise BadRecording("an os.read event in the trace is not bytes")
    return data


def write_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    fd = args[0] if args else None
    files = _ours(fd)
    if files is None or len(args) < 2:
        return wrapped(*args, **kwargs)
    view = memoryview(args[1])
    return _served(files, OS_WRITE, lambda *_: wrapped(*args, **kwargs), files.fds[fd],
                   zlib.crc32(view), view.nbytes)


def lseek_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    fd = args[0] if args else None
    files = _ours(fd)
    if files is None:
        return wrapped(*args, **kwargs)
    return _served(files, OS_LSEEK, lambda *_: wrapped(*args, **kwargs), files.fds[fd], *args[1:])


def fstat_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    fd = args[0] if args else kwargs.get("fd")
    files = _ours(fd)
    if files is None:
        return wrapped(*args, **kwargs)
    return _served(files, OS_FSTAT, lambda *_: wrapped(*args, **kwargs), files.fds[fd])


def close_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Forget a data file's descriptor; the real close (of the file, or its stand-in) happens."""
    files = state.current
    fd = args[0] if args else kwargs.get("fd")
    if files is not None and not LOCAL.busy and type(fd) is int:
        files.fds.pop(fd, None)
    return wrapped(*args, **kwargs)
