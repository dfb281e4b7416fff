"""Round trips: psycopg's I/O generators as boundaries.

psycopg expresses every exchange with the server as a small generator in
``psycopg.generators`` (``connect``, ``execute``, ``fetch``, ``copy_to``...)
driven by a wait function in ``psycopg.waiting``; in the C implementation
both are compiled and call libpq directly. Patching these functions is the
lowest seam both implementations share, so everything above it (query
conversion, adaptation, row factories, transactions, errors built from
results) runs for real on replay.

- **record**: the real generator runs inside a wrapper generator; when it
  returns, one event holds its value (results as data), the connection state
  after it, and the notices and notifications libpq delivered meanwhile. When
  the wait function gives up on a generator (a timeout, Ctrl-C), the event
  holds that exception instead.
- **replay**: a generator that never yields takes the event, updates the
  offline connection, delivers the notices and notifications, and returns
  offline results (or raises the recorded exception).

psycopg's own wait loops (Python, or compiled in ``_psycopg``) read the clock
to compute deadlines; those readings are I/O timing below the boundary, so
they get the real clock and are not events.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Generator
from typing import Any, NoReturn

from retrace import Boundary, Patch, later, runtime
from retrace.adapters.psycopg import LIBRARY, compact, offline, sends, wire
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording

#: The real clock: this module is imported when the program imports psycopg, by which
#: time the clock adapter may have patched ``time`` (its wrapper keeps the original).
_real_monotonic = getattr(time.monotonic, "__wrapped__", time.monotonic)


class _Pending:
    """A round trip in progress on this thread."""

    __slots__ = ("boundary", "callbacks", "done", "fp_args")

    def __init__(self, boundary: Boundary, fp_args: Args) -> None:
        self.boundary = boundary
        self.fp_args = fp_args
        self.callbacks: list[Any] = []
        self.done = False


class Collector:
    """The round trips of one async wait a recording drives apart from the program's task.

    Their events are not made where the round trips end (another task's
    step) but kept here, and made by the task that waited once the loop
    hands it the outcome (:func:`flush`): where replay, which drives the
    same generators at that point, takes them. See :mod:`.aio`.
    """

    __slots__ = ("events", "pending")

    def __init__(self) -> None:
        #: (boundary, outcome function, fingerprint args, pgconn, callbacks) per round trip
        self.events: list[tuple[Boundary, Callable[..., Any], Args, Any, list[Any] | None]] = []
        self.pending: _Pending | None = None


class _Local(threading.local):
    pending: _Pending | None = None
    collector: Collector | None = None


_local = _Local()
# Markers inside recorded values (ints: a round trip's data holds no text).
COPY_DATA, COPY_RESULT = 0, 1
NOTICE, NOTIFY = 0, 1
#: The server-reported parameters last recorded per connection: ``id(pgconn)`` to a weak
#: reference whose callback drops the entry, and the parameters. (A ``WeakKeyDictionary``
#: makes a weak reference on every lookup, and this is looked up on every round trip.)
_parameters: dict[int, tuple[weakref.ref[Any], list[Any]]] = {}


def _parameters_changed(pgconn: Any, parameters: list[Any]) -> bool:
    """Whether ``parameters`` differ from those last recorded for ``pgconn``; remembers them."""
    key = id(pgconn)
    known = _parameters.get(key)
    if known is not None and known[1] == parameters:
        return False
    ref = known[0] if known is not None else weakref.ref(pgconn, lambda _: _parameters.pop(key, None))
    _parameters[key] = (ref, parameters)
    return True


# -- values: what each generator returns, as trace data and back ----------------
def _none(value: Any) -> Any:
    return None


def _result_or_none(value: Any) -> Any:
    return None if value is None else wire.result(value)


def _offline_result_or_none(plain: Any) -> Any:
    return None if plain is None else offline.OfflinePGresult(plain)


def _copy_data(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return [COPY_DATA, bytes(value)]
    return [COPY_RESULT, wire.result(value)]


def _offline_copy_data(plain: Any) -> Any:
    kind, payload = plain
    if kind == COPY_DATA:
        return memoryview(compact.as_bytes(payload))
    return offline.OfflinePGresult(payload)


def _notifies(value: Any) -> Any:
    return [wire.notify(n) for n in value]


def _offline_notifies(plain: Any) -> Any:
    from psycopg.pq import PGnotify

    return [PGnotify(*compact.as_bytes(n)) for n in plain]


def _offline_results(plain: Any) -> Any:
    return list(map(offline.OfflinePGresult, plain))


def _pipeline_results(value: Any) -> Any:
    return [wire.results(results) for results in value]


def _offline_pipeline_results(plain: Any) -> Any:
    return [_offline_results(results) for results in plain]


Pack = Callable[[Any], Any]
KINDS: dict[str, tuple[Pack, Pack]] = {
    "execute": (wire.results, _offline_results),
    "fetch_many": (wire.results, _offline_results),
    "fetch": (_result_or_none, _offline_result_or_none),
    "send": (_none, _none),
    "notifies": (_notifies, _offline_notifies),
    "copy_from": (_copy_data, _offline_copy_data),
    "copy_to": (_none, _none),
    "copy_end": (wire.result, offline.OfflinePGresult),
    "pipeline_communicate": (_pipeline_results, _offline_pipeline_results),
}
# In pipeline mode psycopg queues its sends and this round trip makes them (the
# queue is its second argument): what it sends belongs to its own fingerprint.
SENDS_INSIDE = "pipeline_communicate"


def _fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """What was sent since the last round trip (and the COPY data or error this one sends).

    The sends' text (see :func:`.sends.note`): one string, which the core digests
    without a walk; with COPY data, the text and the data's bytes.
    """
    text = sends.text(args[0]) if args else ""
    if len(args) > 1 and args[1] is not None:
        data = args[1]
        return [text, data if type(data) is bytes else bytes(data)]
    return text


def _summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    text = sends.describe(args[0]) if args else ""
    if len(args) > 1 and args[1] is not None:
        text += f" ({len(args[1])} bytes)"
    return text


def _summary_key(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """The recorder formats a round trip's summary once per statement (None with COPY data,
    whose size is in the summary)."""
    if len(args) > 1 and args[1] is not None:
        return None
    return sends.statement_key(args[0]) if args else ()


def _connect_fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    from retrace.adapters.psycopg.conninfo import without_password

    return without_password(args[0] if args else "")


def _connect_summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    from retrace.adapters.psycopg.conninfo import describe

    return describe(args[0] if args else "")


# A round trip's event holds its trace form (a string, a snapshot): the boundary call
# returns that, and the program gets the real value from the wrapper generator.
BOUNDARIES = {
    name: Boundary(f"psycopg.{name}", fingerprint=_fingerprint, summary=_summary,
                   summary_key=_summary_key, library=LIBRARY)
    for name in KINDS
}
CONNECT = Boundary("psycopg.connect", fingerprint=_connect_fingerprint, summary=_connect_summary,
                   library=LIBRARY, blocking=True)


# -- record ---------------------------------------------------------------------
def _stepped(gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """``yield from gen``, each step in flight: what the libpq wrapper does is not recorded.

    Only connecting needs it (the ctypes ``PGconn`` reads ``os.getpid()``); the
    round trips after it run libpq calls alone, and skip the cost.
    """
    sent: Any = None
    while True:
        with runtime.in_flight():
            try:
                wanted = gen.send(sent)
            except StopIteration as stop:
                return stop.value
        try:
            sent = yield wanted
        except GeneratorExit:
            with runtime.in_flight():
                gen.close()
            raise


def _give(recorded: Any) -> Callable[..., Any]:
    def give(*_: Any) -> Any:
        return recorded

    return give


def _raise(exc: BaseException) -> Callable[..., Any]:
    def reraise(*_: Any) -> Any:
        raise exc

    return reraise


def _detach_result(exc: BaseException) -> None:
    """Give a psycopg error an offline copy of its libpq result, so its ``diag`` is recorded.

    The program gets the same values either way; only the copy can be encoded.
    """
    info = getattr(exc, "_info", None)
    if info is not None and not isinstance(info, (dict, offline.OfflinePGresult)):
        try:
            exc._info = offline.OfflinePGresult(wire.result(info))  # type: ignore[attr-defined]
        except Exception:  # a result libpq already freed: keep what psycopg has
            return


def _end(pending: _Pending) -> None:
    pending.done = True
    if _local.pending is pending:
        _local.pending = None


def _after(pgconn: Any) -> tuple[int, list[Any] | None]:
    """The connection's state after a round trip, and its parameters if they changed.

    :func:`.wire.state` and :func:`.wire.parameters`, inlined: this runs for
    every query, and at once (the next round trip changes both).
    """
    parameters = list(map(pgconn.parameter_status, wire.PARAMETERS))
    return (pgconn.pipeline_status * 256 + pgconn.status * 16 + pgconn.transaction_status,
            parameters if _parameters_changed(pgconn, parameters) else None)


def _packed(plain: Any, state: int, changed: list[Any] | None, callbacks: list[Any]) -> str:
    """``[value, state]``, then changed parameters and callbacks when there are any."""
    packed = [plain, state]
    if changed is not None or callbacks:
        packed += (changed, callbacks or None)
    return compact.dumps(packed)


_UNREAD = object()


def _results(value: Any) -> Any:
    """The libpq results in a round trip's value (a list of them, one, or None)."""
    if type(value) is list:
        return value
    return () if value is None else (value,)


