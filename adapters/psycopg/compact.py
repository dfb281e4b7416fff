"""Round-trip outcomes and fingerprints as one JSON string: cheap to write, safe to read.

cbor2 6 spends about half a microsecond on every element of an array, and a
one-row result is some twenty elements; so is the core's walk that copies an
outcome into plain data. A string is one element for both. What a round trip
holds is ints, None, bytes and lists only (no text, no maps), so bytes travel
as latin-1 text (byte for byte; ``ensure_ascii=False`` keeps ASCII as is).

Reading is the C scanner of the standard ``json`` module: it builds plain
data and nothing else, and a malformed value is reported as a bad recording,
never a traceback from here. The strings it gives back are *not* turned into
bytes here: a replayed result turns a cell into bytes when psycopg asks for
it (:func:`as_bytes`, ``OfflinePGresult``), so a query costs no walk over its
outcome. Both directions run once per query, so the encoder and the scanner
are made once (``json.dumps`` builds a new encoder on every call).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.decoder import JSONDecoder
from typing import Any

from retrace.errors import BadRecording

# Not in typeshed: None in an interpreter built without the _json accelerator.
c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)


def _bytes_as_text(value: Any) -> str:
    """Called by the (C) JSON encoder for what JSON lacks: bytes and buffers."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    raise TypeError(f"a psycopg round trip holds a {type(value).__name__}, "
                    "which retrace cannot record")


def _encoder() -> Callable[[Any], str]:
    if c_make_encoder is not None:
        # What JSONEncoder.encode does for a non-str value, without building the encoder
        # each time: markers None (no circular check), no indent, compact separators.
        encode = c_make_encoder(None, _bytes_as_text, json.encoder.encode_basestring, None,
                                ":", ",", False, False, True)
        return lambda value: "".join(encode(value, 0))
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False,
                            default=_bytes_as_text).encode


dumps: Callable[[Any], str] = _encoder()
"""Ints, None, bytes and (nested) lists as one string; the walk happens in C."""


def _argument_as_text(value: Any) -> str:
    """Called by the (C) JSON encoder for a send's argument JSON lacks: buffers as latin-1
    text, anything else (no psycopg send passes one) by its ``repr``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    return repr(value)


def _sorted_encoder() -> Callable[[Any], str]:
    if c_make_encoder is not None:
        encode = c_make_encoder(None, _argument_as_text, json.encoder.encode_basestring, None,
                                ":", ",", True, False, True)
        return lambda value: "".join(encode(value, 0))
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False,
                            sort_keys=True, default=_argument_as_text).encode


send_text: Callable[[Any], str] = _sorted_encoder()
"""A send's method and arguments as one string, keywords sorted: only for digests, never
read back. Ints (``psycopg.pq.Format`` members included) are their value, buffers text."""

_scan: Callable[[str, int], tuple[Any, int]] = JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(text: Any) -> Any:
    """The value :func:`dumps` wrote, bytes still as text; :class:`BadRecording` for anything else.

    Only text :func:`dumps` can have written passes: JSON and nothing after it,
    no character above U+00FF (each stands for one byte).
    """
    if type(text) is not str:
        raise BadRecording("a psycopg event in the recording is malformed (not a string)")
    try:
        if not text.isascii():  # no copy of the text for the common, ASCII one
            text.encode("latin-1")
        value, end = _scan(text, 0)
    except StopIteration:
        raise BadRecording("a psycopg event in the recording is malformed (not JSON)") from None
    except (ValueError, RecursionError) as exc:
        raise BadRecording(f"a psycopg event in the recording is malformed ({exc})") from None
    if end != len(text):
        raise BadRecording("a psycopg event in the recording is malformed "
                           f"(unexpected data at character {end})")
    return value


def as_bytes(value: Any) -> Any:
    """A value :func:`loads` read with its text turned back into bytes, lists walked."""
    kind = type(value)
    if kind is str:
        return value.encode("latin-1")
    if kind is list:
        return [as_bytes(v) for v in value]
    return value
