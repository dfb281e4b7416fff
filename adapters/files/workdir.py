"""On replay, the working directory the program sees and changes is the recorded one.

A replay runs in the recording's ``run/`` folder, so ``os.getcwd()`` (and
``Path.cwd()``, ``os.path.abspath``, which ask it) would name that folder: a
program that prints its working directory, or a path built from it, would
differ. The program is answered with the real directory translated back the
way file paths are (``run/`` is the recorded working directory,
``run/_abs/x`` is ``/x``; see :meth:`.policy.FilePolicy.absolute`). No event
is needed: the answer follows from where the replay runs. The import system,
retrace itself and debuggers get the real directory: they look for files,
and the files are in ``run/``.

``os.chdir`` is a boundary: the folder it entered (or the error it raised)
is recorded, and on replay the process moves to the matching place under
``run/``, made there if the program's files did not put it there already,
so the working directory keeps meaning the recorded one after the change.
"""

from __future__ import annotations

import os
import sys
from types import FrameType
from typing import Any

from retrace import runtime
from retrace.runtime import LOCAL

from . import state
from .boundaries import CHDIR
from .policy import CARRIERS, caller_module, is_internal

_WRAPPERS = "retrace.adapters.files.wrappers"


def _looks_for_files(module: str) -> bool:
    return is_internal(module) or runtime.is_debugger_module(module)


def _asker(frame: FrameType | None) -> str:
    """The module asking for the directory, past carriers and the files adapter's wrappers,
    which pass the program's calls on (``Path.resolve()`` asks through ``os.path.realpath``)."""
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module not in CARRIERS and module != _WRAPPERS:
            return module
        frame = frame.f_back
    return ""


def _recorded(real: str) -> str | None:
    files = state.current
    if (files is None or LOCAL.busy or runtime.active().name != "replay"
            or not files.policy.maps_run_dir):
        return None
    if _looks_for_files(_asker(sys._getframe(2))):
        return None
    return files.policy.absolute(real)


def getcwd_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    real = wrapped(*args, **kwargs)
    recorded = _recorded(real)
    return real if recorded is None else recorded


def getcwdb_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    real = wrapped(*args, **kwargs)
    recorded = _recorded(os.fsdecode(real))
    return real if recorded is None else os.fsencode(recorded)


def chdir_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    files = state.current
    path = args[0] if args else kwargs.get("path")
    if (files is None or path is None or LOCAL.busy or runtime.active().name == "passthrough"
            or isinstance(path, int) or _looks_for_files(caller_module(sys._getframe(1)))):
        return wrapped(*args, **kwargs)
    target = files.policy.absolute(os.fsdecode(os.fspath(path)))
    replaying = runtime.active().name == "replay"
    runtime.call(CHDIR, lambda *_: None if replaying else wrapped(*args, **kwargs), target)
    if not replaying:
        return None
    with runtime.in_flight():
        if not files.policy.maps_run_dir:  # a scoped replay runs where it is: move for real
            return wrapped(*args, **kwargs)
        place = files.policy.in_run_dir(target)
        os.makedirs(place, exist_ok=True)
        return wrapped(place)
