"""Facts about the process and its machine (pid, parent pid, host name), and waiting for children.

``sys.argv`` needs no boundary: replay restores the recorded argv before the
program starts. ``os.waitpid``/``os.wait`` return the recorded status
(``os.fork`` itself belongs to the ``children`` adapter, which records each
child into a trace of its own).

``os.kill``/``os.killpg`` are boundaries: on replay the pids they name are
the recorded run's, long gone or reused by an unrelated process, so nothing
is sent and the recorded outcome comes back. A signal the program sends to
itself is the exception: it is sent for real in both modes (to the real pid
on replay); a Python handler for it runs where the recording says (the
``signals`` adapter), and without one the default action happens again.

On replay the process *is* the recorded one: ``os.getpid()`` asked while
another boundary call is in flight (which is not an event) still answers
the recorded pid, so a pid kept from an event and one read inside a library
call (``multiprocessing`` compares them) agree as they did.
"""

from __future__ import annotations

import os
from typing import Any

from retrace import Adapter, Boundary, Patch, runtime
from retrace.boundary import Args, Kwargs
from retrace.runtime import LOCAL

LIBRARY = ("logging", "platform", "tempfile", "multiprocessing")


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [list(args), sorted(kwargs.items())]


GETPID = Boundary("os.getpid", library=LIBRARY)
_replayed_pid: int | None = None


def _getpid(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if _replayed_pid is not None and LOCAL.busy:
        return _replayed_pid
    return runtime.active().call(GETPID, wrapped, instance, args, kwargs)


def _target(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """The pid and signal number (a ``signal.Signals`` is an int with no codec)."""
    return [int(a) if isinstance(a, int) else repr(a) for a in args]


KILL = Boundary("os.kill", fingerprint=_target, library=LIBRARY)
KILLPG = Boundary("os.killpg", fingerprint=_target, library=LIBRARY)


def _kill(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    pid = args[0] if args else None
    if not LOCAL.busy and type(pid) is int and pid > 0:
        with runtime.in_flight():
            own = os.getpid()  # the recorded pid on replay, the real one when recording
        if pid == own:
            real_getpid = getattr(os.getpid, "__wrapped__", os.getpid)
            return wrapped(real_getpid(), *args[1:], **kwargs)
    return runtime.active().call(KILL, wrapped, instance, args, kwargs)


class ProcessAdapter(Adapter):
    name = "process"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "getpid", wrapper=_getpid),
            Patch("os", "getppid", Boundary("os.getppid", library=LIBRARY)),
            Patch("socket", "gethostname", Boundary("socket.gethostname", library=LIBRARY)),
            Patch("os", "waitpid", Boundary("os.waitpid", fingerprint=_arguments, blocking=True,
                                            library=LIBRARY)),
            Patch("os", "wait", Boundary("os.wait", blocking=True, library=LIBRARY)),
            Patch("os", "kill", wrapper=_kill),
            Patch("os", "killpg", KILLPG),
        ]

    def start(self, session: Any) -> None:
        global _replayed_pid
        pid = session.header.get("pid")
        _replayed_pid = pid if session.replaying and type(pid) is int else None

    def stop(self, session: Any) -> None:
        global _replayed_pid
        _replayed_pid = None


adapter = ProcessAdapter()
