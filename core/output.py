"""Output verification: what the program writes to stdout and stderr is checked on replay.

A replay can go wrong without asking for a different boundary: threads that
race on a list without a lock print a different result. So the digest of
every write to ``sys.stdout`` and ``sys.stderr`` is an event. The streams are
replaced for the session by proxies whose ``write`` is an *ordered*
boundary: its fingerprint is the CRC-32 of the text, and on replay the write
really happens, at its recorded turn. The first write whose text differs
stops the replay with an "output" divergence, before anything after it runs.

A traceback written in one piece (an uncaught exception, ``logging.exception``)
is compared by its program frames and messages only, see
:mod:`retrace.tracebacks`.

Only digests enter the trace, never the text. A secret an adapter redacted
reaches the replayed program as the placeholder, so a recorded write is
digested with the secrets it contains replaced the same way: a program that
prints a redacted value replays without a divergence. retrace's own messages are
written with ``runtime.LOCAL.busy`` set (or to ``sys.__stderr__``), so they
are never events. Bytes written to ``sys.stdout.buffer`` or to file
descriptor 1 directly are not verified.
"""

from __future__ import annotations

import _thread
import sys
import zlib
from typing import Any

from . import runtime
from .boundary import Boundary
from .redaction import RedactionRules
from .tracebacks import HEADER, program_view

STDOUT = Boundary("sys.stdout.write", ordered="before", mismatch="output")
STDERR = Boundary("sys.stderr.write", ordered="before", mismatch="output")
#: Whether the output is a terminal is a fact of the recorded run: a program that colours
#: its output only on a terminal, recorded in one and replayed through a pipe (or a
#: debugger's console), must take the recorded branch.
ISATTY = {STDOUT: Boundary("sys.stdout.isatty", library=("logging",)),
          STDERR: Boundary("sys.stderr.isatty", library=("logging",))}


class CheckedStream:
    """``sys.stdout``/``sys.stderr`` during a session: the same stream, writes verified."""

    def __init__(self, real: Any, boundary: Boundary, rules: RedactionRules | None) -> None:
        self._real = real
        self._boundary = boundary
        self._rules = rules
        self._guard = _thread.allocate_lock()

    def write(self, text: str) -> int:
        if runtime.LOCAL.busy:
            return int(self._real.write(text))
        fp = None
        if type(text) is str:
            rules = self._rules
            seen = text if rules is None or not rules.replaced else rules.as_replayed(text)
            if HEADER in seen:
                seen = program_view(seen)
            fp = zlib.crc32(seen.encode("utf-8", "surrogatepass"))
        written: int = runtime.ordered(self._boundary, fp, self._real.write, text,
                                       guard=self._guard)
        return written

    def isatty(self) -> bool:
        if runtime.LOCAL.busy:
            return bool(self._real.isatty())
        return bool(runtime.call(ISATTY[self._boundary], self._real.isatty))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __iter__(self) -> Any:
        return iter(self._real)


class OutputCheck:
    """Installs the checked streams for one session and puts the real ones back."""

    def __init__(self, rules: RedactionRules | None = None) -> None:
        self._saved: tuple[Any, Any] | None = None
        self._rules = rules

    def install(self) -> None:
        if self._saved is not None:
            return
        self._saved = (sys.stdout, sys.stderr)
        if sys.stdout is not None:
            sys.stdout = CheckedStream(sys.stdout, STDOUT, self._rules)
        if sys.stderr is not None:
            sys.stderr = CheckedStream(sys.stderr, STDERR, self._rules)

    def uninstall(self) -> None:
        if self._saved is None:
            return
        out, err = self._saved
        if isinstance(sys.stdout, CheckedStream):
            sys.stdout = out
        if isinstance(sys.stderr, CheckedStream):
            sys.stderr = err
        self._saved = None
