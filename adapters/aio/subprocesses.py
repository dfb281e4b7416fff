"""asyncio subprocesses: starting one, waiting for it and its outputs, as boundaries.

``asyncio.create_subprocess_exec``/``create_subprocess_shell``,
``Process.wait`` and ``Process.communicate`` are awaitable boundaries; reads
from ``proc.stdout``/``proc.stderr`` and writes to ``proc.stdin`` are the
streams' own boundaries (:mod:`.streams`). ``send_signal``, ``terminate``
and ``kill`` are plain boundaries. On replay no process is started: the
program gets a real ``asyncio.subprocess.Process`` over a stand-in transport
that knows the recorded pid, and the recorded exit status once the program
waited for it.

On Python 3.10 and 3.11 asyncio's default child watcher waits for the child
in a thread of its own; that wait is the process's, not the program's, so
it runs in flight (``os.waitpid`` is not recorded there).
"""

from __future__ import annotations

import asyncio
import asyncio.subprocess
from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.adapters.aio.streams import LIBRARY, ReplayedTransport
from retrace.boundary import Args, Kwargs

_PIPES = ("stdin", "stdout", "stderr")


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, str, int, float, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return f"<{type(value).__name__}>"


def _command(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [_plain(args), [[name, _plain(kwargs.get(name))] for name in _PIPES]]


def _summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return " ".join(str(a) for a in args)


def _encode_process(process: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return {"pid": process.pid, "pipes": [getattr(process, name) is not None for name in _PIPES]}


class ReplayedSubprocessTransport(asyncio.SubprocessTransport):
    """The transport of a replayed process: its recorded pid, and later its exit status."""

    def __init__(self, pid: int) -> None:
        super().__init__()
        self._pid = pid
        self.returncode: int | None = None
        self._closing = False

    def get_pid(self) -> int:
        return self._pid

    def get_returncode(self) -> int | None:
        return self.returncode

    def get_pipe_transport(self, fd: int) -> Any:
        return None

    def send_signal(self, signal: int) -> None:
        pass

    def terminate(self) -> None:
        pass

    def kill(self) -> None:
        pass

    def close(self) -> None:
        self._closing = True

    def is_closing(self) -> bool:
        return self._closing


def _decode_process(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    loop = asyncio.get_running_loop()
    limit = kwargs.get("limit", 2**16)
    protocol = asyncio.subprocess.SubprocessStreamProtocol(limit=limit, loop=loop)
    stdin, stdout, stderr = recorded["pipes"]
    if stdout:
        protocol.stdout = asyncio.StreamReader(limit=limit, loop=loop)
        protocol.stdout.set_transport(ReplayedTransport({}))
    if stderr:
        protocol.stderr = asyncio.StreamReader(limit=limit, loop=loop)
        protocol.stderr.set_transport(ReplayedTransport({}))
    if stdin:
        protocol.stdin = asyncio.StreamWriter(ReplayedTransport({}), protocol, None, loop)
    return asyncio.subprocess.Process(ReplayedSubprocessTransport(recorded["pid"]), protocol, loop)


def _set_returncode(process: Any, returncode: Any) -> None:
    transport = process._transport
    if isinstance(transport, ReplayedSubprocessTransport):
        transport.returncode = returncode


def _decode_wait(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    _set_returncode(instance, recorded)
    return recorded


def _encode_communicate(outcome: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [outcome[0], outcome[1], instance.returncode]


def _decode_communicate(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    stdout, stderr, returncode = recorded
    _set_returncode(instance, returncode)
    return stdout, stderr


def _input(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [_plain(args), _plain(kwargs.get("input"))]


EXEC = Boundary(
    "asyncio.create_subprocess_exec",
    fingerprint=_command,
    summary=_summary,
    encode=_encode_process,
    decode=_decode_process,
    library=LIBRARY,
)
SHELL = Boundary(
    "asyncio.create_subprocess_shell",
    fingerprint=_command,
    summary=_summary,
    encode=_encode_process,
    decode=_decode_process,
    library=LIBRARY,
)
WAIT = Boundary("asyncio.Process.wait", decode=_decode_wait, library=LIBRARY)
COMMUNICATE = Boundary(
    "asyncio.Process.communicate",
    fingerprint=_input,
    encode=_encode_communicate,
    decode=_decode_communicate,
    library=LIBRARY,
)
SIGNAL = Boundary("asyncio.Process.signal", fingerprint=lambda i, a, k: [_plain(a)], library=LIBRARY)


def _awaitable(boundary: Boundary, with_instance: bool = True) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        return aio.call(boundary, wrapped, instance if with_instance else None, args, kwargs)

    return wrapper


def _in_flight(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    with runtime.in_flight():
        return wrapped(*args, **kwargs)


def patches() -> list[Patch]:
    module = "asyncio.subprocess"
    return [
        Patch(module, "create_subprocess_exec", wrapper=_awaitable(EXEC, with_instance=False)),
        Patch(module, "create_subprocess_shell", wrapper=_awaitable(SHELL, with_instance=False)),
        Patch(module, "Process.wait", wrapper=_awaitable(WAIT)),
        Patch(module, "Process.communicate", wrapper=_awaitable(COMMUNICATE)),
        *(Patch(module, f"Process.{name}", SIGNAL) for name in ("send_signal", "terminate", "kill")),
        Patch("asyncio.unix_events", "ThreadedChildWatcher._do_waitpid", wrapper=_in_flight),
    ]
