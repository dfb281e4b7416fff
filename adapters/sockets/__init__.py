"""Raw sockets: the fallback boundary for network clients that have no adapter of their own.

``http.client`` (hence ``urllib.request``), ``smtplib``, ``ftplib``,
pymysql... all talk through ``socket.socket``. Name resolution
(``socket.getaddrinfo``), ``connect``/``connect_ex``, every ``send``,
``sendall``, ``sendto``, ``recv``, ``recv_into``, ``recvfrom``, and
``getpeername``/``getsockname``/``shutdown`` are boundaries, so
``makefile()`` and ``create_connection`` need nothing of their own. On
replay the socket object is real but never connected: nothing leaves the
machine, and every answer, in the same chunks, comes from the trace. What
is sent is fingerprinted (a CRC of the bytes), so a replay that sends
something else stops with a divergence.

A call made while a library adapter's boundary is in flight (requests,
redis...) is not recorded again: the core's busy flag lets it through (each
wrapper reads it first, so passing a redis command's ``sendall`` and
``recv_into`` through costs one attribute read on top of the patch's call). A
socket belongs to this adapter only if its ``connect`` was a boundary call
here: a socket a library adapter connected (redis-py's pooled connections)
stays that adapter's business for its whole life, so its later
``shutdown`` or ``close`` outside any command is not recorded either.
Non-blocking sockets (an asyncio event loop's) are left alone.

A blocking server is covered too: ``bind``, ``listen`` and ``accept`` are
boundaries. The connection ``accept`` returns is this adapter's, so what the
client sent and what the server answered are recorded; on replay nothing is
bound or listened to (the recorded port may be taken by the live server),
and ``accept`` returns a fresh, never connected socket whose reads come from
the trace, so a server process replays with no client at all.

TLS over a socket of this adapter is recorded as plaintext (see :mod:`.tls`),
and waiting for one to be ready with ``select``/``selectors`` is an event
(see :mod:`.readiness`).
"""

from __future__ import annotations

import socket
import weakref
import zlib
from typing import Any

from retrace import Adapter, Boundary, Patch, runtime
from retrace.boundary import Args, Kwargs
from retrace.runtime import LOCAL, active

LIBRARY = ("socket", "ssl", "http", "urllib", "smtplib", "ftplib", "poplib", "imaplib", "selectors")
_NETWORK = {getattr(socket, name) for name in ("AF_INET", "AF_INET6", "AF_UNIX") if hasattr(socket, name)}


def _fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> str:
    """A call's fingerprint: the first argument the wrappers pass, one string.

    The core digests a string as its bytes (no CBOR encoding of a list), so a
    socket event's fingerprint costs one f-string: ``"sendall 9a0c3f1e 183"``
    (method, CRC-32 and size of the bytes sent), ``"recv_into 8192"``.
    """
    return args[0]


def _summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    """The second: the fingerprint itself, or for a send its size alone (``sendall 183 bytes``),
    so a connection's sends share a few summaries, each written to the trace once."""
    return args[1]


def _boundary(name: str, blocking: bool = False, **extra: Any) -> Boundary:
    return Boundary(name, fingerprint=_fingerprint, summary=_summary, summary_key=_summary,
                    library=LIBRARY, blocking=blocking, **extra)


def _text(*parts: Any) -> str:
    """A fingerprint of plain parts (``_address`` values): ``connect ['127.0.0.1', 80]``."""
    return " ".join(map(str, parts))


def _addrinfo_encode(value: Any, *_: Any) -> Any:
    return [[int(f), int(t), p, c, list(a)] for f, t, p, c, a in value]


def _addrinfo_decode(plain: Any, *_: Any) -> Any:
    return [(_enum(socket.AddressFamily, f), _enum(socket.SocketKind, t), p, c, tuple(a))
            for f, t, p, c, a in plain]


def _enum(kind: Any, value: int) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value


GETADDRINFO = _boundary("socket.getaddrinfo", blocking=True, encode=_addrinfo_encode,
                        decode=_addrinfo_decode)
CONNECT = _boundary("socket.connect", blocking=True)
SEND = _boundary("socket.send", blocking=True)
RECV = _boundary("socket.recv", blocking=True)
BIND = _boundary("socket.bind")
LISTEN = _boundary("socket.listen")
ACCEPT = _boundary("socket.accept", blocking=True)
ADDRESS = _boundary("socket.address")
SHUTDOWN = _boundary("socket.shutdown")


