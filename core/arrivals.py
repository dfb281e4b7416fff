"""Running something just before a program first imports a library.

An adapter that declares ``imports`` (the library's top-level modules) is
installed only when the program imports one of them: its implementation
modules, its patches and its codecs cost nothing to a program that never
uses the library (see docs/performance.md, "start-up").

:class:`ImportWatch` is a finder at the front of ``sys.meta_path`` that never
finds anything: when asked for a watched module it runs the waiting
callbacks, then lets the import go on. It runs *before* the module's code,
so the post-import hooks the callback registers for the library's modules
apply exactly as when the adapter was installed at start. A module already
imported when it is watched runs its callbacks at once. Per import the cost
is one set lookup.

A callback may import the watched module itself (the asyncio adapter's
modules subclass asyncio's classes, so installing it imports asyncio). The
module is then complete when the callback returns, its patches are applied
to it at once and its re-exports swept (see :mod:`retrace.patching`), and
the import that was waiting is handed that module instead of running its
code a second time.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader


class _Waiting:
    """One callback waiting for any of several modules; it runs once."""

    __slots__ = ("callback", "done")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.done = False


class _Imported:
    """The loader of a module a callback has already imported: it hands back that module.

    The import system, given a spec for a module already in ``sys.modules``,
    loads from that module's own ``__spec__``, so the module carries this
    spec until it is "executed", which puts its own spec back.
    """

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.original = module.__spec__
        self.spec = ModuleSpec(module.__name__, cast("Loader", self))
        module.__spec__ = self.spec

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.original


class ImportWatch:
    """Runs callbacks before the first import of the modules they wait for."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[_Waiting]] = {}
        # Held while a callback runs: an import of another watched module in
        # another thread waits until the callback's hooks are in place.
        self._lock = threading.RLock()
        self._closed = False

    def watch(self, modules: Iterable[str], callback: Callable[[], None]) -> None:
        """Run ``callback`` once, before the first of ``modules`` is imported (now if one is)."""
        names = tuple(modules)
        waiting = _Waiting(callback)
        with self._lock:
            if any(name in sys.modules for name in names):
                self._run(waiting)
                return
            for name in names:
                self._waiting.setdefault(name, []).append(waiting)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname in self._waiting:
            with self._lock:
                for waiting in self._waiting.pop(fullname, ()):
                    self._run(waiting)
            module = sys.modules.get(fullname)
            if module is not None:  # a callback imported it: its code must not run twice
                return _Imported(module).spec
        return None

    def _run(self, waiting: _Waiting) -> None:
        if waiting.done or self._closed:
            return
        waiting.done = True
        waiting.callback()

    def close(self) -> None:
        """Forget every callback still waiting and leave ``sys.meta_path``. Safe to call twice."""
        with self._lock:
            self._closed = True
            self._waiting.clear()
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass

    def pending(self) -> set[str]:
        """The modules some callback still waits for."""
        return {name for name, waiting in self._waiting.items()
                if any(not w.done for w in waiting)}
