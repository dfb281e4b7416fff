"""The read methods every recorded stream shares, for adapters to build on.

A stream whose reads are boundary calls (a device or FIFO the program
opened, a child's pipe) answers ``read``/``read1``/``readline``/``readlines``
through one ``_read(method, size)`` the adapter defines; this mixin spells
those four out once, so adapters (which must not import each other) share
them through the core.
"""

from __future__ import annotations

from typing import Any


class RecordedReads:
    """``read``, ``read1``, ``readline`` and ``readlines``, each one ``_read`` call."""

    def _read(self, method: str, size: Any) -> Any:
        raise NotImplementedError

    def read(self, size: int | None = -1) -> Any:
        return self._read("read", size)

    def read1(self, size: int = -1) -> Any:
        return self._read("read1", size)

    def readline(self, size: int | None = -1) -> Any:
        return self._read("readline", size)

    def readlines(self, hint: int | None = -1) -> list[Any]:
        lines: list[Any] = self._read("readlines", hint)
        return lines
