"""Post-import hooks: run a callable once a module's code has run, without wrapt.

Patches wait for the program to import their module (an adapter never imports
its library first). wrapt offers such hooks, but importing wrapt imports
asyncio, inspect and importlib.metadata: about 60 ms of start-up for a
program that uses none of them (docs/performance.md, "start-up").

:class:`_Finder` sits at the front of ``sys.meta_path``. Asked for a module
that has hooks, it asks the finders behind it for the spec and wraps the
spec's loader, so that the hooks run right after the module's code (and only
if that code ran to the end: a failed import runs no hook and raises as it
would have). A module imported before its hook is registered runs the hook at
once. Hooks stay registered until removed: a reload runs them again, on the
module as re-executed. Per import of a module without hooks the finder costs
one dictionary lookup.

Threads: a module being executed in one thread while another registers a hook
for it gets the hook run once, by the importing thread, when the code is
done; the lock only guards the bookkeeping, hooks run outside it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

Hook = Callable[[ModuleType], None]


class Registration:
    """One hook for one module; :func:`remove` takes it back."""

    __slots__ = ("hook", "name", "ran")

    def __init__(self, name: str, hook: Hook) -> None:
        self.name = name
        self.hook = hook
        # The execution of the module it last ran for (see _executions), or None.
        self.ran: int | None = None


_lock = threading.Lock()
_hooks: dict[str, list[Registration]] = {}
# How many times each hooked module's code has run to the end since we watched it.
_executions: dict[str, int] = {}
_loading: set[str] = set()


def register(name: str, hook: Hook) -> Registration:
    """Run ``hook(module)`` when module ``name`` has been imported (now, if it has)."""
    registration = Registration(name, hook)
    with _lock:
        _hooks.setdefault(name, []).append(registration)
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
        module = sys.modules.get(name)
        due = module is not None and name not in _loading
        if due:
            registration.ran = _executions.get(name, 0)
    if due:
        hook(module)  # type: ignore[arg-type]
    return registration


def remove(registration: Registration) -> None:
    """Forget ``registration``; the finder leaves ``sys.meta_path`` with the last hook."""
    with _lock:
        waiting = _hooks.get(registration.name, [])
        if registration in waiting:
            waiting.remove(registration)
        if not waiting:
            _hooks.pop(registration.name, None)
            _executions.pop(registration.name, None)
        if not _hooks and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)


def _executed(name: str, module: ModuleType) -> None:
    """``name``'s code ran to the end: run the hooks that have not run for this execution."""
    with _lock:
        _loading.discard(name)
        execution = _executions[name] = _executions.get(name, 0) + 1
        due = [r for r in _hooks.get(name, ()) if r.ran != execution]
        for registration in due:
            registration.ran = execution
    module = sys.modules.get(name, module)
    for registration in due:
        registration.hook(module)


class _HookLoader:
    """A module's own loader, followed by its hooks once its code has run."""

    def __init__(self, loader: Any, name: str) -> None:
        self.loader = loader
        self.name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its real loader (``inspect.getsource``, resources, reload).
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        with _lock:
            _loading.add(self.name)
        try:
            self.loader.exec_module(module)
        except BaseException:
            with _lock:
                _loading.discard(self.name)
            raise
        _executed(self.name, module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _Finder:
    """Finds nothing itself: wraps the loader other finders find for a hooked module."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname not in _hooks:
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _HookLoader(spec.loader, fullname)  # type: ignore[assignment]
        return spec


_FINDER = _Finder()
