"""asyncio streams: ``open_connection`` and the reads and writes of its reader and writer.

A program that talks to a server through asyncio streams with no client
library of its own still replays: opening the connection, each read and each
``drain`` are awaitable boundaries (:func:`retrace.aio.call`), and each write
is a plain boundary whose fingerprint is the bytes written, so a replay that
would send something else stops with a divergence. On replay the program
gets a real ``StreamReader`` and ``StreamWriter`` over a transport that
holds only the recorded peer and local addresses and touches no socket.

Closing runs as a boundary call in flight (its callbacks are the
transport's, not the program's), for real in both modes: on replay it only
marks the stand-in transport closing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.boundary import Args, Kwargs

LIBRARY = ("asyncio",)
EXTRA = ("peername", "sockname")


def _address(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    host = args[0] if args else kwargs.get("host")
    port = args[1] if len(args) > 1 else kwargs.get("port")
    return [host, port]


def _encode_pair(pair: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return addresses(pair[1])


class ReplayedTransport(asyncio.Transport):
    """The transport of a replayed connection: its recorded addresses, and no socket."""

    def __init__(self, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._closing = False

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True

    def write(self, data: Any) -> None:
        pass

    def writelines(self, list_of_data: Any) -> None:
        pass

    def write_eof(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return 0

    def is_reading(self) -> bool:
        return not self._closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def replayed_pair(recorded: Any, limit: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A reader and writer over a :class:`ReplayedTransport` with the recorded addresses."""
    loop = asyncio.get_running_loop()
    extra = {name: tuple(value) if type(value) is list else value for name, value in (recorded or {}).items()}
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = ReplayedTransport(extra)
    reader.set_transport(transport)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


def addresses(writer: asyncio.StreamWriter) -> dict[str, Any]:
    """What a trace keeps of a connection: its peer and local addresses."""
    return {name: writer.get_extra_info(name) for name in EXTRA}


def _decode_pair(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return replayed_pair(recorded, kwargs.get("limit", 2**16))


OPEN = Boundary(
    "asyncio.open_connection",
    fingerprint=_address,
    summary=lambda i, a, k: "open_connection {}:{}".format(*_address(i, a, k)),
    encode=_encode_pair,
    decode=_decode_pair,
    library=LIBRARY,
)


def open_connection(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return aio.call(OPEN, wrapped, None, args, kwargs)


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [list(args), sorted(kwargs.items())]


def _reads(method: str) -> Boundary:
    return Boundary(
        f"asyncio.StreamReader.{method}",
        fingerprint=_arguments,
        summary=lambda i, a, k: f"{method}{a!r}",
        library=LIBRARY,
    )


READS = {name: _reads(name) for name in ("read", "readline", "readexactly", "readuntil")}
AT_EOF = Boundary("asyncio.StreamReader.at_eof", library=LIBRARY)
WRITE = Boundary(
    "asyncio.StreamWriter.write",
    fingerprint=_arguments,
    summary=lambda i, a, k: f"write {len(a[0]) if a else 0} bytes",
    library=LIBRARY,
)
WRITELINES = Boundary(
    "asyncio.StreamWriter.writelines", fingerprint=lambda i, a, k: [list(a[0])], library=LIBRARY
)
WRITE_EOF = Boundary("asyncio.StreamWriter.write_eof", library=LIBRARY)
DRAIN = Boundary("asyncio.StreamWriter.drain", library=LIBRARY)
WAIT_CLOSED = Boundary("asyncio.StreamWriter.wait_closed", library=LIBRARY)


def _awaitable(boundary: Boundary) -> Any:
    def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        return aio.call(boundary, wrapped, instance, args, kwargs)

    return wrapper


def _in_flight(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    with runtime.in_flight():
        return wrapped(*args, **kwargs)


def patches() -> list[Patch]:
    module = "asyncio.streams"
    return [
        Patch(module, "open_connection", wrapper=open_connection),
        *(Patch(module, f"StreamReader.{name}", wrapper=_awaitable(b)) for name, b in READS.items()),
        Patch(module, "StreamReader.at_eof", AT_EOF),
        Patch(module, "StreamWriter.write", WRITE),
        Patch(module, "StreamWriter.writelines", WRITELINES),
        Patch(module, "StreamWriter.write_eof", WRITE_EOF),
        Patch(module, "StreamWriter.drain", wrapper=_awaitable(DRAIN)),
        Patch(module, "StreamWriter.wait_closed", wrapper=_awaitable(WAIT_CLOSED)),
        Patch(module, "StreamWriter.close", wrapper=_in_flight),
    ]
