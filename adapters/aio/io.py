"""The loop's own I/O methods: name resolution and the ``sock_*`` calls, as awaitable boundaries.

``loop.sock_accept`` records the peer's address; on replay it returns a
fresh socket that was never connected (its ``sock_recv``/``sock_sendall``
are replayed like any other), with the recorded address.

``loop.getaddrinfo`` runs in a thread and ``loop.sock_recv``
and friends wait on the selector; as awaitable boundaries their outcomes are
recorded and handed back at the recorded turn, so replay resolves no name
and touches no socket (the socket object the program made is passed along
but never used). ``sock_recv_into`` and ``sock_recvfrom_into`` fill the
program's buffer with the recorded bytes.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.boundary import Args, Kwargs

LIBRARY = ("asyncio",)


def _after_socket(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """What matters of a ``sock_*`` call: everything but the socket object and the buffer."""
    rest = [a if isinstance(a, (bytes, str, int, float, tuple, type(None))) else bytes(a) for a in args[1:]]
    return [rest, sorted(kwargs.items())]


def _fill_encode(outcome: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    count = outcome[0] if isinstance(outcome, tuple) else outcome
    return [outcome, bytes(memoryview(args[1])[:count])]


def _fill_decode(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    outcome, data = recorded
    memoryview(args[1])[: len(data)] = data
    return tuple(outcome) if type(outcome) is list else outcome


def _accepted(outcome: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    connection, address = outcome
    return [_plain(address), int(connection.family), int(connection.type), connection.proto]


def _stand_in(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Replay: a fresh socket, never connected, in place of the accepted one (its I/O is replayed)."""
    address, family, kind, proto = recorded
    connection = socket.socket(_enum(socket.AddressFamily, family), _enum(socket.SocketKind, kind), proto)
    connection.setblocking(False)
    return connection, tuple(address) if type(address) is list else address


def _boundary(name: str, fill: bool = False, **extra: Any) -> Boundary:
    if fill:
        extra.update(encode=_fill_encode, decode=_fill_decode)
    extra.setdefault("summary", lambda i, a, k: name)
    return Boundary(f"asyncio.loop.{name}", library=LIBRARY, **extra)


def _plain(value: Any) -> Any:
    """Enums (``AddressFamily``, ``SocketKind``) as their numbers, tuples as lists."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return int(value) if isinstance(value, int) else value


def _query(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [_plain(args), sorted((k, _plain(v)) for k, v in kwargs.items())]


def _addresses(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    out = []
    for family, kind, proto, canonname, sockaddr in recorded:
        out.append(
            (
                _enum(socket.AddressFamily, family),
                _enum(socket.SocketKind, kind),
                proto,
                canonname,
                tuple(sockaddr),
            )
        )
    return out


def _enum(enum: Any, value: int) -> Any:
    try:
        return enum(value)
    except ValueError:
        return value


BOUNDARIES = {
    "getaddrinfo": _boundary(
        "getaddrinfo",
        fingerprint=_query,
        summary=lambda i, a, k: f"getaddrinfo {a!r}",
        encode=lambda out, i, a, k: _plain(out),
        decode=_addresses,
    ),
    "getnameinfo": _boundary("getnameinfo", fingerprint=_query, decode=lambda r, i, a, k: tuple(r)),
    "sock_connect": _boundary("sock_connect", fingerprint=_after_socket),
    "sock_recv": _boundary("sock_recv", fingerprint=_after_socket),
    "sock_recv_into": _boundary("sock_recv_into", fill=True, fingerprint=lambda i, a, k: [len(a[1])]),
    "sock_sendall": _boundary("sock_sendall", fingerprint=_after_socket),
    "sock_accept": _boundary("sock_accept", fingerprint=_after_socket, encode=_accepted, decode=_stand_in),
}
_MODULES = {"getaddrinfo": "BaseEventLoop", "getnameinfo": "BaseEventLoop"}


def _awaitable(boundary: Boundary) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        return aio.call(boundary, wrapped, instance, args, kwargs)

    return wrapper


def _resolver(boundary: Boundary, name: str) -> Any:
    """Resolution runs in the loop's thread pool, where no boundary is in flight: say it is.

    Otherwise the sockets adapter would record the thread's own
    ``socket.getaddrinfo`` as well, an event replay never reaches.
    """

    def wrapper(wrapped: Any, loop: Any, args: Args, kwargs: Kwargs) -> Any:
        if isinstance(runtime.active(), runtime.Passthrough):
            return wrapped(*args, **kwargs)

        async def resolve(*a: Any, **k: Any) -> Any:
            return await _in_thread(loop, name, a, k)

        return aio.call(boundary, resolve, loop, args, kwargs)

    return wrapper


def _in_thread(loop: Any, name: str, args: Args, kwargs: Kwargs) -> Any:
    """Resolve in a daemon thread of retrace's own, not in the loop's default executor.

    Creating the program's default executor while recording would change what
    the loop does at shutdown (Python 3.12+ waits for it under a timeout,
    reading the clock), and replay, which resolves nothing, would not.
    """
    future = loop.create_future()

    def settle(outcome: Any, failed: bool) -> None:
        if not future.done():
            (future.set_exception if failed else future.set_result)(outcome)

    def work() -> None:
        try:
            outcome, failed = _in_flight(name, args, kwargs), False
        except BaseException as exc:
            outcome, failed = exc, True
        loop.call_soon_threadsafe(settle, outcome, failed)

    threading.Thread(target=work, name="retrace-resolve", daemon=True).start()
    return future


def _in_flight(name: str, args: Args, kwargs: Kwargs) -> Any:
    with runtime.in_flight():
        return getattr(socket, name)(*args, **kwargs)


def patches() -> list[Patch]:
    out = []
    for name, boundary in BOUNDARIES.items():
        owner = _MODULES.get(name)
        if owner is not None:
            out.append(Patch("asyncio.base_events", f"{owner}.{name}", wrapper=_resolver(boundary, name)))
        else:
            out.append(
                Patch(
                    "asyncio.selector_events", f"BaseSelectorEventLoop.{name}", wrapper=_awaitable(boundary)
                )
            )
    return out
