"""Copying the program's own source files into ``run/`` as they were executed.

Replay runs from ``run/``, so editing the working tree after recording
changes nothing. The program's own files are those outside the standard
library, site-packages and retrace itself. Paths under the recorded working
directory keep their relative place; others go under ``run/_abs/``.
"""

from __future__ import annotations

import functools
import importlib.machinery
import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _system_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(v for k, v in sysconfig.get_paths().items() if k != "scripts")
    return tuple(str(Path(r).resolve()) + os.sep for r in roots if r)


_SYSTEM_ROOTS = _system_roots()
_getpid = os.getpid  # taken before any patch: naming our own files is not the program's work
ABS_DIR = "_abs"


_OWN = Path(__file__).resolve().parent.parent
_OWN_ROOTS = tuple(str(_OWN / d) + os.sep for d in ("core", "adapters", "plugins"))


@functools.lru_cache(maxsize=4096)
def _program_folder(folder: str) -> bool:
    real = os.path.realpath(folder) + os.sep
    if "site-packages" in real or "dist-packages" in real:
        return False
    return not real.startswith(_OWN_ROOTS) and not real.startswith(_SYSTEM_ROOTS)


def is_program_file(path: str) -> bool:
    """Whether ``path`` is part of the program rather than its environment."""
    if not path.endswith(".py"):
        return False
    # A module's file is absolute: its folder goes to the cache as it is (the cache
    # resolves it), without normalising every path first.
    return _program_folder(os.path.dirname(path if path.startswith(os.sep) else os.path.abspath(path)))


def relative_place(path: str, cwd: str) -> str:
    """Where ``path`` goes under ``run/``."""
    absolute = os.path.abspath(os.path.join(cwd, path))
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return os.path.join(ABS_DIR, absolute.lstrip(os.sep))


class Snapshot:
    """Copies program files once each; safe to call repeatedly."""

    def __init__(self, run_dir: Path, cwd: str) -> None:
        self.run_dir = run_dir
        self.cwd = cwd
        self._copied: set[str] = set()
        self._modules_seen = 0
        self._unwatch: Callable[[], None] | None = None

    def add(self, path: str) -> None:
        absolute = os.path.abspath(os.path.join(self.cwd, path))
        if absolute in self._copied:
            return
        self._copied.add(absolute)
        target = self.run_dir / relative_place(absolute, self.cwd)
        # Copied beside the target, then renamed over it: the processes of one
        # program share run/, and one killed while copying must not leave it torn.
        partial = target.with_name(f".{target.name}.{_getpid()}.partial")
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            import shutil  # replay, which copies nothing, does not import it

            shutil.copyfile(absolute, partial)
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except OSError:
            return

    def watch_imports(self) -> None:
        """Copy each program module when the import system loads its source.

        This catches what a scan of ``sys.modules`` at exit cannot: modules
        run as ``__main__`` by ``-m`` (gone from ``sys.modules`` afterwards)
        and anything imported by a process that is killed before it exits.
        """
        loader = importlib.machinery.SourceFileLoader
        original = loader.get_code
        snapshot = self

        def get_code(self: Any, fullname: str) -> Any:
            path = getattr(self, "path", None)
            if isinstance(path, str) and is_program_file(path):
                snapshot.add(path)
            return original(self, fullname)

        loader.get_code = get_code  # type: ignore[method-assign]
        self._unwatch = lambda: setattr(loader, "get_code", original)

    def unwatch_imports(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    def add_loaded_modules(self) -> None:
        """Copy every program module imported since the last call."""
        modules = list(sys.modules.values())
        if len(modules) == self._modules_seen:
            return
        self._modules_seen = len(modules)
        for module in modules:
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and is_program_file(path):
                self.add(path)
