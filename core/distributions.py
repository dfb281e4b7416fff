"""Installed distributions' entry points and versions, read without ``importlib.metadata``.

A session needs the entry points of two groups, the name and version of
the distributions that provide them, and the versions of the libraries
adapters intercept. ``importlib.metadata`` answers all of it, but importing
it (with ``email``, ``zipfile``, ``csv``, ``socket``, ``tempfile``...) cost a
bare ``retrace record`` about a third of its start-up. The answers are
small text files in the ``*.dist-info`` and ``*.egg-info`` folders of the
``sys.path`` directories, which this module reads the way
``importlib.metadata``'s path finder does: the same folders, in the same
order, the first distribution of a name winning, ``entry_points.txt``
parsed by the same rules, ``Name`` and ``Version`` taken from the same
header lines.

Where the environment has anything else — a zip or egg on ``sys.path``, a
finder that provides distributions of its own, a file it cannot parse —
every answer comes from ``importlib.metadata`` as before.
tests/core/test_distributions.py checks both give the same answers.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_INFO = (".dist-info", ".egg-info")


def normalize(name: str) -> str:
    """A distribution name as ``importlib.metadata`` compares them (PEP 503, ``-`` as ``_``)."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


class Unusual(Exception):
    """The environment has something only ``importlib.metadata`` reads."""


class Distribution:
    """One ``*.dist-info`` or ``*.egg-info`` folder (or ``.egg-info`` file)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._headers: dict[str, str] | None = None

    def read_text(self, filename: str) -> str | None:
        try:
            with open(os.path.join(self.path, filename) if filename else self.path,
                      encoding="utf-8") as file:
                return file.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            return None

    def _header(self, key: str) -> str | None:
        if self._headers is None:
            text = self.read_text("METADATA") or self.read_text("PKG-INFO") or self.read_text("") or ""
            self._headers = _headers(text, ("name", "version"))
        return self._headers.get(key)

    @property
    def name(self) -> str | None:
        return self._header("name")

    @property
    def version(self) -> str | None:
        return self._header("version")

    def entry_points(self) -> list[EntryPoint]:
        found = []
        group = None
        for line in (self.read_text("entry_points.txt") or "").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                group = line.strip("[]")
                continue
            if group is None:
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise Unusual(f"{self.path}/entry_points.txt: {line!r} is not NAME = VALUE")
            found.append(EntryPoint(name.strip(), value.strip(), group, self))
        return found


def _headers(text: str, wanted: tuple[str, ...]) -> dict[str, str]:
    """The first of each ``wanted`` (lower-case) header of an email-style text, as ``email`` reads it.

    A value starts after the colon and its spaces, takes its continuation
    lines as they are, and loses its last line end; the headers end at the
    first line that is neither a header nor a continuation (a blank one).
    """
    found: dict[str, str] = {}
    current: tuple[str, list[str]] | None = None
    for line in text.splitlines(keepends=True):
        if line[:1] in (" ", "\t") and line.strip():
            if current is not None:
                current[1].append(line)
            continue
        if current is not None and current[0] in wanted:
            found.setdefault(current[0], "".join(current[1]).rstrip("\r\n"))
        name, sep, value = line.partition(":")
        if not sep or not all(33 <= ord(c) <= 126 for c in name):
            return found
        current = (name.lower(), [value.lstrip(" \t")]) if name else None
    if current is not None and current[0] in wanted:
        found.setdefault(current[0], "".join(current[1]).rstrip("\r\n"))
    return found


class EntryPoint:
    """``name = value`` in a ``[group]`` of a distribution's ``entry_points.txt``."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: Distribution) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self) -> Any:
        """The object named: ``module`` or ``module:attr.attr`` (extras in ``[...]`` ignored)."""
        import importlib

        reference = self.value.partition("[")[0].strip()
        module, _, attrs = reference.partition(":")
        found = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            found = getattr(found, attr)
        return found


def scan(path: list[Any]) -> dict[str, Distribution]:
    """Every distribution on ``path`` by normalised name, the first of a name winning, in order.

    Raises :class:`Unusual` where ``importlib.metadata`` would look further.
    """
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        raise Unusual("a finder on sys.meta_path provides distributions")
    found: dict[str, Distribution] = {}
    for entry in path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            raise Unusual(f"sys.path holds {entry!r}")
        try:
            children = os.listdir(entry or ".")
        except NotADirectoryError:
            raise Unusual(f"sys.path holds the file {entry!r}") from None
        except OSError:
            continue
        for child in children:
            low = child.lower()
            if low.endswith(_INFO):
                name = normalize(low.rpartition(".")[0].partition("-")[0])
                if name not in found:
                    found[name] = Distribution(os.path.join(entry, child))
    return found


class Installed:
    """The distributions on one ``sys.path``: entry points by group, versions by name."""

    def __init__(self, path: list[Any]) -> None:
        self._found: dict[str, Distribution] | None
        self._points: Any
        try:
            self._found = scan(path)
            self._points = [ep for dist in self._found.values() for ep in dist.entry_points()]
        except Unusual:
            import importlib.metadata

            self._found = None
            self._points = importlib.metadata.entry_points()

    def entry_points(self, group: str) -> list[Any]:
        """The entry points of ``group``, in the order ``importlib.metadata`` gives them."""
        if self._found is None:
            return list(self._points.select(group=group))
        return [ep for ep in self._points if ep.group == group]

    def version(self, name: str) -> str | None:
        """The installed version of distribution ``name``, or None if it is not installed."""
        if self._found is None:
            import importlib.metadata

            try:
                return importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                return None
        dist = self._found.get(normalize(name))
        return None if dist is None else dist.version


_installed: tuple[tuple[Any, ...], Installed] | None = None


def installed() -> Installed:
    """What ``sys.path`` holds now, read again only when ``sys.path`` or one of its folders changed.

    A session reads two groups and several versions; a test suite of scoped
    sessions, many more times.
    """
    global _installed
    key = tuple((entry, _mtime(entry)) for entry in sys.path)
    if _installed is None or _installed[0] != key:
        _installed = (key, Installed(list(sys.path)))
    return _installed[1]


def _mtime(entry: Any) -> int | None:
    try:
        return os.stat(entry or ".").st_mtime_ns
    except (OSError, TypeError, ValueError):
        return None