def _active() -> bool:
    return not LOCAL.busy and runtime.active().name != "passthrough"


class _Sockets:
    """Live sockets by identity: a membership test is one dict lookup (a ``WeakSet`` makes
    a weak reference per test, and every socket call tests)."""

    def __init__(self) -> None:
        self.ids: dict[int, weakref.ref[Any]] = {}

    def add(self, sock: Any) -> None:
        key, ids = id(sock), self.ids
        if key in ids:
            return

        def forget(ref: weakref.ref[Any]) -> None:  # runs before the id can be reused
            if ids.get(key) is ref:
                del ids[key]

        ids[key] = weakref.ref(sock, forget)

    def __contains__(self, sock: Any) -> bool:
        return id(sock) in self.ids

    def __bool__(self) -> bool:
        """Whether any socket is here (without it every instance is true)."""
        return bool(self.ids)


_adopted = _Sockets()
#: Adopted sockets that listen: waiting on them is a server's loop, not an exchange (see readiness).
_listening = _Sockets()


def _connectable(sock: Any) -> bool:
    """A blocking network socket: non-blocking ones belong to an event loop (asyncio, not yet)."""
    return _active() and getattr(sock, "family", None) in _NETWORK and sock.getblocking()


def _ours(sock: Any) -> bool:
    return id(sock) in _adopted.ids and _active()


def _address(value: Any) -> Any:
    """An address, flag or size as plain data (enums become their numbers)."""
    if isinstance(value, (tuple, list)):
        return [_address(v) for v in value]
    if type(value) in (str, bytes, int, float, bool, type(None)):
        return value
    return int(value) if isinstance(value, int) else repr(value)


def _arguments(method: str, args: Args, kwargs: Kwargs) -> str:
    """The fingerprint of a call by its plain arguments; ``recv 8192`` without the generic walk."""
    if not kwargs and len(args) == 1 and type(args[0]) is int:
        return f"{method} {args[0]}"
    return _text(method, *map(_address, args),
                 *[[k, _address(v)] for k, v in sorted(kwargs.items())])


#: The wrappers below call the active mode themselves, as the core's own wrapper does, not
#: through ``runtime.call``: the program's frame is then right above the mode's, where the
#: recorder finds its call site with one lookup instead of a walk past two frames of ours.
#: And each tests membership in ``_ids`` itself (one dict lookup, no call).
_ids = _adopted.ids


def getaddrinfo_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if not _active():
        return wrapped(*args, **kwargs)
    key = _text("getaddrinfo", *map(_address, args),
                *[[k, _address(v)] for k, v in sorted(kwargs.items())])
    return active().call(GETADDRINFO, lambda *_: wrapped(*args, **kwargs), None, (key, key), {})


def connect_wrapper(method: str) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if not _connectable(instance):
            return wrapped(*args, **kwargs)
        _adopted.add(instance)
        key = _text(method, _address(args[0]))
        return active().call(CONNECT, lambda *_: wrapped(*args, **kwargs), instance, (key, key), {})

    return wrapper


def send_wrapper(method: str) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy or id(instance) not in _ids or not args:
            return wrapped(*args, **kwargs)
        data = args[0]
        size = len(data) if type(data) is bytes else memoryview(data).nbytes
        if len(args) == 1:
            key = f"{method} {zlib.crc32(data):08x} {size}"
            summary = f"{method} {size} bytes"
        else:  # flags, and sendto's address
            rest = _text(*map(_address, args[1:]))
            key = f"{method} {zlib.crc32(data):08x} {size} {rest}"
            summary = f"{method} {size} bytes {rest}"
        return active().call(SEND, lambda *_: wrapped(*args, **kwargs), instance, (key, summary), {})

    return wrapper


def recv_wrapper(method: str) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy or id(instance) not in _ids:
            return wrapped(*args, **kwargs)
        key = _arguments(method, args, kwargs)
        if method == "recvfrom":
            data, peer = active().call(RECV, lambda *_: list(wrapped(*args, **kwargs)), instance,
                                       (key, key), {})
            return data, tuple(peer) if isinstance(peer, list) else peer
        return active().call(RECV, lambda *_: wrapped(*args, **kwargs), instance, (key, key), {})

    return wrapper