class _Outcome:
    """A round trip's event value, made from its results when the event is settled.

    A libpq result does not change once made, so reading it can wait until the
    thread next waits for the server (see :mod:`retrace.later`), or until
    someone clears it (:func:`_read_first`); the state and parameters cannot,
    and are read at once.
    """

    __slots__ = ("callbacks", "changed", "pack", "plain", "state", "value")

    def __init__(self, pack: Pack, value: Any, pgconn: Any, callbacks: list[Any]) -> None:
        self.pack = pack
        self.value = value
        self.plain: Any = _UNREAD
        self.state, self.changed = _after(pgconn)
        self.callbacks = callbacks
        for result in _results(value):
            _unread[id(result)] = self

    def read(self) -> None:
        """Read the results now (once), while no other thread makes an event: a result
        the program clears is not read meanwhile by the writer's thread (freed memory)."""
        with later.making():
            if self.plain is _UNREAD:
                value = self.value
                self.plain = self.pack(value)
                self.value = None
                for result in _results(value):
                    _unread.pop(id(result), None)

    def __call__(self) -> str:
        self.read()
        return _packed(self.plain, self.state, self.changed, self.callbacks)


#: Results an event still has to read: ``id(result)`` to its outcome. Such a result is not
#: freed (the outcome holds it), but the program may clear it.
_unread: dict[int, _Outcome] = {}


