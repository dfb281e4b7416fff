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
from retrace.adapters.psycopg import compact
from retrace.boundary import Args, Kwargs

MAX_SQL = 120
METHODS = (
    "send_query", "send_query_params", "send_prepare", "send_query_prepared",
    "send_describe_prepared", "send_describe_portal",
)
METHODS_SINCE_3_2 = ("send_close_prepared", "send_close_portal")
# Pipeline mode: messages queued for the server like the sends above (a Sync, a Flush).
PIPELINE_METHODS = ("pipeline_sync", "send_flush_request")


#: One send: the method and its arguments, their text made later (see :func:`text`).
Note = tuple[str, Args, Kwargs]


class _Outbox(threading.local):
    notes: list[Note] | None = None


_outbox = _Outbox()


def note(method: str, args: Args, kwargs: Kwargs) -> None:
    """Note one send for the next round trip on this thread.

    Its text is made later, so nothing in it may change meanwhile. psycopg
    makes new lists for every query, but a parameter that is not ``bytes`` may
    be the program's own buffer (psycopg's Python dumper passes a
    ``bytearray`` or ``memoryview`` on as it is): those are copied.
    """
    if len(args) > 1 and type(args[1]) in (list, tuple):  # the parameters of a query
        args = (args[0], [p if p is None or type(p) is bytes else bytes(p) for p in args[1]],
                *args[2:])
    found = (method, args, kwargs)
    notes = _outbox.notes
    if notes is None:
        _outbox.notes = [found]
    else:
        notes.append(found)


def take() -> list[Note]:
    """The sends since the last round trip on this thread, oldest first."""
    notes = _outbox.notes
    _outbox.notes = None
    return notes or []


def text(notes: list[Note]) -> str:
    """What a round trip's sends say, as one text (part of its fingerprint).

    Each send is its method and arguments in one call of the C JSON encoder
    (:func:`~retrace.adapters.psycopg.compact.send_text`), keywords sorted by
    name. The text is the same whichever implementation made the call: C
    dumpers give ``bytearray`` and ``psycopg.pq.Format`` members where the
    Python ones, which a replay uses for most types, give ``bytes`` and ints.
    """
    if len(notes) == 1:
        return compact.send_text(notes[0])
    return "\n".join([compact.send_text(found) for found in notes])


def _as_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


_described: dict[tuple[Any, ...], str] = {}


def statement_key(notes: list[Note]) -> tuple[Any, ...]:
    """What :func:`describe` says depends on: the number of sends, the last one's method and
    statement (SQL text or prepared name) and its number of parameters."""
    if not notes:
        return ()
    method, args, _kwargs = notes[-1]
    return (len(notes), method, args[0] if args else None,
            len(args[1]) if len(args) > 1 and isinstance(args[1], (list, tuple)) else 0)


def describe(notes: list[Note]) -> str:
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


def _describe(notes: list[Note]) -> str:
    method, args, _kwargs = notes[-1]
    more = f" (after {len(notes) - 1} more send(s))" if len(notes) > 1 else ""
    if method in ("send_query", "send_query_params"):
        sql = " ".join(_as_text(args[0]).split()) if args else ""
        sql = sql if len(sql) <= MAX_SQL else sql[: MAX_SQL - 1] + "…"
        count = len(args[1]) if method == "send_query_params" and len(args) > 1 and args[1] else 0
        return f"{sql!r} with {count} parameter(s){more}" if count else f"{sql!r}{more}"
    if method == "send_prepare" and len(args) > 1:
        return f"prepare {_as_text(args[0])!r} as {_as_text(args[1])[:MAX_SQL]!r}{more}"
    if method == "send_query_prepared" and args:
        count = len(args[1]) if len(args) > 1 and args[1] else 0
        return f"execute prepared {_as_text(args[0])!r} with {count} parameter(s){more}"
    return f"{method} " + " ".join(repr(_as_text(a)) for a in args) + more


def _noting(method: str) -> Any:
    def retrace_psycopg_send(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if runtime.active().name != "passthrough":
            note(method, args, kwargs)
        sent = wrapped(*args, **kwargs)
        runtime.settle()  # libpq sent it at once: the previous query's event is made meanwhile
        return sent

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
