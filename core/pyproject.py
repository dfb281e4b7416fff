"""The project's settings for retrace: the ``[tool.retrace]`` table of the nearest pyproject.toml.

One reader for every part of retrace that has settings (redaction, the
files adapter's globs), so they all find the same file, read it the same
way on every Python (``tomllib``, or ``tomli`` on 3.10, where the standard
library has no TOML reader), parse it once per recording, and refuse a
table they cannot use instead of quietly recording with defaults: a
misspelt key or a string where a list belongs would otherwise record what
the project asked to leave out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .errors import UsageError

# path -> ((mtime_ns, size), [tool.retrace] table): every reader at record start shares one parse.
_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def nearest(start: str | Path) -> Path | None:
    """The pyproject.toml in ``start`` or its nearest parent that has one."""
    here = Path(start)
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def retrace_settings(start: str | Path) -> tuple[Path | None, dict[str, Any]]:
    """``(file, its [tool.retrace] table)``; ``(None, {})`` when there is no pyproject.toml."""
    path = nearest(start)
    if path is None:
        return None, {}
    try:
        info = path.stat()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    stamp = (info.st_mtime_ns, info.st_size)
    known = _parsed.get(path)
    if known is not None and known[0] == stamp:
        return path, known[1]
    settings = _read(path)
    _parsed[path] = (stamp, settings)
    return path, settings


def checked_lists(path: Path, table: str, settings: Any, allowed: tuple[str, ...], guide: str,
                  tables: tuple[str, ...] = ()) -> dict[str, Any]:
    """``settings``, refused unless it is a table whose keys are ``allowed``, each a list of strings.

    Keys named in ``tables`` are sub-tables the caller checks itself.
    """
    def refuse(problem: str) -> UsageError:
        return UsageError(f"{path}: [{table}] {problem}; allowed keys: {', '.join(allowed)}, "
                          f"each a list of strings (see {guide})")

    if not isinstance(settings, dict):
        raise refuse("is not a table")
    for key, value in settings.items():
        if key not in allowed:
            raise refuse(f"has an unknown key {key!r}")
        if key in tables:
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise refuse(f"{key} must be a list of strings, not {value!r}")
    return settings


def _read(path: Path) -> dict[str, Any]:
    # The TOML reader is imported only when there is a file to read (a start-up ~1 ms).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same reader, from PyPI (a dependency on Python 3.10)
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    tool = data.get("tool", {})
    settings = tool.get("retrace", {}) if isinstance(tool, dict) else {}
    if not isinstance(settings, dict):
        raise UsageError(f"{path}: [tool.retrace] is not a table")
    return settings


def _unreadable(path: Path, exc: Exception) -> UsageError:
    return UsageError(f"{path} cannot be read as TOML ({exc}), so its [tool.retrace] "
                      "settings cannot be applied; fix the file and run again")
