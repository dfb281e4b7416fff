"""``retrace debug RECORDING``: the replay under a debugger that can go back.

The command's own process becomes the coordinator (:mod:`.coordinator`)
after the replay is prepared exactly as ``retrace replay`` prepares it (the
hash seed, ``run/``, ``sys.path``); the program runs in a forked process
under :class:`~.debugger.TimeTravelPdb`, and so do the checkpoints and
runners forked from it.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any

NAME = "debug"
#: How long a replayed thread waits for its turn under the debugger (unless
#: ``RETRACE_REPLAY_TIMEOUT`` says otherwise): while the user reads at the
#: prompt, the other threads wait, and that is not a stuck replay.
DEBUG_TURN_TIMEOUT = 24 * 3600.0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        NAME,
        help="replay a recording under pdb, with commands that step backwards",
        description="Replay a recording under pdb. Besides every pdb command: rstep, rnext, "
        "rreturn, rcontinue (backwards), goto N (boundary event N), "
        "goto @STEP, when. See docs/guides/time-travel.md.",
    )
    parser.add_argument("recording", nargs="?", default="recording", metavar="DIR")
    parser.add_argument("--machine", type=int, metavar="FD", help=argparse.SUPPRESS)


def run(options: argparse.Namespace) -> int:
    from ..cli import prepare_replay
    from ..errors import UsageError
    from .coordinator import Coordinator
    from .forks import fork

    if not hasattr(os, "fork"):
        raise UsageError(
            "retrace debug goes back through forked copies of the replay, and this "
            "platform has no os.fork; use retrace replay (or VS Code's debugpy "
            "configuration) here"
        )
    directory, main, argv = prepare_replay(options.recording)
    coordinator = Coordinator()
    child = fork()
    if child == 0:
        coordinator.forget_in_child()
        os._exit(live(directory, main, argv, coordinator.path, options.machine))
    return coordinator.serve(child)


def live(
    directory: Path, main: dict[str, Any], argv: list[str], socket_path: str, machine: int | None = None
) -> int:
    """The first live process: start the replay session and run the program under the debugger.

    With ``machine`` (a file descriptor: the DAP server drives the debugger)
    the debugger talks there, and the program's output, line-buffered,
    keeps 1 and 2.
    """
    from .. import launcher
    from ..cli import stop_replay
    from ..errors import RetraceError
    from ..session import begin_replay
    from . import forks, output
    from .channel import Channel
    from .debugger import TimeTravelPdb

    stdout = sys.stdout
    if machine is not None:
        stdout = open(machine, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(line_buffering=True)
    # below whatever the session puts in sys.stdout/stderr (an adapter may make each write an
    # event, which a write whose text was shown already must still take)
    streams = output.install()
    link = Channel.connect(socket_path)
    link.send({"type": "hello", "role": "live", "pid": forks.pid()})
    debugger: TimeTravelPdb | None = None

    def diverged(error: Exception) -> None:
        # the status first, then the report and the end: the coordinator ends the session when
        # this process's connection ends, not before the report is out
        status = getattr(error, "exit_status", 1)
        (debugger.link if debugger is not None else link).send({"type": "status", "status": status})
        stop_replay(error)

    try:
        session = begin_replay(directory, on_divergence=diverged)
    except RetraceError as exc:
        print(f"retrace: {exc}" if not str(exc).startswith("retrace:") else str(exc), file=sys.stderr)
        link.send({"type": "quit", "status": exc.exit_status})
        return exc.exit_status
    assert session.cursor is not None
    if "RETRACE_REPLAY_TIMEOUT" not in os.environ:  # threads wait while the user reads
        session.cursor.turn_timeout = DEBUG_TURN_TIMEOUT
    debugger = TimeTravelPdb(session, link, socket_path, stdout, streams)
    debugger.begin()
    status = launcher.run(main, argv)
    debugger.tracer.stop()
    if debugger.role == "runner":  # a re-run that reached the end without arriving
        if debugger.limit is not None:
            debugger.scanned_to_end()
        debugger.link.send({"type": "failed"})
        output.flush_all()
        os._exit(0)
    try:
        session.end(status)
    except RetraceError as exc:
        diverged(exc)
    debugger.finished(status)
    return status
