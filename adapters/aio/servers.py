"""Servers inside the program: ``asyncio.start_server`` and its connections as boundaries.

A connection reaches a streams server from outside: the loop accepts it and
asyncio's protocol calls the program's ``client_connected_cb``. While
recording, that call is held back and handed to the program at a turn of its
own (``asyncio.turn`` of kind "accepted", followed by an
``asyncio.Server.accepted`` event holding which server and the connection's
addresses), as an awaited call's outcome is. Replay performs the turn with
a reader and writer over a stand-in transport (the ones
:mod:`.streams` gives a replayed client) and calls the program's callback
there, so a server replays with no client at all: what each connection
reads, writes and waits for is the streams' own boundaries.

``start_server`` itself, ``Server.start_serving``, ``serve_forever`` and
``wait_closed`` are awaited boundaries, and the program gets a
:class:`ServerView` in both runs: its ``sockets`` hold the recorded
listening addresses, so nothing is bound on replay and the sockets adapter
records nothing of them.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from typing import Any

from retrace import Boundary, Patch, aio, runtime
from retrace.adapters.aio import streams
from retrace.adapters.aio.calls import Arrival
from retrace.adapters.aio.loop import Driver, current_scheduler
from retrace.boundary import Args, Kwargs

LIBRARY = ("asyncio",)


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if type(value) in (str, bytes, int, float, bool, type(None)):
        return value
    return int(value) if isinstance(value, int) else repr(value)


def _where(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [_plain(list(args)), sorted(str(k) for k in kwargs)]


def _names(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return None, [tuple(name) if type(name) is list else name for name in recorded]


START = Boundary(
    "asyncio.start_server",
    fingerprint=_where,
    summary=lambda i, a, k: "start_server {}".format(" ".join(map(str, a))),
    encode=lambda out, i, a, k: _plain(out[1]),
    decode=_names,
    library=LIBRARY,
)
ACCEPTED = Boundary("asyncio.Server.accepted", library=LIBRARY)
START_SERVING = Boundary("asyncio.Server.start_serving", library=LIBRARY)
SERVE_FOREVER = Boundary("asyncio.Server.serve_forever", library=LIBRARY)
WAIT_CLOSED = Boundary("asyncio.Server.wait_closed", library=LIBRARY)


class Accepting:
    """The program's ``client_connected_cb``, handed each connection at a recorded turn."""

    def __init__(self, driver: Driver, callback: Any, limit: int) -> None:
        self.driver = driver
        self.callback = callback
        self.limit = limit
        self.number = len(driver.servers)
        self.tasks: set[asyncio.Task[Any]] = set()
        driver.servers.append(self)

    def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """asyncio's protocol, inside the loop's I/O: the program gets it at a turn (record)."""
        driver = self.driver
        if not driver.current():  # the session ended: a connection like any other
            self.run(reader, writer)
            return
        driver.loop.call_soon(Arrival(driver, functools.partial(self.arrived, reader, writer)))

    def arrived(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, recorded: bool) -> None:
        """Record: the turn is recorded; the connection's event follows, then the callback runs."""
        if recorded:
            found = [self.number, _plain(streams.addresses(writer))]
            self.driver.mode.call(ACCEPTED, lambda: found, None, (), {})
        self.run(reader, writer)

    def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Call the program's callback; a coroutine runs in a task, as asyncio's protocol does."""
        result = self.callback(reader, writer)
        if asyncio.iscoroutine(result):
            task = self.driver.loop.create_task(result)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


def replay_arrival(driver: Driver, serial: int) -> None:
    """Replay: the recorded connection reaches its server's callback, over a stand-in transport."""
    found = driver.mode.call(ACCEPTED, _unreachable_sync, None, (), {})
    if not (type(found) is list and len(found) == 2 and type(found[0]) is int):
        driver.fail_bad(ACCEPTED.name, found, "[server number, addresses]")
    number, addresses = found
    if number >= len(driver.servers):
        driver.diverge(f"the recording handed connection #{serial} to server #{number}; the replay "
                       f"started {len(driver.servers)} servers")
    accepting = driver.servers[number]
    accepting.run(*streams.replayed_pair(addresses, accepting.limit))


