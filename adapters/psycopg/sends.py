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
from typing import Any

from retrace import Patch, runtime
from retrace.boundary import Args, Kwargs

MAX_SQL = 120
METHODS = (
    "send_query", "send_query_params", "send_prepare", "send_query_prepared",
    "send_describe_prepared", "send_describe_portal",
)
METHODS_SINCE_3_2 = ("send_close_prepared", "send_close_portal")


def _plain(value: Any) -> Any:
    """Parameters as bytes/ints/None whatever buffer type a dumper produced."""
    if value is None or isinstance(value, (bytes, str)):
        return value
    if isinstance(value, int):
        return int(value)  # psycopg.pq.Format and other IntEnums: their value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


def note_of(method: str, args: Args, kwargs: Kwargs) -> list[Any]:
    """One send as plain data: the method, then its arguments."""
    found: list[Any] = [method]
    for value in args:
        found.append(value if type(value) is bytes else _plain(value))
    for key in sorted(kwargs):
        found += (key, _plain(kwargs[key]))
    return found


class _Outbox(threading.local):
    notes: list[Any] | None = None


_outbox = _Outbox()


def note(method: str, args: Args, kwargs: Kwargs) -> None:
    notes = _outbox.notes
    if notes is None:
        notes = _outbox.notes = []
    notes.append(note_of(method, args, kwargs))


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


def describe(notes: list[Any]) -> str:
    """The last send of a round trip, for divergence reports: SQL text, no parameter values.

    Cached by statement: the recorder asks for every event, and a program runs
    the same statements over and over.
    """
    if not notes:
        return ""
    last = notes[-1]
    key = (len(notes), last[0], last[1] if len(last) > 1 else None,
           len(last[2]) if len(last) > 2 and isinstance(last[2], list) else 0)
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
    methods = METHODS + (METHODS_SINCE_3_2 if since_3_2 else ())
    found = [Patch("psycopg.pq", f"PGconn.{m}", wrapper=_noting(m)) for m in methods]
    found.append(Patch("psycopg.pq", "PGconn.enter_pipeline_mode", wrapper=_pipeline_guard))
    return found


def replay(method: str, args: Args, kwargs: Kwargs) -> None:
    """A send on an offline connection: noted for the next round trip, sends nothing."""
    note(method, args, kwargs)


def not_supported(what: str) -> Exception:
    import psycopg

    return psycopg.NotSupportedError(
        f"retrace does not record {what} with psycopg yet (see docs/adapters/psycopg.md)"
    )


def refuse_pipeline() -> None:
    raise not_supported("pipeline mode")


def _pipeline_guard(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if runtime.active().name != "passthrough":
        refuse_pipeline()
    return wrapped(*args, **kwargs)
