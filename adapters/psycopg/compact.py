"""Round-trip outcomes and fingerprints as one JSON string: cheap to write, safe to read.

cbor2 6 spends about half a microsecond on every element of an array, and a
one-row result is some twenty elements; so is the core's walk that copies an
outcome into plain data. A string is one element for both. What a round trip
holds is ints, None, bytes and lists only (no text, no maps), so bytes travel
as latin-1 text (byte for byte; ``ensure_ascii=False`` keeps ASCII as is) and
every string read back is bytes again. Reading is ``json.loads``: it builds
plain data and nothing else, and a malformed value is reported as a bad
recording, never a traceback from here.
"""

from __future__ import annotations

import json
from typing import Any

from retrace.errors import BadRecording


def _bytes_as_text(value: Any) -> str:
    """Called by the (C) JSON encoder for what JSON lacks: bytes and buffers."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    raise TypeError(f"a psycopg round trip holds a {type(value).__name__}, "
                    "which retrace cannot record")


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False,
                          default=_bytes_as_text).encode


def dumps(value: Any) -> str:
    """Ints, None, bytes and (nested) lists as one string; the walk happens in C."""
    return _dumps(value)


def _from_json(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value.encode("latin-1")
    if kind is list:
        return [_from_json(v) for v in value]
    return value


def loads(text: Any) -> Any:
    """The value :func:`dumps` wrote; raises :class:`BadRecording` for anything else."""
    if type(text) is not str:
        raise BadRecording("a psycopg event in the recording is malformed (not a string)")
    try:
        return _from_json(json.loads(text))
    except (ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise BadRecording(f"a psycopg event in the recording is malformed ({exc})") from None
