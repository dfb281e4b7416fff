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
- :mod:`.queues`: a ``multiprocessing.Queue``'s count of items in flight, and the
  locks around queues' reads and writes;
- :mod:`.pool`, :mod:`.futures` and :mod:`.finalizers`: the parts of
  ``multiprocessing.Pool``, ``ProcessPoolExecutor`` and multiprocessing's
  cleanups whose timing no replay can reproduce;
- :mod:`.spawned`: the start of a spawned child, which reads its work from
  its parent.
"""

from __future__ import annotations

from typing import Any

from retrace import Adapter, Patch

from . import connection, finalizers, fork, futures, launch, pool, popen, queues, spawned


class ChildrenAdapter(Adapter):
    name = "children"
    modules = fork.LIBRARY
    #: A pool's, an executor's and a queue's threads carry the program's work to and from its children:
    #: they replay in the recorded order, with the program's threads (not as library threads).
    coordinating = ("multiprocessing.pool", "concurrent.futures.process")

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "fork", wrapper=fork.fork_wrapper),
            Patch("os", "_exit", wrapper=fork.exit_wrapper),
            Patch("multiprocessing.util", "spawnv_passfds", wrapper=launch.spawnv_wrapper),
            Patch("subprocess", "Popen._execute_child", wrapper=launch.execute_child_wrapper),
            Patch("multiprocessing.popen_fork", "Popen.__init__", wrapper=popen.init_wrapper),
            Patch("multiprocessing.popen_fork", "Popen.poll",
                  wrapper=popen.returning(popen.POLL, "poll")),
            Patch("multiprocessing.popen_forkserver", "Popen.poll",
                  wrapper=popen.returning(popen.POLL, "poll")),
            Patch("multiprocessing.popen_fork", "Popen.wait",
                  wrapper=popen.returning(popen.WAIT, "wait")),
            Patch("multiprocessing.popen_fork", "Popen._send_signal",
                  wrapper=popen.returning(popen.SIGNAL, "signal")),
            Patch("multiprocessing.connection", "Connection._send_bytes",
                  wrapper=connection.send_wrapper),
            Patch("multiprocessing.connection", "Connection._recv_bytes",
                  wrapper=connection.recv_wrapper),
            Patch("multiprocessing.connection", "Connection._poll", wrapper=connection.poll_wrapper),
            Patch("multiprocessing.connection", "wait", wrapper=connection.wait_wrapper),
            Patch("multiprocessing.queues", "Queue.__init__", wrapper=queues.init_wrapper),
            Patch("multiprocessing.queues", "Queue.__setstate__", wrapper=queues.init_wrapper),
            Patch("multiprocessing.queues", "Queue.full", wrapper=queues.counted("full")),
            Patch("multiprocessing.queues", "Queue.qsize", wrapper=queues.counted("qsize")),
            Patch("multiprocessing.queues", "SimpleQueue.__init__", wrapper=queues.init_wrapper),
            Patch("multiprocessing.queues", "SimpleQueue.__setstate__",
                  wrapper=queues.init_wrapper),
            Patch("multiprocessing.pool", "Pool._handle_workers", wrapper=pool.workers_wrapper),
            Patch("multiprocessing.pool", "Pool._help_stuff_finish", wrapper=pool.quietly),
            Patch("multiprocessing.util", "Finalize.__init__", wrapper=finalizers.finalize_init),
            Patch("multiprocessing.util", "Finalize.__call__", wrapper=finalizers.finalize_call),
            Patch("concurrent.futures.process", "ProcessPoolExecutor.__init__",
                  wrapper=futures.init_wrapper),
            Patch("multiprocessing.spawn", "spawn_main", wrapper=spawned.spawn_main_wrapper),
            Patch("multiprocessing.spawn", "_main", wrapper=spawned.main_wrapper),
            Patch("multiprocessing.popen_spawn_posix", "_DupFd.detach",
                  wrapper=spawned.inherited_fd_wrapper),
            Patch("multiprocessing.synchronize", "SemLock.__setstate__",
                  wrapper=spawned.semlock_setstate_wrapper),
        ]

    def start(self, session: Any) -> None:
        fork.state.session = session

    def stop(self, session: Any) -> None:
        fork.state.session = None


adapter = ChildrenAdapter()
