"""The start of a spawned ``multiprocessing`` child: the work its parent sends it.

A spawned (or fork-server) child reads two pickles from its parent before it
runs anything: the *preparation* (its name, ``sys.path``, working directory,
the main module to import as ``__mp_main__``) and the *process object*
(the target and its arguments). Each is an event holding the pickle's bytes,
read off the pipe without building anything (``pickletools``), and then
unpickled by ``multiprocessing`` as usual, so what unpickling imports is the
program's own recorded work. On replay the bytes come from the trace: no
parent, no pipe; the preparation's paths are mapped into ``run/``, the
resource tracker's descriptor is the null device, and ``multiprocessing``
locks in the process object are made afresh (the originals were named
semaphores of a process that is gone).

The process object also names descriptors the child inherited (a pool's
queues are pipes, pickled as the numbers the parent passed it). On replay
nothing was inherited: each of them is a descriptor of the null device,
opened for it, so that closing it (a pool worker closes the ends it does
not use at once, and the rest at exit) closes what it owns and nothing else.
With the recorded numbers, a close would fail (``EBADF``, the worker dies
at its start) or close a descriptor of the replay's own.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from retrace import Boundary, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call, in_flight
from retrace.snapshot import is_program_file, relative_place

from .fork import LIBRARY, state

PREPARATION = Boundary("multiprocessing.spawn.preparation", library=LIBRARY)
PROCESS = Boundary("multiprocessing.spawn.process", library=LIBRARY)


class _Tee:
    """Reads from a stream and keeps what was read."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.kept = bytearray()

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self.kept += data
        return data

    def readline(self) -> bytes:
        data: bytes = self._stream.readline()
        self.kept += data
        return data


def _one_pickle(stream: Any) -> bytes:
    import pickletools  # a spawned child only: it costs every other start-up ~1 ms

    tee: Any = _Tee(stream)
    for _ in pickletools.genops(tee):
        pass
    return bytes(tee.kept)


def _load(boundary: Boundary, stream: Any) -> Any:
    from multiprocessing.reduction import ForkingPickler

    data = call(boundary, lambda *_: _one_pickle(stream))
    if not isinstance(data, bytes):
        raise BadRecording(f"a {boundary.name} event in the trace is not bytes")
    return ForkingPickler.loads(data)


def _active() -> bool:
    return not LOCAL.busy and runtime.active().name != "passthrough"


def spawn_main_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """On replay there is no pipe from a parent and no resource tracker to talk to."""
    if runtime.active().name != "replay":
        return wrapped(*args, **kwargs)
    from multiprocessing import resource_tracker, spawn

    tracker: Any = resource_tracker._resource_tracker
    tracker._fd = os.open(os.devnull, os.O_WRONLY)
    sys.exit(spawn._main(-1, os.open(os.devnull, os.O_RDONLY)))


def main_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``spawn._main(fd, parent_sentinel)`` with its two reads as events."""
    if not _active():
        return wrapped(*args, **kwargs)
    from multiprocessing import process, spawn

    fd, parent_sentinel = args[0], args[1]
    replaying = runtime.active().name == "replay"
    stream = io.BytesIO() if replaying else os.fdopen(fd, "rb", closefd=True)
    with stream:
        current: Any = process.current_process()
        current._inheriting = True
        try:
            preparation = _load(PREPARATION, stream)
            if replaying:
                preparation = _mapped(preparation)
            spawn.prepare(preparation)
            child = _load(PROCESS, stream)
        finally:
            del current._inheriting
    return child._bootstrap(parent_sentinel)


def _mapped(preparation: Any) -> Any:
    """The recorded preparation with the program's paths pointing into ``run/``."""
    session = state.session
    if type(preparation) is not dict or session is None:
        return preparation
    cwd = session.header.get("cwd") or os.getcwd()
    run_dir = str(session.directory / "run")

    def place(path: Any, probe: bool) -> Any:
        if not isinstance(path, str):
            return path
        if is_program_file(os.path.join(path or cwd, "__probe__.py") if probe else path):
            return os.path.join(run_dir, relative_place(path or cwd, cwd))
        return path

    mapped = dict(preparation)
    for key in ("dir", "orig_dir"):
        if key in mapped:
            mapped[key] = run_dir if mapped[key] == cwd else place(mapped[key], True)
    if isinstance(mapped.get("sys_path"), list):
        mapped["sys_path"] = [place(p, True) for p in mapped["sys_path"]]
    if "init_main_from_path" in mapped:
        mapped["init_main_from_path"] = place(mapped["init_main_from_path"], False)
    return mapped


def inherited_fd_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``_DupFd.detach()``: on replay, a descriptor of its own stands in for the inherited one."""
    if runtime.active().name != "replay":
        return wrapped(*args, **kwargs)
    with in_flight():
        return os.open(os.devnull, os.O_RDWR)


def semlock_setstate_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """On replay a lock from the recorded process object is a new, private one."""
    if runtime.active().name != "replay":
        return wrapped(*args, **kwargs)
    import _multiprocessing
    from multiprocessing import synchronize as sync

    synchronize: Any = sync
    _handle, kind, maxvalue, _name = args[0][:4]
    value = 1 if kind == synchronize.RECURSIVE_MUTEX or maxvalue == 1 else 0
    with in_flight():  # naming it reads the pid and draws randomness: not the program's
        instance._semlock = _multiprocessing.SemLock(kind, value, maxvalue,
                                                     synchronize.SemLock._make_name(), True)
    instance._make_methods()
    return None
