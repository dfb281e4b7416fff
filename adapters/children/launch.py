"""A fresh Python child starts under ``python -m retrace.child``, which records it.

Two places start a new interpreter: ``multiprocessing.util.spawnv_passfds``
(the spawn start method's workers, and the fork server) and
``subprocess.Popen._execute_child`` (a program running ``sys.executable``).
While recording, their command line gets ``-m retrace.child DIR ID HOW``
between the interpreter's options and the program, and the child records
into ``DIR/processes/ID/``. Nothing else changes: the same descriptors are
passed, the same environment, the same program arguments.

Left as they are: ``multiprocessing``'s resource tracker (bookkeeping, not the
program), interpreters started with ``-I`` or ``-S`` (they cannot import
retrace), other executables (another virtual environment may not have
retrace), and commands run through a shell.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from retrace import child, processes, runtime
from retrace.boundary import Args, Kwargs

from .fork import state

_TAKES_VALUE = {"-W", "-X", "--check-hash-based-pycs"}
_NO_SITE = {"I", "S"}


def _split(after: list[str]) -> tuple[list[str], list[str]] | None:
    """The interpreter's options, and the program with its arguments (None: no program)."""
    i = 0
    while i < len(after):
        arg = after[i]
        if arg in ("-c", "-m") or not arg.startswith("-") or arg == "-":
            break
        if arg.startswith(("-c", "-m")):  # -cCODE, -mMODULE
            return after[:i], [arg[:2], arg[2:], *after[i + 1:]]
        if not arg.startswith("--") and _NO_SITE & set(arg[1:]) and arg not in _TAKES_VALUE:
            return None
        i += 2 if arg in _TAKES_VALUE else 1
    rest = after[i:]
    if not rest or rest[0] == "-":
        return None
    return after[:i], rest


def recorded_command(args: list[str], start: str) -> list[str] | None:
    """``args`` (a Python command line) changed to record the child, or None to leave it."""
    session = state.session
    recorder = getattr(session, "recorder", None)
    if recorder is None or recorder.stopped is not None or runtime.active().name != "record":
        return None
    split = _split([str(a) for a in args[1:]])
    if split is None:
        return None
    flags, rest = split
    process = processes.identity.next_child()
    return [args[0], *flags, *child.command(session.directory, process, start), *rest]


def _multiprocessing_start(args: list[str]) -> str | None:
    if "--multiprocessing-fork" in args:
        return "spawn"
    code = " ".join(a for a in args if isinstance(a, str))
    if "multiprocessing.forkserver" in code:
        return "forkserver"
    return None  # the resource tracker, or something else


def spawnv_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    path, command, *more = args
    start = _multiprocessing_start(list(command))
    changed = recorded_command(list(command), start) if start else None
    if changed is None:
        return wrapped(*args, **kwargs)
    return wrapped(path, changed, *more, **kwargs)


def _is_this_python(program: Any) -> bool:
    try:
        name = os.fsdecode(program)
    except TypeError:
        return False
    return name == sys.executable or os.path.abspath(name) == sys.executable


def execute_child_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``Popen._execute_child(args, executable, <7 more>, shell, ...)``: a Python child is recorded."""
    command, executable = args[0], args[1]
    shell = args[9] if len(args) > 9 else kwargs.get("shell")
    if shell or not isinstance(command, (list, tuple)) or not command:
        return wrapped(*args, **kwargs)
    if not _is_this_python(executable if executable is not None else command[0]):
        return wrapped(*args, **kwargs)
    changed = recorded_command(list(command), "exec")
    if changed is None:
        return wrapped(*args, **kwargs)
    return wrapped(changed, *args[1:], **kwargs)
