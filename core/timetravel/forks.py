"""Checkpoints: dormant forked copies of the replay, and the runners they start.

A checkpoint is ``os.fork()``: copy-on-write, so it costs the page tables
and the pages either side writes afterwards. The copy sleeps on its
connection to the coordinator; asked to run, it forks a *runner*, which
returns from :func:`take` into the program exactly where the checkpoint was
taken, with a job (reach a position, scan for one). The checkpoint itself
stays dormant, ready for the next job.

What a fork would get wrong is put right here:

- the trace file's offset is shared between forked processes, so a runner
  reads the trace through a file of its own, from where the checkpoint was;
- ``random`` reseeds its hidden generator in every forked child (an
  ``at_fork`` handler), so the generator's state is put back;
- buffered output is flushed before forking, or it would be written twice.

The fork, wait and pid functions are taken before any adapter patches them
(``os.fork`` and ``os.waitpid`` are boundaries of the process adapter).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .channel import Channel
from .output import flush_all

_fork = getattr(os, "fork", None)  # None on Windows: retrace debug says so and stops
_waitpid = os.waitpid
_getpid = os.getpid


def pid() -> int:
    return _getpid()


def fork() -> int:
    flush_all()
    assert _fork is not None
    return _fork()


def orphaned(socket_path: str) -> NoReturn:
    """Leave: the coordinator died without cleaning up (it was killed), so clean up for it.

    Its folder holds only the socket every process of the session connects
    to; whichever process notices first removes it.
    """
    shutil.rmtree(os.path.dirname(socket_path), ignore_errors=True)
    os._exit(0)


def reap(children: list[int]) -> None:
    """Collect the exit of children that are gone; keep the rest."""
    for child in list(children):
        try:
            done, _status = _waitpid(child, os.WNOHANG)
        except ChildProcessError:
            done = child
        if done:
            children.remove(child)


def _random_state() -> Any:
    module = sys.modules.get("random")
    return module._inst.getstate() if module is not None else None


def _restore_random(state: Any) -> None:
    if state is not None:
        sys.modules["random"]._inst.setstate(state)


def take(
    hello: dict[str, Any],
    socket_path: str,
    children: list[int],
    inherited: Channel,
    resume: Callable[[Channel, dict[str, Any]], None],
) -> Channel | None:
    """Fork a checkpoint here (or whatever ``hello["role"]`` says the copy is).

    In the calling process: returns None at once. The copy closes its copy of
    ``inherited``, the caller's connection. In a runner started from
    the checkpoint (maybe much later): calls ``resume(channel, job)`` and
    returns its new channel, and the program goes on from here.
    """
    random_state = _random_state()
    child = fork()
    if child:
        inherited.send({"type": "forked", "pid": child})
        children.append(child)
        reap(children)
        return None
    inherited.close()  # the coordinator must see the end of the live process's connection
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the live process
    try:
        channel = Channel.connect(socket_path)
    except OSError:
        os._exit(0)
    channel.send(dict(hello, type="hello", pid=_getpid()))
    runners: list[int] = []
    while True:
        message = channel.recv()
        if message is None:
            orphaned(socket_path)
        if message.get("type") != "run":
            os._exit(0)  # dropped: the coordinator keeps fewer checkpoints
        reap(runners)
        runner = fork()
        if runner:
            runners.append(runner)
            continue
        channel.close()
        _restore_random(random_state)
        try:
            link = Channel.connect(socket_path)
        except OSError:
            os._exit(0)
        link.send({"type": "hello", "role": "runner", "pid": _getpid()})
        resume(link, message["job"])
        return link
