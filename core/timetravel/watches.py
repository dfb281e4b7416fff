"""Watch expressions: ``continue`` stops where one changes, ``rcontinue`` finds where it last did.

A watch belongs to the frame it was set in, named the way positions are:
its thread, its depth in the program's frames and its code. It is
evaluated at every line of that frame (the value a line sees is what the
lines before it left), and compared by ``repr`` with the value seen at the
line before, so changes made in place, or by functions the frame calls,
count too.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

import attrs

CodeKey = tuple[str, int, str]


def code_key(code: CodeType) -> CodeKey:
    return (code.co_filename, code.co_firstlineno, code.co_name)


def value_of(expression: str, frame: FrameType) -> str:
    try:
        return repr(eval(expression, frame.f_globals, frame.f_locals))  # the user's own expression
    except Exception as exc:
        return f"<{type(exc).__name__}: {exc}>"


@attrs.define
class Watch:
    number: int
    expression: str
    thread: str
    depth: int
    code: CodeKey
    last: str | None = None


@attrs.define
class Watches:
    items: list[Watch] = attrs.field(factory=list)
    next_number: int = 1

    def covers(self, code: CodeType) -> bool:
        key = code_key(code)
        return any(w.code == key for w in self.items)

    def add(self, expression: str, thread: str, depth: int, frame: FrameType) -> Watch:
        watch = Watch(
            self.next_number, expression, thread, depth, code_key(frame.f_code), value_of(expression, frame)
        )
        self.next_number += 1
        self.items.append(watch)
        return watch

    def remove(self, number: int) -> bool:
        kept = [w for w in self.items if w.number != number]
        found = len(kept) != len(self.items)
        self.items = kept
        return found

    def check(self, thread: str, depth: int, frame: FrameType) -> list[tuple[Watch, str]]:
        """Evaluate the watches of this frame; those whose value changed, with the old value."""
        changed = []
        key = None
        for w in self.items:
            if w.thread != thread or w.depth != depth:
                continue
            key = key or code_key(frame.f_code)
            if w.code != key:
                continue
            old, w.last = w.last, value_of(w.expression, frame)
            if old is not None and old != w.last:
                changed.append((w, old))
        return changed

    def prime(
        self, thread: str, depth: int, frame: FrameType | None, program: Callable[[CodeType], bool]
    ) -> None:
        """After resuming a checkpoint: the values the watched frames on the stack hold now."""
        for w in self.items:
            w.last = None
            if w.thread != thread:
                continue
            f, d = frame, depth
            while f is not None and d >= w.depth:
                if program(f.f_code):
                    if d == w.depth and code_key(f.f_code) == w.code:
                        w.last = value_of(w.expression, f)
                    d -= 1
                f = f.f_back

    def export(self) -> dict[str, Any]:
        return {
            "next": self.next_number,
            "items": [
                {
                    "number": w.number,
                    "expression": w.expression,
                    "thread": w.thread,
                    "depth": w.depth,
                    "code": list(w.code),
                }
                for w in self.items
            ],
        }

    @classmethod
    def load(cls, state: dict[str, Any]) -> Watches:
        items = [
            Watch(
                int(w["number"]),
                str(w["expression"]),
                str(w["thread"]),
                int(w["depth"]),
                (str(w["code"][0]), int(w["code"][1]), str(w["code"][2])),
            )
            for w in state.get("items", [])
        ]
        return cls(items, int(state.get("next", 1)))
