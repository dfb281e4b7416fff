"""What the autoenable ``.pth`` line runs in every Python process: record if asked to.

It runs before the program's first line, so it must be cheap when nothing
is asked (the ``.pth`` line only imports this module when a ``RETRACE*``
variable exists) and it must never break the program: every failure becomes
one warning and the program runs unrecorded. It also refuses to be silent: a
path without ``RETRACE=1``, an unknown ``RETRACE_*`` name or value, an
existing recording at the path are all reported in one line.
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # typing and pathlib would cost every process that has a RETRACE* variable
if TYPE_CHECKING:
    from typing import Any

KNOWN = {
    "RETRACE": "1 to record this process",
    "RETRACE_RECORDING_PATH": "where to record (default ./retrace-recording); "
                              "{pid}, {time} and {host} are filled in",
    "RETRACE_SAMPLE_RATE": "record only this fraction of processes (0 to 1)",
    "RETRACE_MAX_BYTES": "stop recording past this size (e.g. 200M), marked incomplete",
    "RETRACE_TIMINGS": "1 to record how long each real call took (for retrace stats)",
    "RETRACE_ADAPTERS": "only these adapters (comma-separated)",
    "RETRACE_DISABLE_ADAPTERS": "all adapters but these",
    "RETRACE_REPLAY_TIMEOUT": "seconds a replayed thread waits for its turn",
    "RETRACE_REAL_SLEEP": "1 to really sleep during replay",
    "RETRACE_SERIAL": "1 to record threads one at a time, so unsynchronised races replay too",
    "RETRACE_CHECK_OUTPUT": "0 to replay without comparing what the program writes",
    "RETRACE_CHECKPOINT_INTERVAL": "seconds of running between checkpoints of retrace debug",
    "RETRACE_CHECKPOINTS": "how many checkpoints retrace debug keeps",
    "RETRACE_HASHSEED_SET": "internal",
    "RETRACE_WARNED": "internal",
    "RETRACE_SAMPLED": "internal",
}
ON = {"1", "true", "yes", "on", "record"}
OFF = {"", "0", "false", "no", "off"}
DEFAULT_PATH = "retrace-recording"
_booted = False
_warned_before_exec = False


def _warn(message: str) -> None:
    try:
        sys.stderr.write(f"retrace: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


_TAKES_VALUE = {"-W", "-X", "--check-hash-based-pycs"}


def program_of(orig_argv: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    """The ``main`` description and argv of ``python [options] ...``, or None if interactive."""
    i = 1
    while i < len(orig_argv):
        arg = orig_argv[i]
        if arg == "--":
            i += 1
            break
        if arg in _TAKES_VALUE:
            i += 2
            continue
        if arg.startswith("-c") or arg.startswith("-m"):
            value = arg[2:] or (orig_argv[i + 1] if i + 1 < len(orig_argv) else "")
            rest = orig_argv[i + (1 if arg[2:] else 2):]
            if arg.startswith("-c"):
                return {"kind": "code", "code": value}, ["-c", *rest]
            return {"kind": "module", "name": value}, [value, *rest]
        if arg.startswith("-") and arg != "-":
            i += 1
            continue
        break
    if i >= len(orig_argv) or orig_argv[i] == "-":
        return None
    script = orig_argv[i]
    return {"kind": "path", "path": script}, orig_argv[i:]


def _is_retrace_itself(orig_argv: list[str]) -> bool:
    """``retrace ...``, ``python [options] -m retrace...`` (a recorded child: ``retrace.child``)."""
    program = program_of(orig_argv)
    module = program[0].get("name", "") if program and program[0]["kind"] == "module" else ""
    return module == "retrace" or module.startswith("retrace.") or (
        len(orig_argv) > 1 and os.path.basename(orig_argv[1]) == "retrace"
    )


def boot() -> None:
    """Start recording this process if the environment asks for it."""
    global _booted, _warned_before_exec
    if _booted:
        return
    _booted = True
    _warned_before_exec = os.environ.pop("RETRACE_WARNED", None) == "1"
    try:
        _boot()
    except Exception as exc:
        _warn(f"recording could not start, the program runs unrecorded: {exc}")


def _boot() -> None:
    env = os.environ
    unknown = sorted(k for k in env if k.startswith("RETRACE") and k not in KNOWN)
    if unknown and not _warned_before_exec:
        _warn(f"unknown variable(s) {', '.join(unknown)} ignored; known: {', '.join(KNOWN)}")
    value = env.get("RETRACE", "")
    if value.lower() in OFF:
        if env.get("RETRACE_RECORDING_PATH") and "RETRACE" not in env:
            _warn("RETRACE_RECORDING_PATH is set but RETRACE is not: nothing is recorded "
                  "(set RETRACE=1 to record)")
        return
    if value.lower() not in ON:
        _warn(f"RETRACE={value!r} is not understood: nothing is recorded (use RETRACE=1)")
        return
    orig_argv = list(sys.orig_argv)
    if _is_retrace_itself(orig_argv):
        return
    program = program_of(orig_argv)
    if program is None:
        _warn("RETRACE=1 but no program to record (interactive or stdin): nothing is recorded")
        return
    main, argv = program
    if not _sampled(env):
        return
    from . import hashseed

    seed = hashseed.choose()
    hashseed.ensure(seed)
    hashseed.forget_ours()
    os.environ.pop("RETRACE_SAMPLED", None)  # no re-exec was needed; children draw for themselves
    _start(main, argv, seed)


def _sampled(env: os._Environ[str]) -> bool:
    """Whether ``RETRACE_SAMPLE_RATE`` picks this process; decided once, before any re-exec.

    The decision survives the hash-seed re-exec in ``RETRACE_SAMPLED``, so a
    process is not drawn twice (which would record ``rate**2`` of them).
    """
    if env.pop("RETRACE_SAMPLED", None) == "1":
        return True
    raw = env.get("RETRACE_SAMPLE_RATE")
    if raw is None:
        return True
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        _warn(f"RETRACE_SAMPLE_RATE={raw!r} is not a number from 0 to 1: nothing is recorded")
        return False
    import random

    if random.SystemRandom().random() >= rate:
        return False
    env["RETRACE_SAMPLED"] = "1"
    return True


def expand_path(template: str) -> str:
    """``RETRACE_RECORDING_PATH`` with ``{pid}``, ``{time}`` (UTC) and ``{host}`` filled in.

    Many processes of one service can then record side by side, e.g.
    ``/var/retrace/{host}/{time}-{pid}``. Other braces are left alone.
    """
    import socket
    import time

    host = "".join(c if c.isalnum() or c in "-_." else "_" for c in socket.gethostname())
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return (template.replace("{pid}", str(os.getpid())).replace("{time}", stamp)
            .replace("{host}", host or "host"))


def _start(main: dict[str, Any], argv: list[str], seed: str) -> None:
    from pathlib import Path

    from . import launcher, layout
    from .errors import RetraceError
    from .session import begin_recording

    asked = Path(expand_path(os.environ.get("RETRACE_RECORDING_PATH") or DEFAULT_PATH))
    asked = asked.expanduser().resolve()
    directory = layout.free_sibling(asked)
    if directory != asked:
        _warn(f"{asked} already holds a recording; recording to {directory} instead")
    elif "RETRACE_RECORDING_PATH" not in os.environ:
        _warn(f"RETRACE_RECORDING_PATH is not set; recording to {directory}")
    try:
        session = begin_recording(directory, main, argv, seed, defer=True)
    except RetraceError as exc:
        _warn(f"not recording: {exc}")
        return
    except OSError as exc:
        _warn(f"cannot record to {directory} ({exc.strerror or exc}); the program runs unrecorded")
        return
    outcome = {"status": 0}

    def uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        outcome["status"] = 1
        launcher.print_exception(exc)

    sys.excepthook = uncaught

    def finish() -> None:
        try:
            session.end(outcome["status"] if outcome["status"] else None)
        except Exception as exc:
            _warn(f"finishing the recording failed: {exc}")

    atexit.register(finish)
    _activate_at_first_program_line(session)


def _activate_at_first_program_line(session: Any) -> None:
    """Record from the program's first frame on, not the interpreter's own start-up.

    A replay starts at the program's first line too, so what the ``site``
    module does after this hook runs must not be in the trace.
    """
    from .snapshot import is_program_file

    code_main = session.header["main"]["kind"] == "code"

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        filename = frame.f_code.co_filename
        top_level_code = code_main and filename == "<string>" and frame.f_back is None
        if top_level_code or is_program_file(filename):
            sys.setprofile(None)
            session.activate()

    sys.setprofile(watch)
