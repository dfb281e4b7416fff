"""Whether this retrace and this Python can replay a recording, from its header alone.

Kept apart from :mod:`retrace.session` so that the first process of a replay,
which only reads the header to learn the hash seed before starting itself
again, imports nothing heavy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from . import __version__, hashseed, trace
from .errors import BadRecording

_MAIN_FIELD = {"path": "path", "module": "name", "code": "code", "scope": "name"}


def _malformed_field(header: dict[str, Any]) -> str | None:
    """The first header field replay relies on whose shape is not the one recording gives it."""

    def strings(v: Any) -> bool:
        return type(v) is list and all(type(x) is str for x in v)

    main = header.get("main")
    kind = main.get("kind") if type(main) is dict else None
    checks = {
        "python": lambda v: type(v) is list and len(v) >= 2 and all(type(x) is int for x in v),
        "main": lambda v: type(kind) is str and type(v.get(_MAIN_FIELD.get(kind, ""))) is str,
        "argv": strings,
        "cwd": lambda v: type(v) is str,
        "sys_path": lambda v: v is None or strings(v),
        "hash_seed": lambda v: v is None or (type(v) is str and hashseed.valid(v)),
        "adapters": lambda v: v is None or (
            type(v) is list and all(type(a) is dict and type(a.get("name")) is str for a in v)
        ),
    }
    for field, ok in checks.items():
        if not ok(header.get(field)):
            return field
    return None


def check_compatible(header: dict[str, Any], path: Path) -> None:
    """Stop on a recording this retrace or this Python cannot replay faithfully."""
    if header.get("format") != trace.FORMAT_VERSION:
        raise BadRecording(
            f"{path}: trace format {header.get('format')} is not supported by retrace "
            f"{__version__} (format {trace.FORMAT_VERSION}); replay it with the retrace "
            f"version that recorded it ({header.get('retrace')})"
        )
    field = _malformed_field(header)
    if field is not None:
        raise BadRecording(f"{path}: the header at byte 3 is malformed (its {field!r} field)")
    recorded = tuple(header.get("python", ()))[:2]
    if recorded != tuple(sys.version_info[:2]):
        raise BadRecording(
            f"{path}: recorded with Python {'.'.join(map(str, recorded))}, this is Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}; replay with the same minor version"
        )
