"""Child processes: forks, ``multiprocessing`` and Python subprocesses, each recorded on its own.

Every child Python process of a recorded program records into its own trace
inside the same recording (``DIR/processes/<ID>/``, see
:mod:`retrace.processes`), and the program's trace holds what the program
saw of its children, so that its replay starts none of them:

- :mod:`.fork`: ``os.fork`` and ``os._exit``;
- :mod:`.launch`: a fresh interpreter (``multiprocessing``'s spawn and
  forkserver, ``subprocess`` running ``sys.executable``) starts under
  ``python -m retrace.child``, which records it;
- :mod:`.popen`: ``multiprocessing`` processes: starting one, its exit
  status, signals;
- :mod:`.connection`: what flows through ``multiprocessing`` pipes and
  queues;
- :mod:`.pool` and :mod:`.futures`: ``multiprocessing.Pool`` and
  ``ProcessPoolExecutor`` as the program sees them (their own threads and
  workers are their business, recorded in the workers' traces);
- :mod:`.spawned`: the start of a spawned child, which reads its work from
  its parent.
"""

from __future__ import annotations

from typing import Any

from retrace import Adapter, Patch

from . import fork, launch


class ChildrenAdapter(Adapter):
    name = "children"
    modules = fork.LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "fork", wrapper=fork.fork_wrapper),
            Patch("os", "_exit", wrapper=fork.exit_wrapper),
            Patch("multiprocessing.util", "spawnv_passfds", wrapper=launch.spawnv_wrapper),
            Patch("subprocess", "Popen._execute_child", wrapper=launch.execute_child_wrapper),
        ]

    def start(self, session: Any) -> None:
        fork.state.session = session

    def stop(self, session: Any) -> None:
        fork.state.session = None


adapter = ChildrenAdapter()
