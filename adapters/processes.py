"""Subprocesses: ``subprocess.Popen`` and everything built on it, ``os.system``, ``os.popen``.

The boundary is the ``Popen`` object, not the high-level helpers: starting a
process (``__init__``), ``communicate``, ``wait``, ``poll`` and the signals
are boundaries, and so is every read the program makes from a child's
``stdout``/``stderr`` pipe, one call at a time, so the chunks replay as they
came. ``run``, ``call``, ``check_call``, ``check_output``, ``getoutput``
and ``os.popen`` are made of these calls and need nothing of their own; a
call they make inside another (``communicate`` waiting) is not recorded
twice. On replay no process is started: ``Popen`` gets the recorded pid,
pipes that answer from the trace and a ``stdin`` that swallows writes, and
every method returns, raises and sets ``returncode`` as recorded.

A child that shares the program's stdout/stderr (no pipe asked for, and
``os.system``) has that output relayed and recorded when the descriptor is
not a terminal (see :mod:`.process_output`).
"""

from __future__ import annotations

import io
import os
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import Any

from retrace import Adapter, Boundary, Patch, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call
from retrace.streams import RecordedReads

from .process_output import TARGETS, Relay, capturable, replay_chunks

LIBRARY = ("subprocess", "os", "selectors", "io")
PIPE_NAMES = ("stdout", "stderr")


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return list(args)


