"""The project's settings for retrace: the ``[tool.retrace]`` table of the nearest pyproject.toml.

One reader for every part of retrace that has settings (redaction, the
files adapter's globs), so they all find the same file, read it the same
way on every Python (``tomllib``, or ``tomli`` on 3.10, where the standard
library has no TOML reader) and refuse a file they cannot read instead of
quietly recording with defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .errors import UsageError


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
    # The TOML reader is imported only when there is a file to read (a start-up ~1 ms).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same reader, from PyPI (a dependency on Python 3.10)
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read as TOML ({exc}), so its [tool.retrace] "
                         "settings cannot be applied; fix the file and run again") from None
    tool = data.get("tool", {})
    settings = tool.get("retrace", {}) if isinstance(tool, dict) else {}
    if not isinstance(settings, dict):
        raise UsageError(f"{path}: [tool.retrace] is not a table")
    return path, settings
