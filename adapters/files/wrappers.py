"""The wrappers that turn file calls into boundary calls, or let them through.

Each wrapper asks the same three questions before anything else: is a
session recording or replaying, is a boundary call already in flight on this
thread, and is this path (from this caller) the program's data (see
:mod:`.policy`)? Only then does the call go to the boundary, with its paths
made absolute.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from retrace import runtime
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call

from . import state
from .boundaries import GLOB, OPEN, SCANDIR, TOUCH
from .metadata import listing, scan
from .opening import bind, options_of, recorded_open

Wrapper = Callable[[Any, Any, tuple[Any, ...], dict[str, Any]], Any]
_MAGIC = "*?["


def _files() -> state.FilesState | None:
    files = state.current
    if files is None or LOCAL.busy or runtime.active().name == "passthrough":
        return None
    return files


def _served(files: state.FilesState, boundary: Any, function: Any, *args: Any,
            convert: Callable[[Any], Any] | None = None) -> Any:
    """``call`` (then ``convert``) that turns a broken recording into the replay's stop,
    not the program's exception."""
    try:
        result = call(boundary, function, *args)
        return convert(result) if convert is not None else result
    except BadRecording as exc:
        cursor = getattr(files.session, "cursor", None)
        if cursor is not None:
            cursor.on_divergence(exc)
        raise


def open_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = _files()
    if files is None:
        return wrapped(*args, **kwargs)
    bound = bind(args, kwargs)
    if bound.get("opener") is not None or "file" not in bound:
        return wrapped(*args, **kwargs)
    absolute = files.policy.boundary_path(bound["file"], sys._getframe(1))
    if absolute is None:
        return wrapped(*args, **kwargs)
    mode = str(bound.get("mode", "r"))
    name = os.fspath(bound["file"])

    def really(*_: Any) -> Any:
        return recorded_open(wrapped, args, kwargs, absolute, mode)

    return _served(files, OPEN, really, absolute, mode, options_of(bound), name).file


def paths_wrapper(boundary: Any, count: int, default: str | None = None,
                  options: tuple[str, ...] = ()) -> Wrapper:
    """A wrapper for a call whose first ``count`` arguments are paths.

    ``options`` names the arguments after the paths that change the outcome
    (``os.access``'s ``mode``): they join the fingerprint.
    """
    names = ("src", "dst") if count == 2 else ("path",)

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        files = _files()
        if files is None or any(kwargs.get(k) is not None for k in ("dir_fd", "src_dir_fd",
                                                                    "dst_dir_fd")):
            return wrapped(*args, **kwargs)
        given = list(args[:count])
        for name in names[len(given):]:
            if name in kwargs:
                given.append(kwargs[name])
        if not given and default is not None:
            given = [default]
        if not given:
            return wrapped(*args, **kwargs)
        frame = sys._getframe(1)
        first = files.policy.boundary_path(given[0], frame)
        if first is None:
            return wrapped(*args, **kwargs)
        rest = [files.policy.absolute(os.fsdecode(os.fspath(p))) if not isinstance(p, int) else p
                for p in given[1:]]
        flags = [kwargs.get("follow_symlinks", True)]
        flags += [args[i] if i < len(args) else kwargs.get(name)
                  for i, name in enumerate(options, start=count)]
        result = _served(files, boundary, lambda *_: _plain(wrapped(*args, **kwargs)),
                         first, *rest, *flags)
        return _typed(result, given[-1])

    return wrapper


def _plain(result: Any) -> Any:
    """Paths that shutil returns travel as strings, tagged so replay returns the same type."""
    if isinstance(result, os.PathLike):
        return ["path", os.fspath(result)]
    return result


def _typed(result: Any, like: Any) -> Any:
    if isinstance(result, list) and len(result) == 2 and result[0] == "path":
        return type(like)(result[1]) if isinstance(like, PurePath) else result[1]
    return result


def scandir_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = _files()
    given = args[0] if args else kwargs.get("path", ".")
    if files is None:
        return wrapped(*args, **kwargs)
    absolute = files.policy.boundary_path(given, sys._getframe(1))
    if absolute is None:
        return wrapped(*args, **kwargs)
    return _served(files, SCANDIR, lambda *_: scan(wrapped, *args, **kwargs), absolute,
                   convert=listing)


def _glob_base(pattern: str) -> str:
    cut = min((pattern.find(c) for c in _MAGIC if c in pattern), default=len(pattern))
    head = pattern[:cut]
    return head if cut == len(pattern) else (os.path.dirname(head) or os.curdir)


def glob_wrapper(lazy: bool) -> Wrapper:
    """``glob.glob`` (a list) and ``glob.iglob`` (an iterator) as one event each."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        files = _files()
        if files is None or kwargs.get("dir_fd") is not None:
            return wrapped(*args, **kwargs)
        pattern = args[0] if args else kwargs.get("pathname")
        if pattern is None:
            return wrapped(*args, **kwargs)
        text = os.fsdecode(pattern)
        root = kwargs.get("root_dir")
        base = _glob_base(text)
        if root is not None:
            base = os.path.join(os.fsdecode(os.fspath(root)), base)
        absolute = files.policy.boundary_path(base, sys._getframe(1))
        if absolute is None:
            return wrapped(*args, **kwargs)
        flags = [bool(kwargs.get("recursive")), bool(kwargs.get("include_hidden")),
                 files.policy.absolute(base)]
        found = _served(files, GLOB, lambda *_: list(wrapped(*args, **kwargs)), text, *flags)
        return iter(found) if lazy else found

    return wrapper


def touch_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = _files()
    if files is None:
        return wrapped(*args, **kwargs)
    absolute = files.policy.boundary_path(instance, sys._getframe(1))
    if absolute is None:
        return wrapped(*args, **kwargs)
    return _served(files, TOUCH, lambda *_: wrapped(*args, **kwargs), absolute)
