"""What flows through ``multiprocessing`` pipes and queues, as the process that reads it saw it.

``Connection`` (the two ends of ``Pipe()``, and of every ``Queue``,
``SimpleQueue`` and pool queue) does its I/O in three methods: every message
received (``_recv_bytes``, with its bytes) and every readiness check
(``_poll``) is an event, and so is every message sent, fingerprinted by a
CRC of its bytes. ``multiprocessing.connection.wait`` is an event whose
outcome says which of the objects were ready. On replay no descriptor is
read or written: the messages come from the trace (and are unpickled by
``multiprocessing`` as they were when recorded), and what the program sends
goes nowhere. A call made while another boundary is in flight is left
alone, except that a replay never writes: on replay there is no process at
the other end to read.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from retrace import Boundary, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call

from .fork import LIBRARY


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return list(args)


def _boundary(name: str, blocking: bool = False) -> Boundary:
    return Boundary(name, fingerprint=_arguments, library=LIBRARY, blocking=blocking)


SEND = _boundary("multiprocessing.connection.send")
RECV = _boundary("multiprocessing.connection.recv", blocking=True)
POLL = _boundary("multiprocessing.connection.poll", blocking=True)
WAIT = _boundary("multiprocessing.connection.wait", blocking=True)


def _mode() -> str:
    return str(runtime.active().name)


def send_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    mode = _mode()
    if mode == "passthrough":
        return wrapped(*args, **kwargs)
    if LOCAL.busy:
        return None if mode == "replay" else wrapped(*args, **kwargs)
    view = memoryview(args[0] if args else kwargs["buf"])
    return call(SEND, lambda *_: wrapped(*args, **kwargs), zlib.crc32(view), view.nbytes)


def recv_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or _mode() == "passthrough":
        return wrapped(*args, **kwargs)
    data = call(RECV, lambda *_: wrapped(*args, **kwargs).getvalue(), *args)
    if not isinstance(data, bytes):
        raise BadRecording("a multiprocessing message in the trace is not bytes")
    return io.BytesIO(data)


def poll_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or _mode() == "passthrough":
        return wrapped(*args, **kwargs)
    timeout = args[0] if args else kwargs.get("timeout")
    return bool(call(POLL, lambda *_: bool(wrapped(*args, **kwargs)), timeout is None))


def wait_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or _mode() == "passthrough":
        return wrapped(*args, **kwargs)
    objects = list(args[0] if args else kwargs["object_list"])
    timeout = args[1] if len(args) > 1 else kwargs.get("timeout")

    def really(*_: Any) -> list[int]:
        ready = wrapped(objects, timeout)
        return [i for i, obj in enumerate(objects) if any(obj is r for r in ready)]

    found = call(WAIT, really, len(objects), timeout is None)
    if type(found) is not list or not all(type(i) is int and 0 <= i < len(objects) for i in found):
        raise BadRecording("a multiprocessing wait in the trace is malformed")
    return [objects[i] for i in found]
