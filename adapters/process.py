"""Facts about the process and its machine: pid, parent pid, host name.

``sys.argv`` needs no boundary: replay restores the recorded argv before the
program starts.
"""

from __future__ import annotations

from retrace import Adapter, Boundary, Patch

LIBRARY = ("logging", "platform", "tempfile", "multiprocessing")


class ProcessAdapter(Adapter):
    name = "process"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "getpid", Boundary("os.getpid", library=LIBRARY)),
            Patch("os", "getppid", Boundary("os.getppid", library=LIBRARY)),
            Patch("socket", "gethostname", Boundary("socket.gethostname", library=LIBRARY)),
        ]


adapter = ProcessAdapter()
