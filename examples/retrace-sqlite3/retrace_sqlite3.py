"""retrace-sqlite3: record and replay ``sqlite3`` queries; a third-party retrace adapter.

It uses only retrace's public API (``Adapter``, ``Boundary``, ``Patch`` and
``retrace.runtime.call``) and registers through the ``retrace.adapters``
entry point, exactly as any adapter distribution would.

sqlite3's connections and cursors are C types, and on replay there must be
no database at all (a replay never touches the outside world, and
``sqlite3.connect`` would create the file). So instead of patching the C
methods, the adapter patches ``sqlite3.connect`` to return a
:class:`Connection` of its own while a session runs: recording, it forwards
every call to a real connection and records what came back; replaying, it
answers from the recording and opens nothing. Outside a session
``sqlite3.connect`` is untouched.

Each ``execute`` is one boundary call whose outcome is the whole result
(rows fetched at once, ``description``, ``rowcount``, ``lastrowid``), so the
program may fetch in any pattern. ``commit``, ``rollback`` and ``close``
are boundaries too; sqlite3's errors (``IntegrityError``...) replay as the
same classes with the same messages.

Not covered (yet): ``row_factory``, ``executescript``, blobs opened with
``Connection.blobopen``, user-defined functions, and ``isinstance(conn,
sqlite3.Connection)``, which is false for the adapter's connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.runtime import call

LIBRARY = ("sqlite3", "retrace_sqlite3")


def _statement(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    sql = args[0] if args else kwargs.get("sql", "")
    params = args[1] if len(args) > 1 else kwargs.get("parameters", ())
    return [sql, list(params) if isinstance(params, (list, tuple)) else params]


def _sql(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return " ".join(str(args[0] if args else kwargs.get("sql", "")).split())


def _database(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(args[0] if args else kwargs.get("database", ""))


CONNECT = Boundary("sqlite3.connect", fingerprint=lambda i, a, k: _database(i, a, k),
                   summary=_database, encode=lambda outcome, *_: None,
                   decode=lambda recorded, *_: None, library=LIBRARY)
EXECUTE = Boundary("sqlite3.execute", fingerprint=_statement, summary=_sql, library=LIBRARY)
EXECUTEMANY = Boundary("sqlite3.executemany", fingerprint=lambda i, a, k: [a[0], [list(p) for p in a[1]]],
                       summary=_sql, library=LIBRARY)
COMMIT = Boundary("sqlite3.commit", library=LIBRARY)
ROLLBACK = Boundary("sqlite3.rollback", library=LIBRARY)
CLOSE = Boundary("sqlite3.close", library=LIBRARY)


def _result(cursor: Any) -> dict[str, Any]:
    """Everything a program can read from a cursor after ``execute``, as plain data."""
    rows = [list(row) for row in cursor.fetchall()]
    description = [list(column) for column in cursor.description or []] or None
    return {"rows": rows, "description": description, "rowcount": cursor.rowcount,
            "lastrowid": cursor.lastrowid}


class Cursor:
    """A cursor whose results come from one boundary call per ``execute``."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.description: tuple[tuple[Any, ...], ...] | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[tuple[Any, ...]] = []

    def _take(self, outcome: dict[str, Any]) -> Cursor:
        self._rows = [tuple(row) for row in outcome["rows"]]
        description = outcome["description"]
        self.description = tuple(tuple(c) for c in description) if description else None
        self.rowcount = outcome["rowcount"]
        self.lastrowid = outcome["lastrowid"]
        return self

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        real = self.connection._real
        return self._take(call(EXECUTE, lambda s, p: _result(real.execute(s, p)), sql, parameters))

    def executemany(self, sql: str, seq_of_parameters: Sequence[Sequence[Any]]) -> Cursor:
        real = self.connection._real
        batch = [list(p) for p in seq_of_parameters]
        return self._take(call(EXECUTEMANY, lambda s, b: _result(real.executemany(s, b)), sql, batch))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    def fetchall(self) -> list[tuple[Any, ...]]:
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while self._rows:
            yield self._rows.pop(0)

    def close(self) -> None:
        self._rows = []


class Connection:
    """What ``sqlite3.connect`` returns while a session runs (``_real`` is None on replay)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Sequence[Sequence[Any]]) -> Cursor:
        return self.cursor().executemany(sql, seq_of_parameters)

    def commit(self) -> None:
        call(COMMIT, lambda: self._real.commit())

    def rollback(self) -> None:
        call(ROLLBACK, lambda: self._real.rollback())

    def close(self) -> None:
        call(CLOSE, lambda: self._real.close())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()


class Sqlite3Adapter(Adapter):
    name = "sqlite3"
    modules = LIBRARY

    def __init__(self) -> None:
        self.active = False

    def patches(self) -> list[Patch]:
        return [Patch("sqlite3", "connect", wrapper=self._connect)]

    def register_codecs(self, codecs: Any) -> None:
        codecs.allow_exceptions_from("sqlite3")

    def start(self, session: Any) -> None:
        self.active = True

    def stop(self, session: Any) -> None:
        self.active = False

    def _connect(self, wrapped: Any, instance: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
        if not self.active:
            return wrapped(*args, **kwargs)
        return Connection(call(CONNECT, wrapped, *args, **kwargs))


adapter = Sqlite3Adapter()
