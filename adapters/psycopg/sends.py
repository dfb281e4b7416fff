"""What psycopg sends to the server: one boundary per ``PGconn.send_*`` method.

These calls carry the SQL text and the dumped parameters, so their
fingerprint is what replay compares: a changed query or parameter diverges
at the line that executed it. On record the real ``PGconn`` methods are
patched; on replay :class:`~retrace.adapters.psycopg.offline.OfflinePGconn`
calls the same boundaries. Only the SQL text goes into the summary shown in
divergence reports (parameters may be secrets; they reach the trace only as
part of the digest).
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.runtime import call

LIBRARY = ("psycopg", "psycopg_pool", "psycopg_binary", "psycopg_c", "contextlib")
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


def _fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [_plain(a) for a in args] + [[k, _plain(v)] for k, v in sorted(kwargs.items())]


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _summary(method: str) -> Any:
    def summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
        if method in ("send_query", "send_query_params"):
            sql = " ".join(_text(args[0]).split()) if args else ""
            sql = sql if len(sql) <= MAX_SQL else sql[: MAX_SQL - 1] + "…"
            if method == "send_query_params" and len(args) > 1 and args[1]:
                return f"{sql!r} with {len(args[1])} parameter(s)"
            return repr(sql)
        if method == "send_prepare" and len(args) > 1:
            return f"prepare {_text(args[0])!r} as {_text(args[1])[:MAX_SQL]!r}"
        if method == "send_query_prepared" and args:
            count = len(args[1]) if len(args) > 1 and args[1] else 0
            return f"execute prepared {_text(args[0])!r} with {count} parameter(s)"
        return " ".join(repr(_text(a)) for a in args)

    return summary


BOUNDARIES = {
    method: Boundary(f"psycopg.PGconn.{method}", fingerprint=_fingerprint,
                     summary=_summary(method), library=LIBRARY)
    for method in METHODS + METHODS_SINCE_3_2
}


def patches(since_3_2: bool) -> list[Patch]:
    """The real ``PGconn`` methods (whichever implementation psycopg loaded)."""
    methods = METHODS + (METHODS_SINCE_3_2 if since_3_2 else ())
    patches = [Patch("psycopg.pq", f"PGconn.{m}", BOUNDARIES[m]) for m in methods]
    patches.append(Patch("psycopg.pq", "PGconn.enter_pipeline_mode", wrapper=_pipeline_guard))
    return patches


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def replay(method: str, args: Args, kwargs: Kwargs) -> None:
    """A send on an offline connection: checked against the recording, sends nothing."""
    call(BOUNDARIES[method], _nothing, *args, **kwargs)


def not_supported(what: str) -> Exception:
    import psycopg

    return psycopg.NotSupportedError(
        f"retrace does not record {what} with psycopg yet (see docs/adapters/psycopg.md)"
    )


def refuse_pipeline() -> None:
    raise not_supported("pipeline mode")


def _pipeline_guard(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    from retrace import runtime

    if runtime.active().name != "passthrough":
        refuse_pipeline()
    return wrapped(*args, **kwargs)
