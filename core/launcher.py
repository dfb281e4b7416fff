"""Running the program the way ``python`` would, and ending it the way ``python`` would.

The program runs under :mod:`runpy` as ``__main__``. Its exit status, its
uncaught exception (printed with retrace's own frames left out, and on replay
with ``run/`` paths shown as the recorded paths, so record and replay print
the same thing), its non-daemon threads and its ``atexit`` callbacks are all
dealt with here, before the session ends, so that their boundary calls are
part of the trace.
"""

from __future__ import annotations

import atexit
import builtins
import importlib.machinery
import os
import runpy
import sys
import threading
import traceback
import types
from typing import Any

from . import runtime, tracebacks
from .errors import RetraceError

_HIDDEN_MODULE_FILES = (
    os.sep + "runpy.py",
    os.sep + "retrace" + os.sep,
)
_OWN_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
    for d in ("core", "adapters", "plugins", "retrace")
)


def _hidden(filename: str) -> bool:
    return filename.startswith(_OWN_DIRS) or filename.endswith(_HIDDEN_MODULE_FILES) or (
        os.sep + "wrapt" + os.sep in filename
    ) or filename.startswith("<frozen runpy")


def run(main: dict[str, Any], argv: list[str]) -> int:
    """Run the program described by ``main``; return its exit status."""
    sys.argv[:] = argv
    try:
        if main["kind"] == "module":
            runpy.run_module(main["name"], run_name="__main__", alter_sys=True)
        elif main["kind"] == "code":
            namespace = {"__name__": "__main__", "__builtins__": __builtins__}
            exec(compile(main["code"], "<string>", "exec"), namespace)
        else:
            run_script(main["path"])
        status = 0
    except SystemExit as exc:
        status = exit_status_of(exc)
    except RetraceError as exc:
        # retrace refused something (a replay reaching what it cannot serve): its
        # report is retrace's own message, never the program's output to verify.
        with runtime.in_flight():
            report_uncaught(exc)
        status = 1
    except BaseException as exc:
        report_uncaught(exc)
        status = 1
    return finish_like_python(status)


def run_script(path: str) -> None:
    """Run a script as ``python path`` does: a fresh ``__main__``, ``sys.argv`` untouched.

    (``runpy.run_path`` would rewrite ``sys.argv[0]``, which on replay is the
    recorded value and must stay so.)
    """
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec")
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    module.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    module.__spec__ = None
    sys.modules["__main__"] = module
    exec(code, module.__dict__)


def exit_status_of(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def finish_like_python(status: int) -> int:
    """Join non-daemon threads and run atexit callbacks, as interpreter exit would.

    Like ``threading._shutdown``, threading's own exit callbacks run first:
    they are what wakes an unshut ``ThreadPoolExecutor``'s idle workers, which
    joining would otherwise wait for forever. These joins are the interpreter's,
    not events: which threads are still alive at exit is a race (a replay,
    quicker than the recorded run, finds one still ending that had ended),
    and what each thread does until it ends is recorded by its own events.
    """
    _run_threading_atexits()
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main and not thread.daemon:
            try:
                with runtime.in_flight():
                    thread.join()
            except BaseException as exc:
                report_uncaught(exc)
    try:
        atexit._run_exitfuncs()
    except SystemExit as exc:
        status = exit_status_of(exc)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    return status


def _run_threading_atexits() -> None:
    calls = getattr(threading, "_threading_atexits", None)
    if not calls:
        return
    threading._SHUTTING_DOWN = True  # type: ignore[attr-defined]
    for call in reversed(calls):
        try:
            call()
        except BaseException as exc:
            report_uncaught(exc)
    calls.clear()


def _clean(te: traceback.TracebackException) -> None:
    kept = traceback.StackSummary()
    for frame in te.stack:
        if _hidden(frame.filename):
            continue
        recorded = tracebacks.recorded_name(frame.filename)
        if recorded != frame.filename:
            _ = frame.line  # read the source from run/ before the name changes
            frame.filename = recorded
        kept.append(frame)
    te.stack = kept
    for linked in (te.__cause__, te.__context__):
        if linked is not None:
            _clean(linked)


def report_uncaught(exc: BaseException) -> None:
    """Report ``exc`` through the program's excepthook, or print it like the interpreter."""
    if sys.excepthook is not sys.__excepthook__:
        try:
            sys.excepthook(type(exc), exc, exc.__traceback__)
            return
        except Exception:
            pass
    print_exception(exc)


def print_exception(exc: BaseException) -> None:
    """Print ``exc`` like the interpreter does, without retrace's frames."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    _clean(te)
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass
    sys.stderr.write("".join(te.format()))
    sys.stderr.flush()
