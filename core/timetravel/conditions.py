"""Breakpoint conditions, compiled once.

bdb evaluates a condition by passing its text to ``eval``, which compiles
it at every hit: for a breakpoint in a loop that compile is most of what
continuing (or scanning backwards for ``rcontinue``) costs. :func:`effective`
is bdb's rule — the first enabled breakpoint of the line whose function
matches, counting hits and ignore counts the same way — with each condition
compiled once.
"""

from __future__ import annotations

import bdb
from types import CodeType, FrameType

_compiled: dict[str, CodeType | None] = {}


def _code(condition: str) -> CodeType | None:
    code = _compiled.get(condition, _compiled)
    if code is _compiled:
        try:
            code = compile(condition, "<breakpoint condition>", "eval")
        except SyntaxError:
            code = None
        _compiled[condition] = code
    return code  # type: ignore[return-value]


def line_of(breaks: dict[str, list[int]], filename: str, frame: FrameType) -> int | None:
    """The line whose breakpoints apply to ``frame``, as ``bdb.Bdb.break_here`` finds it."""
    lines = breaks.get(filename)
    if not lines:
        return None
    if frame.f_lineno in lines:
        return frame.f_lineno
    first = frame.f_code.co_firstlineno
    return first if first in lines else None


def effective(filename: str, line: int, frame: FrameType) -> tuple[bdb.Breakpoint | None, bool]:
    """``bdb.effective``, with conditions compiled once."""
    for b in bdb.Breakpoint.bplist.get((filename, line), ()):
        if not b.enabled or not bdb.checkfuncname(b, frame):
            continue
        b.hits += 1
        if not b.cond:
            if b.ignore > 0:
                b.ignore -= 1
                continue
            return b, True
        code = _code(b.cond)
        try:
            value = eval(code if code is not None else b.cond, frame.f_globals, frame.f_locals)
        except Exception:
            return b, False  # as bdb: stop, whatever the ignore count
        if value:
            if b.ignore > 0:
                b.ignore -= 1
            else:
                return b, True
    return None, False


def counts(filename: str, line: int) -> list[tuple[bdb.Breakpoint, int, int]]:
    """The hit and ignore counts of a line's breakpoints, to put back with :func:`restore`."""
    return [(b, b.hits, b.ignore) for b in bdb.Breakpoint.bplist.get((filename, line), ())]


def restore(saved: list[tuple[bdb.Breakpoint, int, int]]) -> None:
    for b, hits, ignore in saved:
        b.hits, b.ignore = hits, ignore
