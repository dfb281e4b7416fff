"""redis-py's fork checks read the real process id, unrecorded.

Pools and connections compare ``os.getpid()`` with the pid they were made in
to notice a fork. Those reads are bookkeeping, not values the program sees,
and many of them happen when a pool is closed, often from ``__del__`` when
garbage collection gets to a client: recorded, they would be events at
moments that differ between recording and replay (replay holds no
connections and frees objects at other times). So ``redis.connection`` gets
a view of the ``os`` module whose ``getpid`` is the real one.
"""

from __future__ import annotations

import os
import types
from typing import Any

from retrace import importhooks

MODULES = ("redis.connection", "redis.asyncio.connection")


def _unrecorded_getpid() -> Any:
    getpid = os.getpid
    return getattr(getpid, "__wrapped__", getpid)


class _OsView(types.ModuleType):
    """``os`` with everything forwarded except an unrecorded ``getpid``."""

    def __init__(self) -> None:
        super().__init__("os")
        self.getpid = _unrecorded_getpid()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


class PidView:
    """Installs the ``os`` view into redis-py's connection modules as they are imported."""

    def __init__(self) -> None:
        self._active = False
        self._patched: list[Any] = []
        self._hooks: list[importhooks.Registration] = []

    def install(self) -> None:
        self._active = True
        for name in MODULES:
            self._hooks.append(importhooks.register(name, self._apply))

    def _apply(self, module: Any) -> None:
        if self._active and getattr(module, "os", None) is os:
            module.os = _OsView()
            self._patched.append(module)

    def uninstall(self) -> None:
        self._active = False
        while self._hooks:
            importhooks.remove(self._hooks.pop())
        while self._patched:
            self._patched.pop().os = os
