"""On replay, psycopg's pure-Python adaptation path stands in for its C accelerations.

The C implementation (``psycopg[binary]`` or ``psycopg[c]``) loads rows and
formats COPY data straight from libpq memory, so it accepts only real libpq
results. On replay there are none: results are
:class:`~retrace.adapters.psycopg.offline.OfflinePGresult` objects. So during
a replay the cursor's ``Transformer`` and the COPY row functions are the
Python ones that ship in every psycopg install; the loaders and dumpers stay
those registered (C ones included), and psycopg keeps them interchangeable,
so rows come back as the same values. Record mode is untouched. Quoting
identifiers and literals (``psycopg.sql``) gets an offline stand-in too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrace import Patch, runtime
from retrace.boundary import Args, Kwargs

COPY_FUNCTIONS = ("format_row_text", "format_row_binary", "parse_row_text", "parse_row_binary")


def _python_transformer(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if runtime.active().name == "replay":
        try:
            from psycopg._py_transformer import Transformer
        except ImportError:  # psycopg 3.1
            from psycopg._transform import Transformer  # type: ignore[no-redef]
        # Without the C implementation this is the class patched here; imported before
        # the session, the patch also replaced this module's name for it.
        python_class = getattr(Transformer, "__wrapped__", Transformer)
        return python_class(*args, **kwargs)
    return wrapped(*args, **kwargs)


def _python_copy(module: str, name: str) -> Callable[[Any, Any, Args, Kwargs], Any]:
    def retrace_python_copy(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if runtime.active().name == "replay":
            import importlib

            python_version = getattr(importlib.import_module(module), f"_{name}")
            return python_version(*args, **kwargs)
        return wrapped(*args, **kwargs)

    return retrace_python_copy


def _offline_escaping(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Quoting identifiers and literals needs a live libpq connection; replay has none."""
    from retrace.adapters.psycopg.offline import OfflineEscaping, OfflinePGconn

    conn = args[0] if args else kwargs.get("conn")
    if isinstance(conn, OfflinePGconn):
        return OfflineEscaping(conn)
    return wrapped(*args, **kwargs)


def _python_adapters(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """On replay, register psycopg's Python loaders and dumpers, not their C twins.

    Some C dumpers escape through the libpq connection (bytea in text format)
    and would fall back to libpq's connectionless escaping with an offline one.
    """
    if runtime.active().name == "replay" and args:
        return args[0]
    return wrapped(*args, **kwargs)


def _no_pipeline(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """executemany() takes its one-query-at-a-time path while retrace is active."""
    if runtime.active().name != "passthrough":
        return False
    return wrapped(*args, **kwargs)


def patches(version: tuple[int, int]) -> list[Patch]:
    copy_module = "psycopg.copy" if version < (3, 2) else "psycopg._copy_base"
    pipeline_module = "psycopg._pipeline" if version < (3, 2) else "psycopg._pipeline_base"
    found = [
        Patch("psycopg.adapt", "Transformer", wrapper=_python_transformer),
        Patch("psycopg.pq", "Escaping", wrapper=_offline_escaping),
        Patch("psycopg._adapters_map", "AdaptersMap._get_optimised", wrapper=_python_adapters),
    ]
    found += [Patch(copy_module, name, wrapper=_python_copy(copy_module, name))
              for name in COPY_FUNCTIONS]
    found.append(Patch(pipeline_module, "BasePipeline.is_supported", wrapper=_no_pipeline))
    return found
