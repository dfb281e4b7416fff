"""Stand-ins for libpq objects on replay: a connection and results with no server behind them.

psycopg's own Python layer (cursors, adaptation, row factories, transactions,
errors built from results) runs for real on replay and talks to these through
the same ``psycopg.pq.abc`` protocols it uses with libpq. They answer from the
trace: a result holds the recorded cells, a connection the recorded state,
updated after every recorded round trip. They open no socket.
"""

from __future__ import annotations

from typing import Any

from retrace.adapters.psycopg import sends, wire

BAD = 1
PIPELINE_ON = 1


def _bytes(value: Any) -> Any:
    """Recorded bytes, which a replayed round trip still holds as latin-1 text."""
    return value.encode("latin-1") if type(value) is str else value


def _clean_error_message(message: bytes, encoding: str) -> str:
    """The error text psycopg shows: libpq's message without its severity prefix."""
    try:
        from psycopg.pq.misc import _clean_error_message as clean
    except ImportError:
        text = message.decode(encoding or "utf-8", "replace")
        return text.strip() or "no error details available"
    return clean(message, encoding)


class OfflinePGresult:
    """A recorded ``PGresult``: the cells are the bytes the server sent.

    Built from a result's plain data (:func:`~retrace.adapters.psycopg.wire.result`)
    as recorded or as replayed: in a replayed round trip the bytes are still
    latin-1 text (see :mod:`~retrace.adapters.psycopg.compact`) and each cell
    and name becomes bytes when psycopg asks for it, so a column never read
    costs nothing.
    """

    def __init__(self, plain: list[Any]) -> None:
        self.plain = plain
        (self.status, command_status, self.command_tuples, self.oid_value,
         self.binary_tuples, self.ntuples, self._fields, self._cells, errors,
         self._params) = plain
        self.command_status = (command_status.encode("latin-1") if type(command_status) is str
                               else command_status)
        self.nfields = len(self._fields) // wire.FIELD_WIDTH
        self._error_fields = (
            dict(zip(errors[::2], map(_bytes, errors[1::2]), strict=True)) if errors else {})

    def _field(self, column: int, item: int) -> Any:
        if not 0 <= column < self.nfields:
            return None
        return self._fields[column * wire.FIELD_WIDTH + item]

    def fname(self, column: int) -> bytes | None:
        return _bytes(self._field(column, 0))

    def ftype(self, column: int) -> int:
        return self._field(column, 1) or 0

    def fmod(self, column: int) -> int:
        value = self._field(column, 2)
        return -1 if value is None else value

    def fsize(self, column: int) -> int:
        return self._field(column, 3) or 0

    def fformat(self, column: int) -> int:
        return self._field(column, 4) or 0

    def ftable(self, column: int) -> int:
        return self._field(column, 5) or 0

    def ftablecol(self, column: int) -> int:
        return self._field(column, 6) or 0

    def get_value(self, row: int, column: int) -> bytes | None:
        if not (0 <= row < self.ntuples and 0 <= column < self.nfields):
            return None
        value = self._cells[row * self.nfields + column]
        return value.encode("latin-1") if type(value) is str else value

    def loader_types(self) -> tuple[list[int], int]:
        """Every column's ``ftype`` and the first column's ``fformat``, for
        ``Transformer.set_pgresult`` (with at least one column)."""
        fields = self._fields
        types = fields[1::wire.FIELD_WIDTH]
        if None in types:
            types = [t or 0 for t in types]
        return types, fields[4] or 0

    def row(self, row: int) -> list[bytes | None]:
        """The cells of one row, for ``Transformer.load_sequence``."""
        nfields = self.nfields
        if nfields == 1:  # the common one-column row, without a comprehension
            value = self._cells[row]
            return [value.encode("latin-1") if type(value) is str else value]
        start = row * nfields
        return [v.encode("latin-1") if type(v) is str else v
                for v in self._cells[start:start + nfields]]

    @property
    def nparams(self) -> int:
        return len(self._params) if self._params else 0

    def param_type(self, index: int) -> int:
        return self._params[index] if self._params and 0 <= index < len(self._params) else 0

    @property
    def error_message(self) -> bytes:
        return self._error_fields.get(wire.ERROR_MESSAGE, b"")

    def get_error_message(self, encoding: str = "utf-8") -> str:
        return _clean_error_message(self.error_message, encoding)

    def error_field(self, fieldcode: int) -> bytes | None:
        return self._error_fields.get(int(fieldcode))

    @property
    def pgresult_ptr(self) -> None:
        return None

    def clear(self) -> None:
        """Nothing to free: the data lives in Python."""

    def set_attributes(self, descriptions: list[Any]) -> None:
        self._fields = [v for d in descriptions for v in
                        (d.name, d.typid, d.atttypmod, d.typlen, d.format, d.tableid, d.columnid)]
        self.nfields = len(descriptions)


