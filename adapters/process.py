"""Facts about the process and its machine (pid, parent pid, host name), and waiting for children.

``sys.argv`` needs no boundary: replay restores the recorded argv before the
program starts. ``os.waitpid``/``os.wait`` return the recorded status
(``os.fork`` itself belongs to the ``children`` adapter, which records each
child into a trace of its own).
"""

from __future__ import annotations

from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs

LIBRARY = ("logging", "platform", "tempfile", "multiprocessing")


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [list(args), sorted(kwargs.items())]


class ProcessAdapter(Adapter):
    name = "process"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "getpid", Boundary("os.getpid", library=LIBRARY)),
            Patch("os", "getppid", Boundary("os.getppid", library=LIBRARY)),
            Patch("socket", "gethostname", Boundary("socket.gethostname", library=LIBRARY)),
            Patch("os", "waitpid", Boundary("os.waitpid", fingerprint=_arguments, blocking=True,
                                            library=LIBRARY)),
            Patch("os", "wait", Boundary("os.wait", blocking=True, library=LIBRARY)),
        ]


adapter = ProcessAdapter()
