"""What psycopg sends to the server: the ``PGconn.send_*`` calls, noted for the next round trip.

These calls carry the SQL text and the dumped parameters. They are not events
of their own: each is noted, and the notes become the fingerprint of the round
trip that follows (``retrace.adapters.psycopg.roundtrips``), so a query costs
one event and a changed query or parameter still diverges at the line that
executed it. On record the real ``PGconn`` methods are patched; on replay
:class:`~retrace.adapters.psycopg.offline.OfflinePGconn` notes the same way.
Only the SQL text goes into the summary shown in divergence reports (parameters
may be secrets; they reach the trace only as part of the digest).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from retrace import Patch, runtime
from retrace.boundary import Args, Kwargs

MAX_SQL = 120
METHODS = (
    "send_query", "send_query_params", "send_prepare", "send_query_prepared",
    "send_describe_prepared", "send_describe_portal",
)
METHODS_SINCE_3_2 = ("send_close_prepared", "send_close_portal")
# Pipeline mode: messages queued for the server like the sends above (a Sync, a Flush).
PIPELINE_METHODS = ("pipeline_sync", "send_flush_request")


def _plain(value: Any) -> Any:
    """Parameters as bytes/ints/None whatever buffer type a dumper produced.

    C dumpers give ``bytearray``, Python ones ``bytes``, and a replay uses the
    Python ones for most types, so the fingerprint must not tell them apart. Every note runs
    through here, so the conversion for each type is looked up, once found.
    """
    if value is None:
        return None
    kind = type(value)
    return (_CONVERTERS.get(kind) or _converter(kind))(value)


def _plain_sequence(values: Any) -> list[Any]:
    """A list of plain values; the common lists (parameters all ``bytearray``, formats all
    ``psycopg.pq.Format``) converted in C, without a Python call per item."""
    kinds = set(map(type, values))
    if kinds <= _PLAIN:
        return list(values)
    get = _CONVERTERS.get
    if len(kinds) == 1:
        (kind,) = kinds
        return list(map(get(kind) or _converter(kind), values))
    return [v if v is None or (t := type(v)) is bytes else (get(t) or _converter(t))(v)
            for v in values]


# Builtins that return what they are given for their own exact type (bytes(b) is b).
_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    bytes: bytes, str: str, int: int, bytearray: bytes, memoryview: bytes,
    list: _plain_sequence, tuple: _plain_sequence,
}


#: The types a note keeps as they are (exact types: ``bool`` and IntEnums become ints).
_PLAIN = frozenset((bytes, int, str, type(None)))


def _converter(kind: type) -> Callable[[Any], Any]:
    """The conversion for a type not seen yet: IntEnums (``psycopg.pq.Format``) become ints."""
    found: Callable[[Any], Any]
    if issubclass(kind, (bytes, str)):
        found = _same
    elif issubclass(kind, int):
        found = int
    elif issubclass(kind, (bytearray, memoryview)):
        found = bytes
    elif issubclass(kind, (list, tuple)):
        found = _plain_sequence
    else:
        found = repr
    if len(_CONVERTERS) < 64:
        _CONVERTERS[kind] = found
    return found


def _same(value: Any) -> Any:
    return value


class _Outbox(threading.local):
    notes: list[Any] | None = None


_outbox = _Outbox()


def note(method: str, args: Args, kwargs: Kwargs) -> None:
    """Note one send for the next round trip on this thread, as plain data: the method,
    then its arguments (keywords sorted by name).

    Runs for every query, so the common shapes (SQL text, a list of dumped
    parameters, formats) are converted here without a call per argument.
    """
    found: list[Any] = [method]
    for value in args:
        kind = type(value)
        if kind is bytes:
            found.append(value)
        elif kind is list or kind is tuple:
            found.append(_plain_sequence(value))
        else:
            found.append(_plain(value))
    if kwargs:
        get = _CONVERTERS.get
        for key in sorted(kwargs):
            value = kwargs[key]
            kind = type(value)
            if kind is list or kind is tuple:
                value = _plain_sequence(value)
            elif value is not None and kind is not bytes:
                value = (get(kind) or _converter(kind))(value)
            found += (key, value)
    notes = _outbox.notes
    if notes is None:
        notes = _outbox.notes = []
    notes.append(found)


def take() -> list[Any]:
    """The sends since the last round trip on this thread, oldest first."""
    notes = _outbox.notes
    _outbox.notes = None
    return notes or []


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


_described: dict[tuple[Any, ...], str] = {}


def statement_key(notes: list[Any]) -> tuple[Any, ...]:
    """What :func:`describe` says depends on: the number of sends, the last one's method and
    statement (SQL text or prepared name) and its number of parameters."""
    if not notes:
        return ()
    last = notes[-1]
    return (len(notes), last[0], last[1] if len(last) > 1 else None,
            len(last[2]) if len(last) > 2 and isinstance(last[2], list) else 0)


def describe(notes: list[Any]) -> str:
    """The last send of a round trip, for divergence reports: SQL text, no parameter values.

    Cached by statement: a program runs the same statements over and over.
    """
    if not notes:
        return ""
    key = statement_key(notes)
    text = _described.get(key)
    if text is None:
        text = _describe(notes)
        if len(_described) < 4096:
            _described[key] = text
    return text


def _describe(notes: list[Any]) -> str:
    method, *args = notes[-1]
    more = f" (after {len(notes) - 1} more send(s))" if len(notes) > 1 else ""
    if method in ("send_query", "send_query_params"):
        sql = " ".join(_text(args[0]).split()) if args else ""
        sql = sql if len(sql) <= MAX_SQL else sql[: MAX_SQL - 1] + "…"
        count = len(args[1]) if method == "send_query_params" and len(args) > 1 and args[1] else 0
        return f"{sql!r} with {count} parameter(s){more}" if count else f"{sql!r}{more}"
    if method == "send_prepare" and len(args) > 1:
        return f"prepare {_text(args[0])!r} as {_text(args[1])[:MAX_SQL]!r}{more}"
    if method == "send_query_prepared" and args:
        count = len(args[1]) if len(args) > 1 and args[1] else 0
        return f"execute prepared {_text(args[0])!r} with {count} parameter(s){more}"
    return f"{method} " + " ".join(repr(_text(a)) for a in args) + more


def _noting(method: str) -> Any:
    def retrace_psycopg_send(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if runtime.active().name != "passthrough":
            note(method, args, kwargs)
        return wrapped(*args, **kwargs)

    return retrace_psycopg_send


def patches(since_3_2: bool) -> list[Patch]:
    """The real ``PGconn`` methods (whichever implementation psycopg loaded)."""
    methods = METHODS + PIPELINE_METHODS + (METHODS_SINCE_3_2 if since_3_2 else ())
    return [Patch("psycopg.pq", f"PGconn.{m}", wrapper=_noting(m)) for m in methods]


def offline(method: str) -> Callable[..., None]:
    """The ``PGconn`` method ``method`` of an offline connection: noted for the next
    round trip, sends nothing."""

    def send(self: Any, *args: Any, **kwargs: Any) -> None:
        note(method, args, kwargs)

    send.__name__ = send.__qualname__ = method
    return send


def not_supported(what: str) -> Exception:
    import psycopg

    return psycopg.NotSupportedError(
        f"retrace does not record {what} with psycopg yet (see docs/adapters/psycopg.md)"
    )
