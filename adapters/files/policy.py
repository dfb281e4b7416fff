"""Which file accesses are boundaries: by path, by caller, and by the project's globs.

A path is data the program observes unless it is the program's environment
or retrace's own: the recording directory (trace, blobs, ``run/``), the
standard library and site-packages, retrace's sources, the program's own
``.py`` files that are loaded as modules (snapshotted in ``run/``; a ``.py``
file no module came from is data like any other: a line counter reads it, a
generator writes it), the devices whose content never
changes (``/dev/null``, ``/dev/zero``, ``/dev/full``) and the program's own
output (``/dev/stdout``, ``/dev/stderr``: replay must print it). Calls made by retrace
itself or by the import system are never boundaries, whatever the path; the
frame walk skips the stdlib modules that only carry a call on its way
(``os.path.exists`` -> ``os.stat``).

On replay the process runs in ``run/``; relative paths are resolved against
the recorded working directory instead, and paths inside ``run/`` (built from
``__file__``) are mapped back to where they were recorded, so a path means
the same file, and has the same fingerprint, in both modes.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from retrace import pyproject
from retrace.snapshot import _OWN_ROOTS, _SYSTEM_ROOTS, ABS_DIR, is_program_file

_getcwd = os.getcwd
#: Modules that only pass a call on: the frame that decides is the one above them
#: (``retrace.patchforms``: the frame a patch adds between a call and its wrapper).
CARRIERS = frozenset({
    "os", "posixpath", "ntpath", "genericpath", "pathlib", "pathlib._local", "pathlib._abc",
    "shutil", "glob", "fnmatch", "io", "_io", "codecs", "_pyio", "wrapt", "wrapt.wrappers",
    "retrace.adapters.files.tempnames", "retrace.patchforms",
})
#: Callers whose file accesses are never the program's input. ``tempfile`` makes and removes its
#: files for real in every mode: it keeps its own copy of ``os.unlink``, so half of its work would
#: otherwise be replayed and half done (it works in the temporary directory, never on a user's file).
INTERNAL = ("retrace", "importlib._bootstrap", "importlib.metadata", "_frozen_importlib", "zipimport",
            "linecache", "traceback", "tokenize", "site", "sysconfig", "pluggy", "cbor2", "_pytest",
            "pytest", "tempfile")
#: Devices whose content never changes, and the program's own output (replay must show it).
PASS_THROUGH = frozenset({"/dev/null", "/dev/zero", "/dev/full", "/dev/stdout", "/dev/stderr",
                          "/dev/fd/1", "/dev/fd/2", "/proc/self/fd/1", "/proc/self/fd/2"})
#: What :meth:`FilePolicy._decide` says of a program's ``.py`` file: code if a module was loaded
#: from it, else data.
_SOURCE = object()


def _matches(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def caller_module(frame: FrameType | None) -> str:
    """The module of the first non-carrier frame at or above ``frame`` (``""`` if none)."""
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module not in CARRIERS:
            return module
        frame = frame.f_back
    return ""


def is_internal(module: str) -> bool:
    """Whether the module named ``module`` is retrace, the import system or another caller
    whose file accesses are never the program's input (:data:`INTERNAL`)."""
    return module == "retrace" or module.startswith(INTERNAL)


def internal_caller(frame: FrameType | None) -> bool:
    """Whether the first non-carrier frame at or above ``frame`` is retrace or the import system."""
    return is_internal(caller_module(frame))