def _command(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return str(args[0]) if args else ""


def _boundary(name: str, blocking: bool = False) -> Boundary:
    return Boundary(name, fingerprint=_arguments, summary=_command, library=LIBRARY,
                    blocking=blocking)


SPAWN = _boundary("subprocess.Popen", blocking=True)
COMMUNICATE = _boundary("subprocess.Popen.communicate", blocking=True)
WAIT = _boundary("subprocess.Popen.wait", blocking=True)
POLL = _boundary("subprocess.Popen.poll")
SIGNAL = _boundary("subprocess.Popen.send_signal")
PIPE_READ = _boundary("subprocess.pipe.read", blocking=True)
SYSTEM = _boundary("os.system", blocking=True)


_session: Any = None


def _checked(value: Any, kind: type, length: int | None = None) -> Any:
    """A recorded value of the shape this adapter records; anything else is a bad recording."""
    shaped = (isinstance(value, (list, dict)) and type(value) is kind
              and (length is None or len(value) == length))
    if shaped and (kind is not dict or {"pid", "pipes", "text"} <= set(value)):
        return value
    error = BadRecording("a subprocess event in the trace is malformed")
    cursor = getattr(_session, "cursor", None)
    if cursor is not None:
        cursor.on_divergence(error)
    raise error


def _active() -> bool:
    return not LOCAL.busy and runtime.active().name != "passthrough"


def _describe_stream(value: Any) -> str:
    import subprocess

    names = {subprocess.PIPE: "PIPE", subprocess.DEVNULL: "DEVNULL", subprocess.STDOUT: "STDOUT",
             None: "inherit"}
    return names.get(value, "file") if isinstance(value, (int, type(None))) else "file"


def _command_of(args: Any) -> Any:
    if isinstance(args, (str, bytes)):
        return os.fsdecode(args)
    try:
        return [os.fsdecode(os.fspath(a)) for a in args]
    except TypeError:
        return repr(args)


def _digest(data: Any) -> Any:
    if data is None:
        return None
    return zlib.crc32(data.encode() if isinstance(data, str) else bytes(data))


class PipeReader(RecordedReads):
    """A child's ``stdout``/``stderr`` pipe whose reads are boundary calls.

    Recording wraps the real pipe (everything but reads goes to it, so
    ``fileno()`` works for pipelines and ``communicate``); replay has no pipe.
    """

    def __init__(self, real: Any, which: str, text: bool) -> None:
        self._real = real
        self._which = which
        self._text = text
        self._closed = False

    def _read(self, method: str, size: Any) -> Any:
        real = self._real
        if real is not None and not _active():
            return getattr(real, method)(size)

        def really(*_: Any) -> Any:
            return getattr(real, method)(size)

        return call(PIPE_READ, really, self._which, method, size)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._real.closed if self._real is not None else self._closed

    def close(self) -> None:
        self._closed = True
        if self._real is not None:
            self._real.close()

    def fileno(self) -> int:
        if self._real is None:
            raise io.UnsupportedOperation("a replayed pipe has no descriptor")
        number: int = self._real.fileno()
        return number

    def __enter__(self) -> PipeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            raise AttributeError(name)
        return getattr(self._real, name)


class PipeSink(io.RawIOBase):
    """A replayed child's ``stdin``: writes are accepted and go nowhere."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(memoryview(data))


def _stdin_sink(text: bool, encoding: str | None, errors: str | None) -> Any:
    buffered = io.BufferedWriter(PipeSink())
    if not text:
        return buffered
    return io.TextIOWrapper(buffered, encoding=encoding, errors=errors, write_through=True)


def _facts(popen: Any) -> dict[str, Any]:
    return {
        "pid": popen.pid,
        "pipes": [popen.stdin is not None, popen.stdout is not None, popen.stderr is not None],
        "text": bool(popen.text_mode),
        "encoding": popen.encoding,
        "errors": popen.errors,
    }


def _internal_caller() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module not in ("subprocess", "os", "retrace.patchforms") and not module.startswith("wrapt"):
            return module == "retrace" or module.startswith(("retrace.", "_pytest", "pytest"))
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _relayed(args: Args, kwargs: Kwargs) -> list[str]:
    """The streams a recorded child would share with the program, to be captured instead."""
    if len(args) > 1 or runtime.active().name != "record":
        return []
    return [name for name, fd in TARGETS.items()
            if name in PIPE_NAMES and kwargs.get(name, None) is None and capturable(fd)]


def spawn_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if not _active() or _internal_caller():
        return wrapped(*args, **kwargs)
    command = args[0] if args else kwargs.get("args")
    streams = [_describe_stream(kwargs.get(name)) for name in ("stdin", "stdout", "stderr")]
    shell = bool(kwargs.get("shell"))
    relayed = _relayed(args, kwargs)

    def really(*_: Any) -> Any:
        import subprocess

        for name in relayed:
            kwargs[name] = subprocess.PIPE
        wrapped(*args, **kwargs)
        relays = []
        for name in relayed:
            pipe = getattr(instance, name)
            relays.append(Relay(os.dup(pipe.fileno()), TARGETS[name]))
            pipe.close()
            setattr(instance, name, None)
        instance._retrace_relays = relays
        return _facts(instance)

    facts = _checked(call(SPAWN, really, _command_of(command), streams, shell), dict)
    if runtime.active().name == "record":
        for which in PIPE_NAMES:
            real = getattr(instance, which)
            if real is not None:
                setattr(instance, which, PipeReader(real, which, facts["text"]))
        instance._retrace_pipes = True
        return None
    _replayed_popen(instance, command, facts)
    return None


def _output(popen: Any) -> list[list[Any]]:
    """Relayed output of a child that has ended, once."""
    relays = getattr(popen, "_retrace_relays", None)
    if not relays or popen.returncode is None:
        return []
    popen._retrace_relays = []
    return [chunk for relay in relays for chunk in relay.finish()]


def _replayed_popen(popen: Any, command: Any, facts: dict[str, Any]) -> None:
    """Give a Popen that was never started the state its methods and ``with`` read."""
    has_stdin, has_stdout, has_stderr = facts["pipes"]
    text = facts["text"]
    popen.args = command
    popen.pid = facts["pid"]
    popen.returncode = None
    popen.text_mode = text
    popen.encoding = facts["encoding"]
    popen.errors = facts["errors"]
    popen._communication_started = False
    popen._waitpid_lock = threading.Lock()
    popen._input = None
    popen._sigint_wait_secs = 0.25
    popen._closed_child_pipe_fds = True
    popen.stdin = _stdin_sink(text, facts["encoding"], facts["errors"]) if has_stdin else None
    popen.stdout = PipeReader(None, "stdout", text) if has_stdout else None
    popen.stderr = PipeReader(None, "stderr", text) if has_stderr else None
    popen._retrace_pipes = True


def _returning(boundary: Boundary, method: str) -> Any:
    """A wrapper for a method whose outcome comes with the ``returncode`` it leaves behind."""

    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if not _active() or not getattr(instance, "_retrace_pipes", False):
            return wrapped(*args, **kwargs)

        def really(*_: Any) -> Any:
            result = wrapped(*args, **kwargs)
            return [list(result) if isinstance(result, tuple) else result, instance.returncode,
                    _output(instance)]

        fingerprint = [instance.args if isinstance(instance.args, str) else _command_of(instance.args),
                       method, *(_digest(a) if isinstance(a, (bytes, str)) else a for a in args),
                       *sorted((k, _digest(v) if isinstance(v, (bytes, str)) else v)
                               for k, v in kwargs.items())]
        result, returncode, output = _checked(call(boundary, really, *fingerprint), list, 3)
        instance.returncode = returncode
        if runtime.active().name == "replay":
            replay_chunks(output)
        return tuple(result) if method == "communicate" else result

    return wrapper


def _reaping(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``Popen._internal_poll``, run as part of a boundary call: it is bookkeeping.

    ``poll()`` calls it inside its own boundary call; otherwise ``__del__``
    and the module's reaping of finished children do, at moments set by
    garbage collection, and a replayed ``Popen`` (never started) does not. Its
    ``os.waitpid`` is a default argument bound when ``subprocess`` is
    imported: the real one if that was before the session, else the patch,
    which would record those reads as the program's.
    """
    with runtime.in_flight():
        return wrapped(*args, **kwargs)


def system_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if not _active() or _internal_caller():
        return wrapped(*args, **kwargs)
    command = args[0] if args else kwargs.get("command")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    relayed = [fd for fd in (1, 2) if runtime.active().name == "record" and capturable(fd)]

    def really(*_: Any) -> Any:
        if not relayed or not isinstance(command, (str, bytes)):
            return [wrapped(*args, **kwargs), []]
        return _system_relayed(command, relayed)

    status, output = _checked(call(SYSTEM, really, _command_of(command)), list, 2)
    if runtime.active().name == "replay":
        replay_chunks(output)
    return status


def _system_relayed(command: str | bytes, relayed: list[int]) -> list[Any]:
    """``os.system`` with the captured descriptors piped through relays; ``[status, chunks]``."""
    import subprocess

    pipes = {fd: subprocess.PIPE if fd in relayed else None for fd in (1, 2)}
    child = subprocess.Popen(["/bin/sh", "-c", command], stdout=pipes[1], stderr=pipes[2])
    relays = []
    for pipe, fd in ((child.stdout, 1), (child.stderr, 2)):
        if pipe is not None:
            relays.append(Relay(os.dup(pipe.fileno()), fd))
            pipe.close()
    code = child.wait()
    status = code << 8 if code >= 0 else -code
    return [status, [chunk for relay in relays for chunk in relay.finish()]]


class SubprocessAdapter(Adapter):
    name = "subprocess"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("subprocess", "Popen.__init__", wrapper=spawn_wrapper),
            Patch("subprocess", "Popen.communicate", wrapper=_returning(COMMUNICATE, "communicate")),
            Patch("subprocess", "Popen.wait", wrapper=_returning(WAIT, "wait")),
            Patch("subprocess", "Popen.poll", wrapper=_returning(POLL, "poll")),
            Patch("subprocess", "Popen.send_signal", wrapper=_returning(SIGNAL, "send_signal")),
            Patch("subprocess", "Popen.terminate", wrapper=_returning(SIGNAL, "terminate")),
            Patch("subprocess", "Popen.kill", wrapper=_returning(SIGNAL, "kill")),
            Patch("subprocess", "Popen._internal_poll", wrapper=_reaping),
            Patch("os", "system", wrapper=system_wrapper),
        ]

    def start(self, session: Any) -> None:
        global _session
        _session = session

    def stop(self, session: Any) -> None:
        global _session
        _session = None

    def register_codecs(self, codecs: Any) -> None:
        codecs.allow_exceptions_from("subprocess")


adapter = SubprocessAdapter()
