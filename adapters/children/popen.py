"""``multiprocessing`` processes as the parent sees them: started, polled, waited for, signalled.

The boundary is the start method's ``Popen`` object (``popen_fork``,
``popen_spawn_posix``, ``popen_forkserver``), which every ``Process.start``
goes through. Starting one is an event whose outcome is the pid and the IDs
of the children it started (a forked child records from the fork on, a
spawned one from its first line); ``poll``, ``wait`` and the signals are
events with the ``returncode`` they leave. On replay nothing is started:
the ``Popen`` gets the recorded pid and a sentinel that is never ready, and
answers from the trace. On a ``--process`` replay of a forked child, the
start that made it runs for real (the fork then becomes the child).
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from retrace import Boundary, forking, processes, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call, in_flight

from .fork import LIBRARY


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return list(args)


def _summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return " ".join(str(a) for a in args)


def _boundary(name: str, blocking: bool = False) -> Boundary:
    return Boundary(name, fingerprint=_arguments, summary=_summary, library=LIBRARY,
                    blocking=blocking)


START = _boundary("multiprocessing.Process.start", blocking=True)
POLL = _boundary("multiprocessing.Process.poll")
WAIT = _boundary("multiprocessing.Process.wait", blocking=True)
SIGNAL = _boundary("multiprocessing.Process.signal")


def _mode() -> str:
    return str(runtime.active().name)


def _facts(value: Any) -> dict[str, Any]:
    if (type(value) is dict and type(value.get("pid")) is int
            and type(value.get("children")) is list
            and all(isinstance(c, str) and processes.valid(c) for c in value["children"])):
        return value
    raise BadRecording("a multiprocessing start event in the trace is malformed")


def init_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    mode = _mode()
    if mode == "passthrough" or LOCAL.busy:
        return wrapped(*args, **kwargs)
    process_obj = args[0] if args else kwargs.get("process_obj")
    key = [getattr(instance, "method", "?"), getattr(process_obj, "name", "?")]
    if mode == "record":
        def really(*_: Any) -> dict[str, Any]:
            with processes.identity.collect() as started:
                wrapped(*args, **kwargs)
            return {"pid": instance.pid, "children": started}

        _facts(call(START, really, *key))
        instance._retrace_recorded = True
        return None
    facts = _facts(call(START, lambda *_: None, *key))
    if forking.targets and forking.targets[0] in facts["children"]:
        with processes.identity.expect(facts["children"]), in_flight():
            return wrapped(*args, **kwargs)  # forks, and the fork becomes the replayed child
    _replayed(instance, facts["pid"])
    return None


def _replayed(popen: Any, pid: int) -> None:
    """A ``Popen`` that was never started: the recorded pid, a sentinel that never fires."""
    never, keep = os.pipe()
    popen.pid = pid
    popen.returncode = None
    popen.finalizer = None
    popen.sentinel = never
    popen._fds = []
    popen._retrace_recorded = True
    weakref.finalize(popen, _close, never, keep)


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _returncode(value: Any) -> Any:
    if value is None or type(value) is int:
        return value
    raise BadRecording("a multiprocessing process event in the trace is malformed")


def returning(boundary: Boundary, method: str) -> Any:
    """A wrapper for ``poll``/``wait``/``_send_signal``: the outcome is the ``returncode`` left."""

    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if not getattr(instance, "_retrace_recorded", False) or _mode() == "passthrough":
            return wrapped(*args, **kwargs)
        if LOCAL.busy:  # a pool's own bookkeeping: on replay the process is not there to ask
            return instance.returncode if _mode() == "replay" else wrapped(*args, **kwargs)

        def really(*_: Any) -> list[Any]:
            result = wrapped(*args, **kwargs)
            return [result, instance.returncode]

        values = [int(a) if isinstance(a, int) else a if isinstance(a, (float, type(None)))
                  else repr(a) for a in args]
        found = call(boundary, really, method, *values)
        if type(found) is not list or len(found) != 2:
            raise BadRecording("a multiprocessing process event in the trace is malformed")
        instance.returncode = _returncode(found[1])
        return found[0]

    return wrapper
