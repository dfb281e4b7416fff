"""``python -m retrace.child DIR ID HOW PROGRAM...``: a child Python process, recorded.

When a recorded program starts a fresh Python interpreter (``multiprocessing``
with the spawn or forkserver start method, ``subprocess`` running
``sys.executable``), the ``children`` adapter puts ``-m retrace.child DIR ID
HOW`` in front of the child's own arguments (after the interpreter's
options). This module then records the child into ``DIR/processes/ID/``
the way ``retrace record`` records a program: the hash seed chosen (and the
process re-executed once for it), the same adapters, the program run by the
launcher, the footer written at the end. ``PROGRAM`` is what followed the
options: ``-c CODE ARGS``, ``-m MODULE ARGS`` or ``SCRIPT ARGS``.

A child that cannot be recorded (a bad argument, the recording folder gone)
runs unrecorded after one warning: recording never breaks the program.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from . import processes

MODULE = "retrace.child"
STARTS = ("spawn", "forkserver", "exec")


def command(directory: Path, process: str, start: str) -> list[str]:
    """What goes between a child interpreter's options and its program."""
    return ["-m", MODULE, str(directory), process, start]


def _program(rest: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    if rest[:1] == ["-c"] and len(rest) > 1:
        return {"kind": "code", "code": rest[1]}, ["-c", *rest[2:]]
    if rest[:1] == ["-m"] and len(rest) > 1:
        return {"kind": "module", "name": rest[1]}, rest[1:]
    if rest and not rest[0].startswith("-"):
        return {"kind": "path", "path": rest[0]}, rest
    return None


def _warn(message: str) -> None:
    try:
        sys.stderr.write(f"retrace: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    from . import hashseed

    if len(argv) < 4 or not processes.valid(argv[1]) or argv[2] not in STARTS:
        _warn(f"usage: python -m {MODULE} DIR ID HOW PROGRAM... (got {argv!r})")
        return 2
    directory, process, start = Path(argv[0]), argv[1], argv[2]
    found = _program(argv[3:])
    if found is None:
        _warn(f"not a program to run: {argv[3:]!r}")
        return 2
    main_, program_argv = found
    seed = hashseed.choose()
    hashseed.ensure(seed)
    hashseed.forget_ours()
    from . import launcher  # after the re-exec: the first process imports little
    from .errors import RetraceError
    from .session import begin_recording

    if main_["kind"] == "path":
        sys.path[0] = os.path.dirname(os.path.abspath(main_["path"]))
    elif main_["kind"] == "code":
        sys.path[0] = ""
    else:
        sys.path[0] = os.getcwd()
    try:
        session = begin_recording(directory, main_, program_argv, seed, process=(process, start))
    except (RetraceError, OSError) as exc:
        _warn(f"child process {process} is not recorded: {exc}")
        return launcher.run(main_, program_argv)
    status = launcher.run(main_, program_argv)
    session.end(status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
