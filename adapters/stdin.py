"""Standard input: ``sys.stdin`` reads and ``input()``.

``sys.stdin`` is replaced for the session by a text stream whose reads are
boundaries; ``input()`` is one boundary of its own (it may read the terminal
directly, below ``sys.stdin``) and on replay writes its prompt just as the
real one does. ``sys.stdin.buffer`` (binary reads) is not intercepted.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.runtime import call

LIBRARY = ("fileinput", "getpass", "code", "pdb", "cmd")


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [a if isinstance(a, (int, type(None))) else repr(a) for a in args]


def _prompt(instance: Any, args: Args, kwargs: Kwargs) -> None:
    if args:
        sys.stdout.write(str(args[0]))
        sys.stdout.flush()


READ = Boundary("sys.stdin.read", fingerprint=_arguments, blocking=True, library=LIBRARY)
READLINE = Boundary("sys.stdin.readline", fingerprint=_arguments, blocking=True, library=LIBRARY)
READLINES = Boundary("sys.stdin.readlines", fingerprint=_arguments, blocking=True, library=LIBRARY)
ISATTY = Boundary("sys.stdin.isatty", library=LIBRARY)
INPUT = Boundary("input", blocking=True, on_replay=_prompt, library=LIBRARY)


class BoundaryStdin(io.TextIOBase):
    """``sys.stdin`` during a session: the same text, read through boundaries."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def read(self, size: int | None = -1) -> str:
        text: str = call(READ, self._real.read, size)
        return text

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        line: str = call(READLINE, self._real.readline, size)
        return line

    def readlines(self, hint: int | None = -1) -> list[str]:  # type: ignore[override]
        lines: list[str] = call(READLINES, self._real.readlines, hint)
        return lines

    def __iter__(self) -> BoundaryStdin:  # type: ignore[override]
        return self

    def __next__(self) -> str:  # type: ignore[override]
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def isatty(self) -> bool:
        tty: bool = call(ISATTY, self._real.isatty)
        return tty

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        number: int = self._real.fileno()
        return number

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    @property
    def buffer(self) -> Any:
        return self._real.buffer


class StdinAdapter(Adapter):
    name = "stdin"
    modules = LIBRARY

    def __init__(self) -> None:
        self._saved: Any = None

    def patches(self) -> list[Patch]:
        return [Patch("builtins", "input", INPUT)]

    def start(self, session: Any) -> None:
        if sys.stdin is not None:
            self._saved = sys.stdin
            sys.stdin = BoundaryStdin(sys.stdin)

    def stop(self, session: Any) -> None:
        if self._saved is not None:
            sys.stdin = self._saved
            self._saved = None


adapter = StdinAdapter()
