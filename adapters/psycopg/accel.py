"""What psycopg decides from its libpq: its C accelerations on replay, pipeline support.

The C implementation (``psycopg[binary]`` or ``psycopg[c]``) loads rows and
formats COPY data straight from libpq memory, so it accepts only real libpq
results. On replay there are none: results are
:class:`~retrace.adapters.psycopg.offline.OfflinePGresult` objects. So during
a replay the cursor's ``Transformer`` is a subclass of the C one that hands
it recorded cells a row at a time (see :func:`_offline_rows`), the COPY row
functions are the Python ones that ship in every psycopg install, and the
loaders and dumpers registered during the replay are the Python ones (psycopg
keeps them interchangeable, so rows come back as the same values; some C ones
read the libpq connection directly). Quoting identifiers and literals
(``psycopg.sql``) gets an offline stand-in too. Record mode is untouched.

Whether pipeline mode is available is recorded: psycopg answers from the libpq
version it loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrace import Boundary, Patch, runtime
from retrace.adapters.psycopg import LIBRARY
from retrace.boundary import Args, Kwargs

COPY_FUNCTIONS = ("format_row_text", "format_row_binary", "parse_row_text", "parse_row_binary")


def _python_transformer(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if runtime.active().name == "replay":
        return _replay_transformer(wrapped)(*args, **kwargs)
    return wrapped(*args, **kwargs)


_replay_classes: dict[Any, type] = {}


def _replay_transformer(wrapped: Any) -> type:
    """The Transformer class a replay uses in place of ``wrapped`` (psycopg's C or Python one)."""
    found = _replay_classes.get(wrapped)
    if found is None:
        try:
            from psycopg._py_transformer import Transformer
        except ImportError:  # psycopg 3.1
            from psycopg._transform import Transformer  # type: ignore[no-redef]
        # Without the C implementation this is the class patched here; imported before
        # the session, the patch also replaced this module's name for it.
        python_class = getattr(Transformer, "__wrapped__", Transformer)
        c_class = getattr(wrapped, "__wrapped__", wrapped)
        if c_class is python_class or not hasattr(c_class, "load_sequence"):
            found = python_class
        else:
            found = _offline_rows(c_class)
        _replay_classes[wrapped] = found
    return found


def _offline_rows(c_class: type) -> type:
    """psycopg's C Transformer, loading the rows of offline results through ``load_sequence``.

    The C class reads cells straight out of libpq memory, which a replay does
    not have; everything else it does (choosing loaders and dumpers, calling
    them, building rows) works on any cells. So this subclass keeps the
    offline result itself and hands the C class one row of recorded cells at a
    time: the same loaders run in the same order as with psycopg's Python
    Transformer (row by row, column by column), without its per-cell Python
    loop.
    """
    from psycopg import errors

    class ReplayTransformer(c_class):
        _offline: Any = None

        @property
        def pgresult(self) -> Any:
            return self._offline

        def set_pgresult(self, result: Any, set_loaders: Any = True, format: Any = None) -> None:
            self._offline = result
            super().set_pgresult(None, set_loaders=False)
            if not set_loaders:
                return
            if result is None or not result.nfields:
                self.set_loader_types([], 0)
                return
            types, first_format = result.loader_types()
            self.set_loader_types(types, first_format if format is None else format)

        def load_row(self, row: int, make_row: Any) -> Any:
            result = self._offline
            if result is None or not 0 <= row < result.ntuples:
                return None
            record = self.load_sequence(result.row(row))
            return record if make_row is tuple else make_row(record)

        def load_rows(self, row0: int, row1: int, make_row: Any) -> list[Any]:
            result = self._offline
            if result is None:
                raise errors.InterfaceError("result not set")
            ntuples = result.ntuples
            if not (0 <= row0 <= ntuples and 0 <= row1 <= ntuples):
                raise errors.InterfaceError(f"rows must be included between 0 and {ntuples}")
            load, cells = self.load_sequence, result.row
            if make_row is tuple:
                return [load(cells(row)) for row in range(row0, row1)]
            return [make_row(load(cells(row))) for row in range(row0, row1)]

    ReplayTransformer.__module__ = __name__
    return ReplayTransformer


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


#: Modules whose C loaders and dumpers only parse and format their values (numbers and
#: booleans): they never read the connection, so a replay keeps them and their speed.
CONNECTIONLESS = ("psycopg.types.numeric", "psycopg.types.bool")


def _python_adapters(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """On replay, register psycopg's Python loaders and dumpers, not their C twins.

    Some C dumpers escape through the libpq connection (bytea in text format)
    and would fall back to libpq's connectionless escaping with an offline one;
    some C loaders read it (the date loaders read ``DateStyle``). Numbers and
    booleans (:data:`CONNECTIONLESS`) keep their C versions: on a query of
    ints, the Python ones are three Python calls per parameter and one per cell.
    """
    if runtime.active().name == "replay" and args and (
            getattr(args[0], "__module__", None) not in CONNECTIONLESS):
        return args[0]
    return wrapped(*args, **kwargs)


def _check_argument(instance: Any, args: Args, kwargs: Kwargs) -> bool:
    return bool(args[0] if args else kwargs.get("check", False))


# Whether pipeline mode is available depends on the libpq psycopg loaded, which the
# machine that replays may not share; the answer decides which round trips
# executemany() makes and whether conn.pipeline() starts. So it is recorded.
PIPELINE_SUPPORTED = Boundary("psycopg.pipeline_supported", library=LIBRARY)
HAS_PIPELINE = Boundary("psycopg.has_pipeline", fingerprint=_check_argument, library=LIBRARY)


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
    found.append(Patch(pipeline_module, "BasePipeline.is_supported", boundary=PIPELINE_SUPPORTED))
    if version >= (3, 2):
        found.append(Patch("psycopg._capabilities", "Capabilities.has_pipeline",
                           boundary=HAS_PIPELINE))
    return found
