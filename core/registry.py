"""Finding adapters and plugins: one pluggy manager, two entry-point groups.

Adapters (``retrace.adapters``) and lifecycle plugins (``retrace.plugins``)
are found the same way for first-party and third-party code; the entry
point's distribution is kept so a trace header can name it. Selection by
``RETRACE_ADAPTERS`` / ``RETRACE_DISABLE_ADAPTERS`` happens here, and so does
the version check: an adapter whose library is installed outside its
supported range is an error, never a silent skip.
"""

from __future__ import annotations

import os
from typing import Any

import pluggy

from . import distributions, hookspecs
from .boundary import Adapter
from .errors import UnsupportedLibrary, UsageError
from .frozen import Value
from .versions import in_range

ADAPTER_GROUP = "retrace.adapters"
PLUGIN_GROUP = "retrace.plugins"


class AdapterEntry(Value):
    """An adapter as found: the object, where it came from, and its library's state."""

    __slots__ = ("adapter", "library_version", "name", "provided_by")

    name: str
    adapter: Adapter
    provided_by: str
    library_version: str | None

    def __init__(self, name: str, adapter: Adapter, provided_by: str,
                 library_version: str | None) -> None:
        self._set(name=name, adapter=adapter, provided_by=provided_by,
                  library_version=library_version)

    @property
    def status(self) -> str:
        """``ok``, ``not installed`` or ``unsupported``."""
        dist = self.adapter.distribution
        if dist is None:
            return "ok"
        if self.library_version is None:
            return "not installed"
        if self.adapter.supported and not in_range(self.library_version, self.adapter.supported):
            return "unsupported"
        return "ok"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.adapter.distribution,
            "version": self.library_version,
            "supported": self.adapter.supported,
            "provided_by": self.provided_by,
            "events": self.adapter.events,
        }


def plugin_manager() -> pluggy.PluginManager:
    """A manager with our hookspecs and every installed lifecycle plugin."""
    pm = pluggy.PluginManager("retrace")
    pm.add_hookspecs(hookspecs)
    for ep in distributions.installed().entry_points(PLUGIN_GROUP):
        if pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)
    pm.check_pending()
    return pm


def _names(variable: str) -> set[str] | None:
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def discover_adapters() -> list[AdapterEntry]:
    """Every installed adapter, loaded, in entry-point name order."""
    found = []
    seen = set()
    providers: dict[int, str] = {}  # reading a distribution's name and version parses its METADATA
    installed = distributions.installed()
    for ep in sorted(installed.entry_points(ADAPTER_GROUP), key=lambda e: e.name):
        if ep.name in seen:
            continue
        seen.add(ep.name)
        adapter = ep.load()
        provided_by = _provider(ep.dist, providers)
        version = None if adapter.distribution is None else installed.version(adapter.distribution)
        found.append(AdapterEntry(ep.name, adapter, provided_by, version))
    return found


def _provider(dist: Any, known: dict[int, str]) -> str:
    """``"name version"`` of the distribution an entry point comes from, read once per distribution."""
    if dist is None:
        return "?"
    if id(dist) not in known:  # the entry points being read hold their distributions alive
        known[id(dist)] = f"{dist.name} {dist.version}"
    return known[id(dist)]


def select_adapters(
    entries: list[AdapterEntry], only: set[str] | None = None
) -> list[AdapterEntry]:
    """The adapters a session installs, after the environment's selection.

    ``only`` (a replay's recorded list) overrides ``RETRACE_ADAPTERS``. Raises
    for unknown names and for libraries outside an adapter's range.
    """
    by_name = {e.name: e for e in entries}
    wanted = only if only is not None else _names("RETRACE_ADAPTERS")
    disabled = _names("RETRACE_DISABLE_ADAPTERS") or set()
    unknown = ((wanted or set()) | disabled) - set(by_name)
    if unknown:
        raise UsageError(
            f"unknown adapter(s): {', '.join(sorted(unknown))}; installed: "
            f"{', '.join(sorted(by_name))} (see `retrace adapters`)"
        )
    chosen = [e for e in entries if (wanted is None or e.name in wanted) and e.name not in disabled]
    for entry in chosen:
        if entry.status == "unsupported":
            raise UnsupportedLibrary(
                f"adapter {entry.name!r} supports {entry.adapter.distribution} "
                f"{entry.adapter.supported}, but {entry.library_version} is installed. Install a "
                f"supported version, or leave the adapter out with "
                f"RETRACE_DISABLE_ADAPTERS={entry.name} (its calls will then not be recorded)."
            )
    return [e for e in chosen if e.status == "ok"]


def register_adapters(pm: pluggy.PluginManager, entries: list[AdapterEntry]) -> None:
    """Let adapters implement hooks too."""
    for entry in entries:
        if _implements_hooks(entry.adapter) and pm.get_plugin(f"adapter:{entry.name}") is None:
            pm.register(entry.adapter, name=f"adapter:{entry.name}")


def _implements_hooks(adapter: Adapter) -> bool:
    """Whether any attribute carries ``hookimpl``'s mark (what ``pm.register`` looks for).

    Most adapters implement no hook; pluggy's own inspection of every
    attribute costs a start-up about 4 ms for the first-party adapters.
    """
    marker = f"{hookspecs.hookimpl.project_name}_impl"
    for name in dir(adapter):
        try:
            if hasattr(getattr(adapter, name), marker):
                return True
        except Exception:  # a property that fails: pluggy would skip it too
            continue
    return False