def recv_into_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``recv_into(buffer, nbytes=0, flags=0)``: recorded as the bytes received, which replay
    copies into the program's buffer."""
    if LOCAL.busy or id(instance) not in _ids or not args:
        return wrapped(*args, **kwargs)
    buffer = memoryview(args[0]).cast("B")
    size = args[1] if len(args) > 1 and args[1] else kwargs.get("nbytes") or buffer.nbytes
    key = f"recv_into {size}" if len(args) < 3 else _text("recv_into", size, *args[2:])

    def really(*_: Any) -> bytes:
        count = wrapped(*args, **kwargs)
        return bytes(buffer[:count])

    data = active().call(RECV, really, instance, (key, key), {})
    buffer[:len(data)] = data
    return len(data)


def bind_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if not _connectable(instance) or not args:
        return wrapped(*args, **kwargs)
    _adopted.add(instance)
    key = _text("bind", _address(args[0]))
    return active().call(BIND, lambda *_: wrapped(*args, **kwargs), instance, (key, key), {})


def listen_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or not _ours(instance):
        return wrapped(*args, **kwargs)
    _listening.add(instance)
    key = _text("listen", *map(_address, args))
    return active().call(LISTEN, lambda *_: wrapped(*args, **kwargs), instance, (key, key), {})


def accept_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or not _ours(instance):
        return wrapped(*args, **kwargs)
    accepted: list[socket.socket] = []

    def really(*_: Any) -> Any:
        connection, peer = wrapped(*args, **kwargs)
        accepted.append(connection)
        return _address(peer)

    peer = active().call(ACCEPT, really, instance, ("accept", "accept"), {})
    connection = accepted[0] if accepted else socket.socket(instance.family, instance.type,
                                                            instance.proto)
    _adopted.add(connection)
    return connection, tuple(peer) if isinstance(peer, list) else peer


def address_wrapper(method: str) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy or id(instance) not in _ids:
            return wrapped(*args, **kwargs)
        found = active().call(ADDRESS, lambda *_: _address(wrapped(*args, **kwargs)), instance,
                              (method, method), {})
        return tuple(found) if isinstance(found, list) else found

    return wrapper


def shutdown_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if LOCAL.busy or id(instance) not in _ids:
        return wrapped(*args, **kwargs)
    key = _arguments("shutdown", args, kwargs)
    return active().call(SHUTDOWN, lambda *_: wrapped(*args, **kwargs), instance, (key, key), {})


class SocketsAdapter(Adapter):
    name = "sockets"
    modules = LIBRARY
    #: 2: a fingerprint is one string (``"sendall 9a0c3f1e 183"``); in 1 it was a list
    #: (``["sendall", [crc, 183]]``), which digests differently.
    events = 2
    #: ``socketserver`` runs the program's request handlers in threads it starts
    #: (``ThreadingMixIn``) and stops ``serve_forever`` with an Event: both order
    #: the program's own work, so the threading adapter records them as the program's.
    coordinating = ("socketserver",)

    def patches(self) -> list[Patch]:
        from . import readiness, tls

        return [
            Patch("socket", "getaddrinfo", wrapper=getaddrinfo_wrapper),
            Patch("socket", "socket.connect", wrapper=connect_wrapper("connect")),
            Patch("socket", "socket.connect_ex", wrapper=connect_wrapper("connect_ex")),
            Patch("socket", "socket.send", wrapper=send_wrapper("send")),
            Patch("socket", "socket.sendall", wrapper=send_wrapper("sendall")),
            Patch("socket", "socket.sendto", wrapper=send_wrapper("sendto")),
            Patch("socket", "socket.recv", wrapper=recv_wrapper("recv")),
            Patch("socket", "socket.recvfrom", wrapper=recv_wrapper("recvfrom")),
            Patch("socket", "socket.recv_into", wrapper=recv_into_wrapper),
            Patch("socket", "socket.bind", wrapper=bind_wrapper),
            Patch("socket", "socket.listen", wrapper=listen_wrapper),
            Patch("socket", "socket.accept", wrapper=accept_wrapper),
            Patch("socket", "socket.getpeername", wrapper=address_wrapper("getpeername")),
            Patch("socket", "socket.getsockname", wrapper=address_wrapper("getsockname")),
            Patch("socket", "socket.shutdown", wrapper=shutdown_wrapper),
            *tls.patches(),
            *readiness.patches(),
        ]

    def register_codecs(self, codecs: Any) -> None:
        codecs.allow_exceptions_from("ssl")


adapter = SocketsAdapter()