#: Round trips whose value only reads libpq results, which stay as they are: their events
#: are made later (COPY data is a view of libpq memory, and a pipeline's nests lists).
SETTLED_LATER = frozenset({"execute", "fetch_many", "fetch"})


def _recorded(kind: str, gen: Generator[Any, Any, Any], pgconn: Any,
              fp_args: Args) -> Generator[Any, Any, Any]:
    boundary = BOUNDARIES[kind]
    local = _local
    pending = local.pending = _Pending(boundary, fp_args)
    try:
        value = yield from gen
    except GeneratorExit:
        _end(pending)
        raise
    except BaseException as exc:
        _end(pending)
        _detach_result(exc)
        _emit(boundary, _raise(exc), fp_args, pgconn, None)
        raise
    pending.done = True
    if local.pending is pending:
        local.pending = None
    if kind == SENDS_INSIDE:
        fp_args = (fp_args[0] + sends.take(),)
    callbacks = pending.callbacks
    outcome = _Outcome(KINDS[kind][0], list(value) if type(value) is list else value, pgconn,
                       callbacks)
    if local.collector is not None:
        local.collector.events.append((boundary, _give(outcome()), fp_args, pgconn, callbacks))
        return value
    mode = runtime.active()
    if not (kind in SETTLED_LATER and isinstance(mode, runtime.Recorder)
            and mode.later(boundary, fp_args, outcome) is not None):
        mode.call(boundary, _give(outcome()), None, fp_args, {})
    return value


def _emit(boundary: Boundary, outcome: Callable[..., Any], fp_args: Args, pgconn: Any,
          callbacks: list[Any] | None) -> None:
    """Record a round trip's event now, or keep it for the task that waits (async, see Collector)."""
    collector = _local.collector
    if collector is None:
        runtime.call(boundary, outcome, *fp_args)
    else:
        collector.events.append((boundary, outcome, fp_args, pgconn, callbacks))


def _recorded_connect(gen: Generator[Any, Any, Any], conninfo: str) -> Generator[Any, Any, Any]:
    pending = _local.pending = _Pending(CONNECT, (conninfo,))
    try:
        pgconn = yield from _stepped(gen)
    except GeneratorExit:
        _end(pending)
        raise
    except BaseException as exc:
        _end(pending)
        runtime.call(CONNECT, _raise(exc), conninfo)
        raise
    _end(pending)
    snapshot = wire.connection(pgconn)
    _parameters_changed(pgconn, snapshot["parameters"])
    runtime.call(CONNECT, _give(snapshot), conninfo)
    return pgconn


