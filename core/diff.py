"""``retrace diff A B``: the first event where two recordings of one program part ways.

Two runs of a program (one that passed, one that failed) always get
different answers from the clock; what matters is where the *program* did
something different: another boundary, another call site, other arguments,
an exception instead of a value, or another thread. That first difference
is the report, with both sides and the events just before it. Differences
in the answers alone (the outcome values) are counted on the way, per
boundary with the first of each shown, because an answer is usually what
sent the program down the other path (the clock always differs; an
environment variable or a database row that differs stands out);
``--values`` stops at the first differing answer instead.

Call sites are compared relative to each recording's working directory, so
two checkouts of the same program compare equal. Exit status: 0 when the
recordings match, 1 when they differ.
"""

from __future__ import annotations

import argparse
import os
from collections import deque
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path
from typing import Any

import attrs

from .codecs import to_cbor
from .events import Event, EventStream, read_events

NAME = "diff"
SHOWN = 100
ANSWER_LINES = 10


def _where(site: tuple[str, int], cwd: str) -> str:
    file, line = site
    prefix = cwd.rstrip(os.sep) + os.sep
    return f"{file[len(prefix):] if file.startswith(prefix) else file}:{line}"


def _path(event: Event, cwd: str) -> tuple[Any, ...]:
    return (event.thread, event.boundary, _where(event.site, cwd), event.fingerprint, event.raised)


def _answer(event: Event) -> str:
    text = repr(to_cbor(event.value))
    text = text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
    return f"raised {text}" if event.raised else text


def describe(event: Event | None, cwd: str, label: str) -> list[str]:
    """The lines that show one side of a difference."""
    if event is None:
        return [f"  {label}: (no more events)"]
    lines = [f"  {label}: event #{event.number}, thread {event.thread}",
             f"    boundary:  {event.boundary}"]
    if event.summary:
        lines.append(f"    arguments: {event.summary}")
    lines += [f"    call site: {_where(event.site, cwd)}", f"    answer:    {_answer(event)}"]
    return lines


@attrs.define
class Comparison:
    """What walking two recordings side by side found."""

    answers: dict[str, tuple[int, Event, Event]] = attrs.Factory(dict)
    answers_differing: int = 0
    difference: tuple[Event | None, Event | None] | None = None
    before: list[tuple[Event, Event]] = attrs.Factory(list)
    compared: int = 0


def compare(a: EventStream, b: EventStream, values: bool = False, context: int = 3) -> Comparison:
    """Walk both recordings until the first difference (of path, or of answer with ``values``)."""
    cwd_a, cwd_b = a.header.get("cwd", ""), b.header.get("cwd", "")
    found = Comparison()
    recent: deque[tuple[Event, Event]] = deque(maxlen=context)
    pairs: Iterator[tuple[Event | None, Event | None]] = zip_longest(a, b)
    for left, right in pairs:
        if left is None or right is None or _path(left, cwd_a) != _path(right, cwd_b):
            found.difference = (left, right)
            break
        if to_cbor(left.value) != to_cbor(right.value):
            found.answers_differing += 1
            count, first, other = found.answers.get(left.boundary, (0, left, right))
            found.answers[left.boundary] = (count + 1, first, other)
            if values:
                found.difference = (left, right)
                break
        found.compared += 1
        recent.append((left, right))
    found.before = list(recent)
    for _ in pairs:  # read both to the end: how each recording ended is part of the report
        pass
    return found


def report(a: EventStream, b: EventStream, found: Comparison) -> tuple[list[str], bool]:
    """The text of the report, and whether the recordings differ."""
    cwd_a, cwd_b = a.header.get("cwd", ""), b.header.get("cwd", "")
    lines = [f"A  {a.directory} ({a.state})", f"B  {b.directory} ({b.state})"]
    if (a.header.get("main"), a.header.get("argv")) != (b.header.get("main"), b.header.get("argv")):
        lines.append("note: the recordings ran different programs or arguments "
                     f"({a.header.get('argv')} and {b.header.get('argv')})")
    if found.answers:
        when = " before the first difference in what the program did" if found.difference else ""
        lines.append(f"{found.answers_differing} answer(s) from the outside world differed{when}:")
        for boundary, (count, first, other) in list(found.answers.items())[:ANSWER_LINES]:
            lines.append(f"    {boundary} x{count}, first at event #{first.number} "
                         f"({_where(first.site, cwd_a)}): A got {_answer(first)}, "
                         f"B got {_answer(other)}")
    if found.difference is not None:
        left, right = found.difference
        present = left or right
        number = present.number if present is not None else found.compared + 1
        lines.append(f"first difference at event #{number}:")
        for pair in found.before:
            lines.append(f"    same   #{pair[0].number} {pair[0].boundary} at "
                         f"{_where(pair[0].site, cwd_a)}")
        lines += describe(left, cwd_a, "A")
        lines += describe(right, cwd_b, "B")
        return lines, True
    exit_a = (a.footer or {}).get("exit_status")
    exit_b = (b.footer or {}).get("exit_status")
    if (a.state, exit_a) != (b.state, exit_b):
        lines.append(f"all {found.compared} events match; the runs ended differently: "
                     f"A {a.state} with exit status {exit_a}, B {b.state} with exit status {exit_b}")
        return lines, True
    same = "the same path" if found.answers_differing else "the same path and answers"
    lines.append(f"all {found.compared} events match ({same}); both ended {a.state} "
                 f"with exit status {exit_a}")
    return lines, bool(found.answers_differing)


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="the first event where two recordings differ")
    cmd.add_argument("a", metavar="A")
    cmd.add_argument("b", metavar="B")
    cmd.add_argument("--values", action="store_true",
                     help="stop at the first differing answer, not the first differing call")
    cmd.add_argument("--context", type=int, default=3, metavar="N",
                     help="matching events shown before the difference (default 3)")


def run(options: argparse.Namespace) -> int:
    a = read_events(Path(options.a), progress="diff")
    b = read_events(Path(options.b))
    found = compare(a, b, values=options.values, context=options.context)
    lines, differ = report(a, b, found)
    print("\n".join(lines))
    return 1 if differ else 0