class FilePolicy:
    """Decides, per absolute path, whether an access is a boundary (cached)."""

    def __init__(self, recording: Path, include: Sequence[str] = (), exclude: Sequence[str] = (),
                 run_dir: str | None = None, recorded_cwd: str | None = None) -> None:
        self.recording = str(recording.resolve()) + os.sep
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._run_dir = run_dir.rstrip(os.sep) if run_dir else None
        self._recorded_cwd = recorded_cwd
        self._known: dict[str, bool] = {}
        self._modules_seen = -1
        self._sources: set[str] = set()

    @property
    def maps_run_dir(self) -> bool:
        """Whether this replay runs in ``run/`` and maps paths there back to recorded ones."""
        return self._run_dir is not None and self._recorded_cwd is not None

    def absolute(self, path: str) -> str:
        """``path`` made absolute, as it was when recorded."""
        absolute = os.path.normpath(os.path.join(_getcwd(), path))
        run_dir = self._run_dir
        if run_dir is None or self._recorded_cwd is None:
            return absolute
        if absolute == run_dir:
            return self._recorded_cwd
        if not absolute.startswith(run_dir + os.sep):
            return absolute
        rest = absolute[len(run_dir) + 1:]
        if rest.startswith(ABS_DIR + os.sep):
            return os.sep + rest[len(ABS_DIR) + 1:]
        return os.path.join(self._recorded_cwd, rest)

    def in_run_dir(self, recorded: str) -> str:
        """Where the recorded absolute path ``recorded`` lies under ``run/`` (the inverse of
        :meth:`absolute`); only for a replay that :attr:`maps_run_dir`."""
        assert self._run_dir is not None and self._recorded_cwd is not None
        cwd = self._recorded_cwd.rstrip(os.sep)
        if recorded == cwd:
            return self._run_dir
        if recorded.startswith(cwd + os.sep):
            return os.path.join(self._run_dir, recorded[len(cwd) + 1:])
        return os.path.join(self._run_dir, ABS_DIR, recorded.lstrip(os.sep))

    def is_boundary(self, absolute: str) -> bool:
        known = self._known.get(absolute)
        if known is None:
            known = self._decide(absolute)
            if known is _SOURCE:
                if absolute not in self._loaded_sources():
                    return True  # not remembered: the program may import it later
                known = False
            if len(self._known) < 65536:
                self._known[absolute] = known
        return known

    def _loaded_sources(self) -> set[str]:
        """The ``.py`` files modules were loaded from, as recorded paths.

        The same set at the same point of the program in both modes (module
        ``__file__`` names ``run/`` on replay and is mapped back), so a read
        of a source file is a boundary, or not, in both.
        """
        modules = sys.modules
        if len(modules) != self._modules_seen:
            self._modules_seen = len(modules)
            found = set()
            for module in list(modules.values()):
                file = getattr(module, "__dict__", {}).get("__file__")
                if isinstance(file, str) and file.endswith(".py"):
                    found.add(self.absolute(file))
            self._sources = found
        return self._sources

    def _decide(self, absolute: str) -> Any:
        folder = absolute + os.sep
        if folder.startswith(self.recording) or folder.startswith(_OWN_ROOTS):
            return False
        if self.include and not _matches(absolute, self.include):
            return False
        if _matches(absolute, self.exclude):
            return False
        if folder.startswith(_SYSTEM_ROOTS) or absolute in PASS_THROUGH:
            return False
        if absolute.endswith(".pyc"):
            return False
        return _SOURCE if is_program_file(absolute) else True

    def boundary_path(self, file: Any, frame: FrameType | None) -> str | None:
        """The absolute path if accessing ``file`` from ``frame`` is a boundary, else None."""
        if isinstance(file, int) or internal_caller(frame):
            return None
        try:
            path = os.fsdecode(os.fspath(file))
        except TypeError:
            return None
        absolute = self.absolute(path)
        return absolute if self.is_boundary(absolute) else None


def project_globs(start: str) -> tuple[list[str], list[str]]:
    """``include`` and ``exclude`` from ``[tool.retrace.files]`` in the nearest pyproject.toml.

    Relative patterns are anchored at the folder holding pyproject.toml. A table
    that would be silently ignored (a misspelt key, a string for a list) is
    refused: it would decide wrongly which reads are recorded.
    """
    path, settings = pyproject.retrace_settings(start)
    if path is None:
        return [], []
    table = pyproject.checked_lists(path, "tool.retrace.files", settings.get("files", {}),
                                    ("include", "exclude"), "docs/adapters/files.md")
    return (_anchored(table.get("include", []), path.parent),
            _anchored(table.get("exclude", []), path.parent))


def _anchored(patterns: list[str], folder: Path) -> list[str]:
    return [p if os.path.isabs(p) else str(folder / p) for p in patterns]