def _unreachable_sync(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("replay served this from the trace")


class ListeningSocket:
    """What ``Server.sockets`` holds in both runs: the recorded listening address, no socket."""

    def __init__(self, name: Any) -> None:
        self._name = name
        self.family = _family(name)

    def getsockname(self) -> Any:
        return self._name

    def fileno(self) -> int:
        return -1

    def __repr__(self) -> str:
        return f"<retrace listening socket {self._name!r}>"


def _family(name: Any) -> Any:
    if isinstance(name, str):
        return socket.AF_UNIX
    return socket.AF_INET6 if isinstance(name, tuple) and len(name) == 4 else socket.AF_INET


class ServerView(asyncio.AbstractServer):
    """The server a program gets from ``start_server``, in both runs.

    While recording it stands in front of asyncio's ``Server``; on replay
    there is none. Its state (serving or not) is its own, so both runs see
    the same; what waits on the real server is an awaited boundary.
    """

    def __init__(self, server: Any, names: list[Any], loop: asyncio.AbstractEventLoop, serving: bool) -> None:
        self._server = server
        self._sockets = tuple(ListeningSocket(name) for name in names)
        self._loop = loop
        self._serving = serving

    @property
    def sockets(self) -> tuple[ListeningSocket, ...]:
        return self._sockets

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    def close(self) -> None:
        self._serving = False
        if self._server is not None:
            with runtime.in_flight():  # its callbacks wake what waits on the real server
                self._server.close()

    def close_clients(self) -> None:
        if self._server is not None and hasattr(self._server, "close_clients"):
            with runtime.in_flight():
                self._server.close_clients()

    def abort_clients(self) -> None:
        if self._server is not None and hasattr(self._server, "abort_clients"):
            with runtime.in_flight():
                self._server.abort_clients()

    async def start_serving(self) -> None:
        if not self._serving:
            self._serving = True
            await aio.call(START_SERVING, self._real("start_serving"), self, (), {})

    async def serve_forever(self) -> None:
        self._serving = True
        try:
            await aio.call(SERVE_FOREVER, self._real("serve_forever"), self, (), {})
        except asyncio.CancelledError:
            self._serving = False  # asyncio's serve_forever closes the server when cancelled
            raise

    async def wait_closed(self) -> None:
        await aio.call(WAIT_CLOSED, self._real("wait_closed"), self, (), {})

    def _real(self, method: str) -> Any:
        async def real() -> Any:
            if self._server is not None:
                await getattr(self._server, method)()

        return real


def start_server(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Wrapper of ``asyncio.start_server(client_connected_cb, host, port, **kwds)``."""
    driver = current_scheduler()
    if driver is None or runtime.LOCAL.busy:
        return wrapped(*args, **kwargs)
    kwargs = dict(kwargs)
    callback = args[0] if args else kwargs.pop("client_connected_cb")
    rest = args[1:]
    accepting = Accepting(driver, callback, kwargs.get("limit", 2**16))
    driver.on_accept = replay_arrival

    async def started(*a: Any, **k: Any) -> Any:  # the real server; its addresses read while in flight
        server = await wrapped(accepting, *a, **k)
        return server, [s.getsockname() for s in server.sockets]

    return _view(aio.call(START, started, None, rest, kwargs), driver, kwargs.get("start_serving", True))


async def _view(call: Any, driver: Driver, serving: bool) -> ServerView:
    server, names = await call
    return ServerView(server, names, driver.loop, bool(serving))


def patches() -> list[Patch]:
    return [Patch("asyncio.streams", "start_server", wrapper=start_server)]