# -- replay ---------------------------------------------------------------------
def _unreachable(*_: Any) -> Any:
    raise AssertionError("retrace replay reached a real psycopg round trip")


def _bad(message: str) -> NoReturn:
    exc = BadRecording(message)
    cursor = getattr(runtime.active(), "cursor", None)
    if cursor is not None:
        cursor.on_divergence(exc)
    raise exc


def _deliver(pgconn: Any, callbacks: Any) -> None:
    """Call the program's handlers with the recorded notices and notifications, as part
    of the round trip (as when recording, see _capture)."""
    from psycopg.pq import PGnotify

    with runtime.in_flight():
        _call_handlers(pgconn, callbacks, PGnotify)


def _call_handlers(pgconn: Any, callbacks: Any, notify_class: Any) -> None:
    for kind, payload in callbacks:
        if kind == NOTICE and pgconn.notice_handler is not None:
            pgconn.notice_handler(offline.OfflinePGresult(payload))
        elif kind == NOTIFY and pgconn.notify_handler is not None:
            pgconn.notify_handler(notify_class(*compact.as_bytes(payload)))


def _replayed(kind: str, pgconn: Any, fp_args: Args) -> Generator[Any, Any, Any]:
    """The recorded outcome; a malformed one stops the replay the way the core stops it."""
    try:
        packed = compact.loads(
            runtime.active().call(BOUNDARIES[kind], _unreachable, None, fp_args, {}))
    except BadRecording as exc:
        _bad(str(exc))
    try:
        value = KINDS[kind][1](packed[0])
        if isinstance(pgconn, offline.OfflinePGconn):
            pgconn.update(packed[1], compact.as_bytes(packed[2]) if len(packed) > 2 else None)
        callbacks = packed[3] if len(packed) > 3 else None
    except (ValueError, TypeError, IndexError, KeyError, UnicodeEncodeError) as exc:
        _bad(f"a psycopg event in the recording is malformed ({exc!r})")
    if callbacks and isinstance(pgconn, offline.OfflinePGconn):
        _deliver(pgconn, callbacks)
    return value
    yield  # a generator that never yields: psycopg's wait loop finishes at once


def _send_queued(commands: Any) -> None:
    """What ``pipeline_communicate`` does with psycopg's queue, on an offline connection.

    It makes every queued send (each is noted, see :mod:`.sends`) before it
    returns, so the queue is empty afterwards, as psycopg expects.
    """
    while commands:
        commands.popleft()()


def _replayed_connect(conninfo: str) -> Generator[Any, Any, Any]:
    snapshot = runtime.call(CONNECT, _unreachable, conninfo)
    return offline.connection(snapshot)
    yield  # a generator that never yields


# -- patches --------------------------------------------------------------------
def _generator_wrapper(kind: str) -> Callable[[Any, Any, Args, Kwargs], Any]:
    """The wrapper of one I/O generator; a generator called while a round trip runs on
    this thread is that round trip's own.

    ``execute`` is ``send`` then ``fetch_many`` inside psycopg (in Python and
    in the compiled module alike). Those inner calls reach these wrappers when
    psycopg was imported before the session started: the core's alias sweep
    then points psycopg's internal names at the wrappers too. They are part of
    the outer round trip's event, not events of their own.
    """

    def retrace_psycopg_round_trip(wrapped: Any, instance: Any, args: Args,
                                   kwargs: Kwargs) -> Any:
        mode = runtime.active().name
        pending = _local.pending
        if mode == "passthrough" or (pending is not None and not pending.done):
            return wrapped(*args, **kwargs)  # not recorded, or part of a round trip (above)
        pgconn = args[0]
        if kind == SENDS_INSIDE:
            if mode == "replay":
                _send_queued(args[1])
                return _replayed(kind, pgconn, (sends.take(),))
            return _recorded(kind, wrapped(*args, **kwargs), pgconn, (sends.take(),))
        fp_args = (sends.take(), *args[1:2])
        if mode == "replay":
            return _replayed(kind, pgconn, fp_args)
        return _recorded(kind, wrapped(*args, **kwargs), pgconn, fp_args)

    return retrace_psycopg_round_trip


def _connect_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    mode = runtime.active().name
    if mode == "passthrough":
        return wrapped(*args, **kwargs)
    conninfo = args[0] if args else kwargs.get("conninfo", "")
    if mode == "replay":
        return _replayed_connect(conninfo)
    return _recorded_connect(wrapped(*args, **kwargs), conninfo)


