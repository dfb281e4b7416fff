"""Turning a trace's bytes into data: plain values and codec placeholders, nothing else.

The decoding half of :mod:`retrace.codecs`, kept apart so that reading a
trace imports only cbor2: the first process of a replay reads the header
(for its hash seed) and starts itself again before anything else is loaded.
A value a codec registered stays a :class:`Pending` placeholder until replay
hands it to the program (:meth:`retrace.codecs.CodecRegistry.materialize`);
cbor2's own tags that would build objects are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2

CODEC_TAG = 46400
MAX_DEPTH = 96


class Pending:
    """A decoded codec value not yet turned into an object (immutable)."""

    __slots__ = ("name", "payload")
    name: str
    payload: Any

    def __init__(self, name: str, payload: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "payload", payload)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Pending is immutable (setting {key!r})")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Pending:
            return NotImplemented
        return self.name == other.name and self.payload == other.payload

    def __hash__(self) -> int:
        return hash((self.name, self.payload))

    def __repr__(self) -> str:
        return f"Pending(name={self.name!r}, payload={self.payload!r})"


def to_cbor(value: Any) -> Any:
    """Decoded data back into encodable form (``Pending`` -> its tag)."""
    kind = type(value)
    if kind is list:
        return [to_cbor(v) for v in value]
    if kind is dict:
        return {to_cbor(k): to_cbor(v) for k, v in value.items()}
    if kind is Pending:
        return cbor2.CBORTag(CODEC_TAG, [value.name, to_cbor(value.payload)])
    return value


def _tag_hook(tag: cbor2.CBORTag, immutable: bool = False) -> Any:
    if tag.tag != CODEC_TAG:
        raise cbor2.CBORDecodeError(f"unknown CBOR tag {tag.tag}")
    value = tag.value
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], str)):
        raise cbor2.CBORDecodeError("malformed codec value")
    return Pending(value[0], _thaw(value[1]))


def _thaw(value: Any) -> Any:
    kind = type(value)
    if kind is tuple or kind is list:
        return [_thaw(v) for v in value]
    if kind is dict or kind is cbor2.frozendict:
        return {k: _thaw(v) for k, v in value.items()}
    return value


def _refuse(tag: int) -> Callable[..., Any]:
    def refuse(*_args: Any) -> Any:
        raise cbor2.CBORDecodeError(f"CBOR tag {tag} is not allowed in a trace")

    return refuse


# cbor2 turns these tags into objects by itself; a trace never holds them.
_REFUSED_TAGS = (0, 1, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004)
_SEMANTIC = {tag: _refuse(tag) for tag in _REFUSED_TAGS}


def safe_loads(data: bytes) -> Any:
    """Decode ``data`` allowing only plain data and retrace's codec tag."""
    return cbor2.loads(
        data,
        tag_hook=_tag_hook,
        semantic_decoders=_SEMANTIC,
        max_depth=MAX_DEPTH + 8,
        str_errors="strict",
    )
