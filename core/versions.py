"""Version ranges adapters declare (``">=3.1,<4"``), checked without extra dependencies.

Only the comparison operators adapters need are understood; anything else in
a range is an adapter bug and raises at once rather than passing silently.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([0-9][0-9A-Za-z.\-+]*)\s*$")
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}


def parse_version(text: str) -> tuple[int, ...]:
    """The numeric release part of a version string: ``"2.31.0.post1"`` -> ``(2, 31, 0)``."""
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(piece):
            break
    return tuple(parts)


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def in_range(version: str, spec: str) -> bool:
    """Whether ``version`` satisfies every comma-separated clause of ``spec``."""
    found = parse_version(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"unsupported version clause {clause!r} in {spec!r}")
        op, bound = match.groups()
        left, right = _padded(found, parse_version(bound))
        if not _OPS[op](left, right):
            return False
    return True