def _wait_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """On record, a wait that gives up (timeout, Ctrl-C) ends the round trip it drove."""
    try:
        return wrapped(*args, **kwargs)
    except BaseException as exc:
        pending = _local.pending
        if pending is not None and not pending.done and runtime.active().name == "record":
            _end(pending)
            runtime.call(pending.boundary, _raise(exc), *pending.fp_args)
        raise


def _capture(kind: int, encode: Callable[[Any], Any]) -> Callable[[Any, Any, Args, Kwargs], Any]:
    def retrace_psycopg_callback(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        pending = _local.pending
        if pending is not None and runtime.active().name == "record" and len(args) > 1:
            pending.callbacks.append([kind, encode(args[1])])
            if _local.collector is not None:  # an async wait: the handlers run at flush, as on replay
                return None
        # Part of the round trip, as on replay (see _deliver): what the program's handler
        # does (print) happens inside the round trip's event, not as events of its own.
        with runtime.in_flight():
            return wrapped(*args, **kwargs)

    return retrace_psycopg_callback


# -- record, async: round trips driven apart from the program's task -----------------
def attributed(gen: Generator[Any, Any, Any], collector: Collector) -> Generator[Any, Any, Any]:
    """``yield from gen`` with ``collector`` and its round trip current during each step.

    Several async waits interleave on one thread; each step of this one sees
    its own round trip in progress (for notices, and nested generators) and
    hands its events to its own collector.
    """
    sent: Any = None
    while True:
        saved = _local.pending, _local.collector
        _local.pending, _local.collector = collector.pending, collector
        try:
            wanted = gen.send(sent)
        except StopIteration as stop:
            return stop.value
        finally:
            collector.pending = _local.pending
            _local.pending, _local.collector = saved
        try:
            sent = yield wanted
        except GeneratorExit:
            saved = _local.pending, _local.collector
            _local.pending, _local.collector = collector.pending, collector
            try:
                gen.close()
            finally:
                _local.pending, _local.collector = saved
            raise


def gave_up(collector: Collector, exc: BaseException) -> None:
    """The wait ended with ``exc`` in the middle of a round trip: that is its outcome (as
    :func:`_wait_wrapper` records for synchronous waits)."""
    pending = collector.pending
    if pending is not None and not pending.done:
        _end(pending)
        collector.events.append((pending.boundary, _raise(exc), pending.fp_args, None, None))


def flush(collector: Collector) -> None:
    """Make the kept events in the task that waited, then call the program's notice and
    notification handlers, in the order replay takes and delivers them."""
    events, collector.events = collector.events, []
    for boundary, outcome, fp_args, pgconn, callbacks in events:
        try:
            runtime.call(boundary, outcome, *fp_args)
        except BaseException:  # the round trip's error, recorded; the wait raises it on its own
            continue
        if callbacks:
            _deliver(pgconn, callbacks)


def _quiet(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Run a libpq-wrapper housekeeping call (``PGconn.__del__``) as part of no event."""
    with runtime.in_flight():
        return wrapped(*args, **kwargs)


def _read_first(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """A result cleared while an event still has to read it (the program cleared it
    itself) is read first. Freeing a result clears it too, in the C implementation
    through this method: then no event holds it, and this is one lookup."""
    outcome = _unread.get(id(instance))
    if outcome is not None:
        outcome.read()
    return wrapped(*args, **kwargs)


def _real_clock(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return _real_monotonic()


def patches(version: tuple[int, int]) -> list[Patch]:
    found = [Patch("psycopg.generators", "connect", wrapper=_connect_wrapper)]
    found += [Patch("psycopg.generators", kind, wrapper=_generator_wrapper(kind)) for kind in KINDS]
    found += [Patch("psycopg.waiting", name, wrapper=_wait_wrapper) for name in ("wait", "wait_conn")]
    base = "psycopg.connection" if version < (3, 2) else "psycopg._connection_base"
    found += [
        Patch(base, "BaseConnection._notice_handler", wrapper=_capture(NOTICE, wire.result)),
        Patch(base, "BaseConnection._notify_handler", wrapper=_capture(NOTIFY, wire.notify)),
    ]
    found.append(Patch("psycopg.pq.pq_ctypes", "PGconn.__del__", wrapper=_quiet))
    found.append(Patch("psycopg.pq", "PGresult.clear", wrapper=_read_first))
    if version >= (3, 3):
        compiled = ("psycopg.waiting", "psycopg_binary._psycopg", "psycopg_c._psycopg")
        found += [Patch(module, "monotonic", wrapper=_real_clock) for module in compiled]
    return found