class OfflinePGconn:
    """A recorded connection: its parameters, status and transaction status as last seen.

    Used as a mixin over the real ``psycopg.pq.PGconn`` class (see
    :func:`connection`), so C code that insists on that type accepts it; the
    libpq handle underneath stays NULL, and every property psycopg reads is
    answered here.
    """

    notice_handler: Any = None
    notify_handler: Any = None
    nonblocking = 1
    _pgconn_ptr = None
    _CLOSED = BAD << 4

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self._snapshot = snapshot
        vars(self).update((name, snapshot.get(name)) for name in wire.CONNECTION_PROPERTIES)
        self._parameters = dict(zip(wire.PARAMETERS, snapshot["parameters"], strict=True))
        self._state = snapshot["state"]

    def __del__(self) -> None:
        """No libpq connection to close."""

    # -- state -------------------------------------------------------------
    def update(self, packed_state: int, parameters: list[Any] | None) -> None:
        """Take the state recorded after a round trip."""
        self._state = packed_state
        if parameters is not None:
            self._parameters = dict(zip(wire.PARAMETERS, parameters, strict=True))

    @property
    def status(self) -> int:
        return (self._state >> 4) & 15

    @property
    def pipeline_status(self) -> int:
        return self._state >> 8

    @property
    def transaction_status(self) -> int:
        return self._state & 15

    def parameter_status(self, name: bytes) -> bytes | None:
        return self._parameters.get(name)

    @property
    def _encoding(self) -> str:
        from psycopg._encodings import pg2pyenc

        if self.status != 0:
            return "utf-8"
        return pg2pyenc(self._parameters.get(b"client_encoding") or b"UTF8")

    @property
    def info(self) -> list[Any]:
        from psycopg.pq import ConninfoOption

        return [ConninfoOption(*option) for option in self._snapshot["info"]]

    @property
    def password(self) -> bytes | None:
        return self._snapshot["password"]

    @property
    def error_message(self) -> bytes:
        return b""

    def get_error_message(self, encoding: str = "utf-8") -> str:
        return ""

    @property
    def pgconn_ptr(self) -> None:
        return None

    def finish(self) -> None:
        # Also called by the C base class while it deallocates, possibly at interpreter
        # exit when module globals are already gone: use only the instance and the class.
        state = self.__dict__.get("_state")
        if state is not None:
            self._state = self._CLOSED | (state & ~0xF0)

    close = finish

    # -- what psycopg sends: the same boundaries as the real PGconn --------
    send_query = sends.offline("send_query")
    send_query_params = sends.offline("send_query_params")
    send_prepare = sends.offline("send_prepare")
    send_query_prepared = sends.offline("send_query_prepared")
    send_describe_prepared = sends.offline("send_describe_prepared")
    send_describe_portal = sends.offline("send_describe_portal")
    send_close_prepared = sends.offline("send_close_prepared")
    send_close_portal = sends.offline("send_close_portal")

    # -- local libpq switches: nothing to do without a server --------------
    def set_single_row_mode(self) -> None:
        """The recorded results already arrive the way this mode shaped them."""

    def set_chunked_rows_mode(self, size: int) -> None:
        """The recorded results already arrive the way this mode shaped them."""

    def notifies(self) -> None:
        return None

    # -- pipeline mode: a local switch of libpq; results arrive in round trips
    def enter_pipeline_mode(self) -> None:
        self._state = PIPELINE_ON << 8 | (self._state & 255)

    def exit_pipeline_mode(self) -> None:
        self._state &= 255

    pipeline_sync = sends.offline("pipeline_sync")
    send_flush_request = sends.offline("send_flush_request")

    def flush(self) -> int:
        return 0

    def get_cancel(self) -> Any:
        raise sends.not_supported("cancelling a query")

    def cancel_conn(self) -> Any:
        raise sends.not_supported("cancelling a query")


class _Recorded:
    """``PGconn.<name>`` as recorded at connect time.

    Not a property: a descriptor without ``__set__``, which shadows the real
    ``PGconn``'s attribute yet lets the value an offline connection keeps in its
    ``__dict__`` be read with no call (psycopg reads ``socket`` on every query).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.__doc__ = f"``PGconn.{name}`` as recorded at connect time."

    def __get__(self, conn: OfflinePGconn | None, owner: Any = None) -> Any:
        return self if conn is None else conn._snapshot.get(self.name)


for _name in wire.CONNECTION_PROPERTIES:
    setattr(OfflinePGconn, _name, _Recorded(_name))

_classes: dict[type, type] = {}


def connection(snapshot: dict[str, Any]) -> OfflinePGconn:
    """An offline connection that is also an instance of ``psycopg.pq.PGconn``."""
    from psycopg import pq

    base = pq.PGconn
    cls: Any = _classes.get(base)
    if cls is None:
        cls = _classes[base] = type("OfflinePGconn", (OfflinePGconn, base), {
            "__module__": __name__,
            "__doc__": OfflinePGconn.__doc__,
        })
    conn = cls.__new__(cls)
    conn.__init__(snapshot)
    return conn


class OfflineEscaping:
    """``psycopg.pq.Escaping`` for an offline connection.

    libpq escapes through a live connection (its encoding and
    ``standard_conforming_strings``); with none, this does what libpq does for
    the recorded connection, which psycopg always sets to UTF-8 or another
    ASCII-safe encoding: hex bytea, quotes doubled, backslashes doubled only
    where the server would read them as escapes.
    """

    def __init__(self, pgconn: OfflinePGconn) -> None:
        self.conn = pgconn
        self._standard = pgconn.parameter_status(b"standard_conforming_strings") != b"off"

    def escape_identifier(self, data: bytes) -> bytes:
        return b'"' + bytes(data).replace(b'"', b'""') + b'"'

    def escape_literal(self, data: bytes) -> bytes:
        text = bytes(data)
        quoted = b"'" + text.replace(b"'", b"''").replace(b"\\", b"\\\\") + b"'"
        return b" E" + quoted if b"\\" in text else quoted

    def escape_string(self, data: bytes) -> bytes:
        text = bytes(data).replace(b"'", b"''")
        return text if self._standard else text.replace(b"\\", b"\\\\")

    def escape_bytea(self, data: bytes) -> bytes:
        prefix = b"\\x" if self._standard else b"\\\\x"
        return prefix + bytes(data).hex().encode()

    def unescape_bytea(self, data: bytes) -> bytes:
        from psycopg import pq

        return pq.Escaping().unescape_bytea(data)
