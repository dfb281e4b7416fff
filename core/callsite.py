"""Finding the call site of a boundary call: the first frame outside retrace and the library.

Frames are classified once per code object, so the walk costs a few
dictionary lookups per event.
"""

from __future__ import annotations

import os
from types import CodeType, FrameType

_OWN_PREFIXES = ("retrace.", "wrapt.", "runpy", "importlib.")
# retrace's own files, whatever their module name (``python -m retrace`` runs as __main__).
_HERE = os.path.dirname(os.path.abspath(__file__))
_OWN_DIRS = (
    _HERE + os.sep,
    *(os.path.join(os.path.dirname(_HERE), d) + os.sep for d in ("adapters", "plugins")),
)


class CallSites:
    """Maps frames to ``(file, line)`` call sites, skipping library frames."""

    def __init__(self) -> None:
        self._internal: dict[tuple[str, ...], dict[CodeType, bool]] = {}

    @staticmethod
    def internal(frame: FrameType, library: tuple[str, ...]) -> bool:
        """Whether ``frame`` is retrace's, an adapter's or the library's (not the call site)."""
        module = frame.f_globals.get("__name__") or ""
        return (
            module == "retrace"
            or module.startswith(_OWN_PREFIXES)
            or frame.f_code.co_filename.startswith(_OWN_DIRS)
            or any(module == p or module.startswith(p + ".") for p in library)
        )

    def first_outside(self, frame: FrameType | None, library: tuple[str, ...]) -> FrameType | None:
        """The first frame at or above ``frame`` that belongs to the program."""
        known = self._internal.get(library)
        if known is None:
            known = self._internal.setdefault(library, {})
        while frame is not None:
            internal = known.get(frame.f_code)
            if internal is None:
                internal = known[frame.f_code] = self.internal(frame, library)
            if not internal:
                return frame
            frame = frame.f_back
        return None

    @staticmethod
    def site_of(frame: FrameType | None) -> tuple[str, int]:
        if frame is None:
            return ("<unknown>", 0)
        return (frame.f_code.co_filename, frame.f_lineno)

    def find(self, frame: FrameType | None, library: tuple[str, ...]) -> tuple[str, int]:
        """The call site: file and line of the first program frame."""
        return self.site_of(self.first_outside(frame, library))
