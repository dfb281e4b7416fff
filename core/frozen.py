"""Immutable records for the classes every session creates at start-up.

:class:`Boundary`, :class:`Patch`, codecs and adapter entries are values:
made once, never changed, compared (most of them) by their fields. They used
to be ``attrs`` classes, but importing ``attrs`` and building a class with it
cost every ``retrace record`` about 60 M and 3 M instructions respectively
(docs/performance.md, "start-up"), more than these few records are worth. A
subclass lists its fields in ``__slots__`` and sets them in ``__init__``
through :meth:`Frozen._set`. A :class:`Boundary` is compared by identity
(the C-level default, so looking one up on a hot path costs nothing extra);
the others are :class:`Value` records.
"""

from __future__ import annotations

from typing import Any, TypeVar

_F = TypeVar("_F", bound="Frozen")


class Frozen:
    """Slotted, immutable, with a readable ``repr``; compared and hashed by identity."""

    __slots__ = ()

    def _set(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable (make a new one with replace())")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _names(self) -> tuple[str, ...]:
        return type(self).__slots__

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def replace(self: _F, **changes: Any) -> _F:
        """A copy with ``changes`` applied (what ``attrs.evolve`` did)."""
        made = object.__new__(type(self))
        for name in self._names():
            object.__setattr__(made, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(changes))}")
        return made

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names())
        return f"{type(self).__name__}({fields})"



class Value(Frozen):
    """A :class:`Frozen` record equal to another of its class with equal fields."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self), *self._fields()))
