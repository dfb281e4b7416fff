"""The file objects a replayed ``open()`` returns.

They are the io stack's own classes, so ``type()``, ``isinstance``,
``read(n)``, ``readline``, iteration, ``seek``/``tell`` (text cookies
included), ``name``, ``mode``, ``encoding`` and ``with`` behave as they did:

- **read-only, large**: the real ``open()`` of the recorded content's blob
  (a real ``FileIO``, so even ``fileno()`` and ``mmap`` work), renamed to
  the recorded name;
- **read-only, small** (content carried in the trace): the same, on an
  anonymous in-memory file (``os.memfd_create``; :class:`MemoryRaw` where
  the OS has none);
- **writing** (``w``, ``a``, ``x``, ``+``): :class:`MemoryRaw`, an in-memory
  raw file under the usual ``BufferedWriter``/``BufferedRandom`` and
  ``TextIOWrapper``. Writes go nowhere on disk; a ``+`` mode starts from
  the recorded content, so the program reads back what it wrote.
"""

from __future__ import annotations

import io
import os
from typing import Any

_open = open


def raw_mode(mode: str) -> str:
    """The mode ``FileIO`` reports for an ``open()`` mode (``"a+"`` -> ``"ab+"``)."""
    plus = "+" in mode
    if "x" in mode:
        return "xb+" if plus else "xb"
    if "a" in mode:
        return "ab+" if plus else "ab"
    if plus:
        return "rb+"
    return "wb" if "w" in mode else "rb"


def writes(mode: str) -> bool:
    return any(c in mode for c in "wax+")


class MemoryRaw(io.RawIOBase):
    """A raw file held in memory; ``base`` counts bytes before it that were never read."""

    def __init__(self, name: Any, mode: str, content: bytes, base: int = 0) -> None:
        super().__init__()
        self.name = name
        self._mode = raw_mode(mode)
        self._data = bytearray(content)
        self._base = base
        self._pos = len(content) if "a" in mode else 0
        self._append = "a" in mode

    @property
    def mode(self) -> str:
        return self._mode

    def readable(self) -> bool:
        return self._mode.startswith("r") or "+" in self._mode

    def writable(self) -> bool:
        return not self._mode.startswith("r") or "+" in self._mode

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        if not self.readable():
            raise io.UnsupportedOperation("File not open for reading")
        view = memoryview(buffer).cast("B")
        chunk = self._data[self._pos:self._pos + len(view)]
        view[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def write(self, data: Any) -> int:
        self._checkClosed()
        if not self.writable():
            raise io.UnsupportedOperation("File not open for writing")
        view = memoryview(data).cast("B")
        if self._append:
            self._pos = len(self._data)
        end = self._pos + len(view)
        if self._pos > len(self._data):
            self._data.extend(bytes(self._pos - len(self._data)))
        self._data[self._pos:end] = view
        self._pos = end
        return len(view)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        if whence == io.SEEK_SET:
            position = offset - self._base
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = len(self._data) + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position + self._base < 0:
            raise OSError(22, "Invalid argument")
        self._pos = max(position, 0)
        return self._pos + self._base

    def tell(self) -> int:
        self._checkClosed()
        return self._pos + self._base

    def truncate(self, size: int | None = None) -> int:
        size = self.tell() if size is None else size
        del self._data[max(size - self._base, 0):]
        return size

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a replayed file written by the program has no descriptor")

    def isatty(self) -> bool:
        return False


def from_memory(content: bytes, name: Any, mode: str, options: dict[str, Any]) -> Any:
    """A read-only file object over ``content``: a real file in memory where the OS has them."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        return in_memory(content, 0, name, mode, options)
    fd = memfd_create("retrace-replay", getattr(os, "MFD_CLOEXEC", 0))
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return reopen(fd, name, mode, options)


def reopen(blob: str | int, name: Any, mode: str, options: dict[str, Any]) -> Any:
    """A read-only file object on ``blob`` (a path or a descriptor), looking like ``open(name, mode)``."""
    binary = "b" in mode
    handle: Any = _open(blob, "rb" if binary else "r", options.get("buffering", -1),
                   encoding=None if binary else options.get("encoding"),
                   errors=None if binary else options.get("errors"),
                   newline=None if binary else options.get("newline"))
    raw: Any = handle
    while hasattr(raw, "buffer") or hasattr(raw, "raw"):
        raw = getattr(raw, "buffer", None) or raw.raw
    raw.name = name
    if not binary:
        handle.mode = mode
    return handle


def in_memory(content: bytes, base: int, name: Any, mode: str, options: dict[str, Any]) -> Any:
    """A file object over memory (small contents, writing modes), looking like ``open(name, mode)``."""
    raw = MemoryRaw(name, mode, content, base)
    buffering = options.get("buffering", -1)
    if buffering == 0:
        return raw
    size = buffering if buffering > 1 else io.DEFAULT_BUFFER_SIZE
    buffered: Any
    if "+" in mode:
        buffered = io.BufferedRandom(raw, size)
    elif writes(mode):
        buffered = io.BufferedWriter(raw, size)
    else:
        buffered = io.BufferedReader(raw, size)
    if "b" in mode:
        return buffered
    text: Any = io.TextIOWrapper(buffered, encoding=options.get("encoding"), errors=options.get("errors"),
                            newline=options.get("newline"), line_buffering=buffering == 1)
    text.mode = mode
    return text
