"""Facts about the process and its machine (pid, parent pid, host name), and waiting for children.

``sys.argv`` needs no boundary: replay restores the recorded argv before the
program starts. ``os.waitpid``/``os.wait`` return the recorded status
(``os.fork`` itself belongs to the ``children`` adapter, which records each
child into a trace of its own).

On replay the process *is* the recorded one: ``os.getpid()`` asked while
another boundary call is in flight (which is not an event) still answers
the recorded pid, so a pid kept from an event and one read inside a library
call (``multiprocessing`` compares them) agree as they did.
"""

from __future__ import annotations

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
        ]

    def start(self, session: Any) -> None:
        global _replayed_pid
        pid = session.header.get("pid")
        _replayed_pid = pid if session.replaying and type(pid) is int else None

    def stop(self, session: Any) -> None:
        global _replayed_pid
        _replayed_pid = None


adapter = ProcessAdapter()
