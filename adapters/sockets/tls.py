"""TLS on a recorded socket: the plaintext, recorded at the ``ssl.SSLSocket`` level.

The bytes on the wire are encrypted with keys that differ on every run, so
what is recorded is what the program sent and received in clear:
``SSLSocket.send``/``sendall``/``write`` are ``socket.send`` events (a CRC
of the plaintext) and ``recv``/``recv_into``/``read`` are ``socket.recv``
events holding the plaintext. The handshake is one event (its outcome, or
the error: a certificate that does not verify raises the same
``ssl.SSLCertVerificationError`` on replay), and so are the facts the
program can ask of the session afterwards (``getpeercert``, ``cipher``,
``version``, ``selected_alpn_protocol``, ``pending``).

Only a socket the sockets adapter adopted (it ``connect``-ed as a boundary)
is handled, and ``wrap_socket`` passes that adoption on to the
``SSLSocket`` it makes. On replay that ``SSLSocket`` is made over the
unconnected socket without a handshake: no key exchange, nothing sent.
"""

from __future__ import annotations

from typing import Any

from retrace import Patch
from retrace.boundary import Args, Kwargs
from retrace.runtime import call

from . import RECV, _adopted, _boundary, _ours, _text, recv_into_wrapper, recv_wrapper, send_wrapper

HANDSHAKE = _boundary("ssl.SSLSocket.do_handshake", blocking=True)
INFO = _boundary("ssl.SSLSocket.info")


def create_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``SSLSocket._create(sock, ...)``: adopt the new socket, and make its handshake an event."""
    sock = kwargs.get("sock", args[0] if args else None)
    if not _ours(sock):
        return wrapped(*args, **kwargs)
    handshake = kwargs.get("do_handshake_on_connect", True)
    if len(args) > 2:
        args = (*args[:2], False, *args[3:])
    else:
        kwargs = dict(kwargs, do_handshake_on_connect=False)
    secure = wrapped(*args, **kwargs)
    secure.do_handshake_on_connect = handshake
    _adopted.add(secure)
    if handshake:
        try:
            secure.do_handshake()
        except (OSError, ValueError):
            secure.close()  # as _create does: a failed handshake leaves no socket open
            raise
    return secure


def handshake_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if not _ours(instance):
        return wrapped(*args, **kwargs)
    key = _text("do_handshake", instance.server_hostname)
    return call(HANDSHAKE, lambda *_: wrapped(*args, **kwargs), key, key)


def read_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``read(len=1024, buffer=None)``: like ``recv``, or ``recv_into`` with a buffer."""
    if not _ours(instance):
        return wrapped(*args, **kwargs)
    size = args[0] if args else kwargs.get("len", 1024)
    buffer = args[1] if len(args) > 1 else kwargs.get("buffer")
    if buffer is None:
        return recv_wrapper("read")(wrapped, instance, (size,), {})
    view = memoryview(buffer).cast("B")

    def really(*_: Any) -> bytes:
        count = wrapped(size, view)
        return bytes(view[:count])

    key = _text("read_into", size)
    data = call(RECV, really, key, key)
    view[:len(data)] = data
    return len(data)


def info_wrapper(method: str) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if not _ours(instance):
            return wrapped(*args, **kwargs)
        key = _text(method, *args)
        return call(INFO, lambda *_: wrapped(*args, **kwargs), key, key)

    return wrapper


def patches() -> list[Patch]:
    found = [
        Patch("ssl", "SSLSocket._create", wrapper=create_wrapper),
        Patch("ssl", "SSLSocket.do_handshake", wrapper=handshake_wrapper),
        Patch("ssl", "SSLSocket.send", wrapper=send_wrapper("send")),
        Patch("ssl", "SSLSocket.sendall", wrapper=send_wrapper("sendall")),
        Patch("ssl", "SSLSocket.write", wrapper=send_wrapper("write")),
        Patch("ssl", "SSLSocket.recv", wrapper=recv_wrapper("recv")),
        Patch("ssl", "SSLSocket.recv_into", wrapper=recv_into_wrapper),
        Patch("ssl", "SSLSocket.read", wrapper=read_wrapper),
    ]
    found += [Patch("ssl", f"SSLSocket.{name}", wrapper=info_wrapper(name))
              for name in ("getpeercert", "cipher", "version", "selected_alpn_protocol", "pending")]
    return found
