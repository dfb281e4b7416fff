"""What crosses the trace for psycopg: libpq results, notifications, connection state.

Everything here reads real ``psycopg.pq`` objects (either implementation: the
ctypes one or the C one) through the public ``psycopg.pq.abc`` protocols and
returns lists of ints and bytes, so recording one query costs a few C calls
and a handful of small lists. ``retrace.adapters.psycopg.offline`` turns the
same data back into objects on replay.

A result is ``[status, command_status, command_tuples, oid_value,
binary_tuples, ntuples, fields, cells, errors, params]``: ``fields`` is flat,
seven items per column (see :data:`FIELD_WIDTH`), ``cells`` is flat too, row
after row, holding the raw bytes psycopg's loaders parse (flat lists cost
less to copy and encode than nested ones, and this is the hot path);
``errors`` pairs diagnostic field codes with their bytes, flat (0 is the
whole error message) and ``params`` lists parameter types of a described statement.
The bytes of a result (names, cells, status, error fields) are latin-1 text
already, byte for byte: the JSON encoder writes text without calling back into
Python (see :mod:`.compact`), and a replayed result reads either.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from retrace.redaction import PLACEHOLDER

# libpq ExecStatus values that carry diagnostic fields.
NONFATAL_ERROR = 6
FATAL_ERROR = 7
# PG_DIAG_* codes (psycopg.pq.DiagnosticField), read for error and notice results.
DIAG_CODES = tuple(ord(c) for c in "SVCMDHPpqWstcdnFLR")
FIELD_WIDTH = 7
ERROR_MESSAGE = 0

# Parameters the server reports (GUC_REPORT): psycopg reads some of them
# (client_encoding, TimeZone, DateStyle...) and programs may read any.
PARAMETERS = (
    b"application_name", b"client_encoding", b"DateStyle", b"default_transaction_read_only",
    b"in_hot_standby", b"integer_datetimes", b"IntervalStyle", b"is_superuser",
    b"scram_iterations", b"search_path", b"server_encoding", b"server_version",
    b"session_authorization", b"standard_conforming_strings", b"TimeZone",
)
# PGconn properties copied once at connect time; None where the libpq in use lacks one.
CONNECTION_PROPERTIES = (
    "host", "hostaddr", "port", "db", "user", "options", "server_version", "protocol_version",
    "backend_pid", "socket", "ssl_in_use", "used_password", "used_gssapi",
)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def result(res: Any) -> list[Any]:
    """A libpq result as plain data, its bytes as latin-1 text (see :mod:`.compact`)."""
    status = res.status
    nfields = res.nfields
    fields: list[Any] = []
    for i in range(nfields):
        name = res.fname(i)
        fields += (None if name is None else name.decode("latin-1"), res.ftype(i), res.fmod(i),
                   res.fsize(i), res.fformat(i), res.ftable(i), res.ftablecol(i))
    get = res.get_value
    ntuples = res.ntuples
    cells: list[str | None]
    if nfields == 1 and ntuples == 1:  # the common one-value result, without a comprehension
        value = get(0, 0)
        cells = [None if value is None else value.decode("latin-1")]
    else:
        raw: Iterable[bytes | None]
        if nfields == 1:
            raw = map(get, range(ntuples), itertools.repeat(0, ntuples))
        else:
            columns = range(nfields)
            raw = [get(r, c) for r in range(ntuples) for c in columns]
        cells = [None if v is None else v.decode("latin-1") for v in raw]
    errors = None
    if status in (FATAL_ERROR, NONFATAL_ERROR):
        field = res.error_field
        errors = [ERROR_MESSAGE, _text(res.error_message)]
        for code in DIAG_CODES:
            value = field(code)
            if value is not None:
                errors += (code, value.decode("latin-1"))
    nparams = res.nparams
    params = [res.param_type(i) for i in range(nparams)] if nparams else None
    command_status = res.command_status
    return [status, None if command_status is None else command_status.decode("latin-1"),
            res.command_tuples, res.oid_value, res.binary_tuples, ntuples, fields, cells, errors,
            params]


def results(values: list[Any]) -> list[Any]:
    return list(map(result, values))


def notify(value: Any) -> list[Any]:
    """A ``psycopg.pq.PGnotify`` as plain data."""
    return [value.relname, value.be_pid, value.extra]


def parameters(pgconn: Any) -> list[Any]:
    """The server-reported parameters of a connection, in :data:`PARAMETERS` order."""
    return list(map(pgconn.parameter_status, PARAMETERS))


def state(pgconn: Any) -> int:
    """Pipeline, connection and transaction status packed in one small int.

    Outside pipeline mode (pipeline status 0) it is ``status * 16 + transaction_status``.
    """
    return pgconn.pipeline_status * 256 + pgconn.status * 16 + pgconn.transaction_status


def _property(pgconn: Any, name: str) -> Any:
    try:
        return getattr(pgconn, name)
    except Exception:  # a libpq too old for this property: replay answers None
        return None


def connection(pgconn: Any) -> dict[str, Any]:
    """What replay needs to stand in for a new connection; the password is left out."""
    snapshot = {name: _property(pgconn, name) for name in CONNECTION_PROPERTIES}
    snapshot["state"] = state(pgconn)
    snapshot["parameters"] = parameters(pgconn)
    snapshot["password"] = None if not _property(pgconn, "password") else PLACEHOLDER.encode()
    snapshot["info"] = [
        [o.keyword, o.envvar, o.compiled, None if o.keyword == b"password" else o.val,
         o.label, o.dispchar, o.dispsize]
        for o in pgconn.info
    ]
    return snapshot
