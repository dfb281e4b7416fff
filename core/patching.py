"""Applying and removing patches: wrappers installed through post-import hooks.

A patch is one of the forms of :mod:`retrace.patchforms` (a plain function,
a method, a small callable object; wrapt only for rare targets), except for a
module's builtin function with a boundary (``time.time``), which gets a
:class:`~retrace.runtime.BuiltinPatch` (it binds as the builtin does: never).
The hooks are :mod:`retrace.importhooks`: neither imports wrapt at start-up.

Three details make patches hold everywhere a program can reach a target:

- **post-import hooks**: a patch waits until the program imports its module,
  so an adapter never imports its library first (and applies again if the
  program reloads the module);
- **the alias sweep**: ``from time import time`` and ``threading._time``
  copied the function before we patched it; after installing, every loaded
  module's namespace is searched once for the original and pointed at the
  wrapper (and restored on uninstall);
- **immutable builtin types**: ``datetime.datetime.now`` cannot be set with
  ``setattr``; the wrapper is written into the type's own dict and the type's
  method cache invalidated, so ``type(x) is datetime`` stays true for every
  datetime, including ones made by C code.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable
from types import BuiltinFunctionType, ModuleType
from typing import Any

from . import importhooks, patchforms
from .boundary import Patch
from .runtime import BuiltinPatch

Wrapper = Callable[[Any, Any, tuple[Any, ...], dict[str, Any]], Any]

# Modules whose references to originals are deliberate (ours and our dependencies).
_SWEEP_SKIP = ("retrace", "wrapt", "cbor2", "pluggy", "attrs", "attr", "_pytest", "pytest")
_MISSING = object()


def _type_dict(cls: type) -> dict[str, Any]:
    proxy_referents = gc.get_referents(cls.__dict__)
    return next(r for r in proxy_referents if isinstance(r, dict))


def _set_attribute(parent: Any, name: str, value: Any) -> None:
    try:
        setattr(parent, name, value)
    except TypeError:
        if not isinstance(parent, type):
            raise
        namespace = _type_dict(parent)
        if value is _MISSING:
            namespace.pop(name, None)
        else:
            namespace[name] = value
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(parent))


def _del_attribute(parent: Any, name: str) -> None:
    try:
        delattr(parent, name)
    except TypeError:
        _set_attribute(parent, name, _MISSING)


class Patcher:
    """Installs a set of patches and removes exactly what it installed.

    A target the imported module does not have (a library version the
    adapter does not know) is skipped and reported once through ``warn``:
    the program's ``import`` must not fail because of us.
    """

    def __init__(self, warn: Callable[[str], None] = lambda message: None) -> None:
        self._warn = warn
        self._undo: list[tuple[Any, str, Any]] = []
        # What each applied patch installed where: a reloaded module no longer holds it.
        self._patched: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._missing: set[tuple[str, str]] = set()
        self._hooks: list[importhooks.Registration] = []
        self._sweep_map: dict[int, tuple[Any, Any]] = {}
        self._active = False

    def install(self, patches: list[tuple[Patch, Wrapper]]) -> None:
        """Register every patch; those whose module is loaded apply at once."""
        self._active = True
        for patch, wrapper in patches:
            self._hooks.append(importhooks.register(patch.module, self._hook(patch, wrapper)))
        self._sweep()

    def _hook(self, patch: Patch, wrapper: Wrapper) -> Callable[[ModuleType], None]:
        def apply(module: ModuleType) -> None:
            if self._active:
                self._apply(module, patch, wrapper)

        return apply

    def _apply(self, module: ModuleType, patch: Patch, wrapper: Wrapper) -> None:
        key = (patch.module, patch.target)
        *path, name = patch.target.split(".")
        if key in self._missing or self._still_applied(key, module, path, name):
            return
        parent: Any = module
        try:
            for part in path:
                parent = getattr(parent, part)
            if isinstance(parent, type):
                own = parent.__dict__.get(name, _MISSING)
                original = own if own is not _MISSING else getattr(parent, name)
            else:
                own = original = getattr(parent, name)
        except AttributeError:
            self._missing.add(key)
            version = getattr(module, "__version__", None)
            self._warn(f"{patch.module}.{patch.target} does not exist in this "
                       f"{patch.module.split('.')[0]}"
                       + (f" ({version})" if isinstance(version, str) else "")
                       + "; its calls are not recorded (the adapter may not support this "
                       "version: `retrace adapters` lists the supported ones)")
            return
        wrapped: Any
        if (patch.wrapper is None and patch.boundary is not None and patch.boundary.ordered is None
                and type(original) is BuiltinFunctionType and isinstance(parent, ModuleType)):
            wrapped = BuiltinPatch(patch.boundary, original)
            wrapped.__retrace_patch__ = True
        else:
            wrapped = patchforms.make(parent, original, wrapper,
                                      patch.boundary if patch.wrapper is None else None)
        _set_attribute(parent, name, wrapped)
        self._undo.append((parent, name, own))
        self._patched[key] = (parent, wrapped)
        if not isinstance(parent, type) and not patchforms.is_patched(original):
            # Aliases of an already-patched function (psycopg.waiting's ``from time import
            # monotonic``) belong to that patch: only the first patch of an original sweeps.
            self._sweep_map.setdefault(id(original), (original, wrapped))

    def _still_applied(self, key: tuple[str, str], module: ModuleType, path: list[str],
                       name: str) -> bool:
        """Whether ``key``'s patch is in place (a reload re-runs the module's code, undoing it)."""
        applied = self._patched.get(key)
        if applied is None:
            return False
        parent: Any = module
        for part in path:
            parent = getattr(parent, part, None)
        own = parent.__dict__.get(name) if isinstance(parent, type) else getattr(parent, name, None)
        return parent is applied[0] and own is applied[1]

    def _sweep(self) -> None:
        """Point module-level aliases of patched functions at their wrappers."""
        targets = self._sweep_map
        if not targets:
            return
        for mod_name, module in list(sys.modules.items()):
            if mod_name.startswith(_SWEEP_SKIP) or module is None:
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            # Most modules hold no original: the test runs in C, the loop below only for a hit.
            if targets.keys().isdisjoint(map(id, list(namespace.values()))):
                continue
            for name, value in list(namespace.items()):
                found = targets.get(id(value))
                if found is not None and found[0] is value:
                    namespace[name] = found[1]
                    self._undo.append((module, name, value))
        self._sweep_map = {}

    def uninstall(self) -> None:
        """Restore every original, newest first. Safe to call twice."""
        self._active = False
        while self._hooks:
            importhooks.remove(self._hooks.pop())
        while self._undo:
            parent, name, original = self._undo.pop()
            if original is _MISSING:
                _del_attribute(parent, name)
            else:
                _set_attribute(parent, name, original)
        self._patched.clear()
