"""COPY in both directions, LISTEN/NOTIFY, server notices, and errors the program handles."""

from __future__ import annotations

from pathlib import Path

import psycopg

from retrace.testing import record_and_replay

from .conftest import Database, program_env, write_program

COPY = '''
    import os
    from datetime import date

    import psycopg

    conn = psycopg.connect(os.environ["APP_DSN"])
    conn.execute("CREATE TABLE events (id int, day date, note text, payload bytea)")
    with conn.cursor() as cur:
        with cur.copy("COPY events (id, day, note, payload) FROM STDIN") as copy:
            for i in range(5):
                copy.write_row((i, date(2024, 1, i + 1), f"tab\\there {i}", bytes([i, 255])))
        print("copied rows:", cur.rowcount)
        with cur.copy("COPY events (id, note) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text"])
            copy.write_row((10, "binary row"))
        with cur.copy("COPY events (id, note) FROM STDIN") as copy:
            copy.write(b"20\\traw block\\n21\\t\\\\N\\n")
        with cur.copy("COPY (SELECT id, day, note FROM events ORDER BY id) TO STDOUT") as copy:
            copy.set_types(["int4", "date", "text"])
            for row in copy.rows():
                print("row:", row)
        query = "COPY (SELECT id, payload FROM events ORDER BY id LIMIT 2) TO STDOUT"
        with cur.copy(query) as copy:
            print("raw:", [bytes(block) for block in copy])
    conn.commit()
    try:
        with conn.cursor() as cur, cur.copy("COPY events (id) FROM STDIN") as copy:
            copy.write_row(("not a number",))
    except psycopg.errors.InvalidTextRepresentation as exc:
        print("copy failed:", exc.sqlstate, exc.diag.message_primary)
    conn.rollback()
    print("count:", conn.execute("SELECT count(*) FROM events").fetchone())
'''

NOTIFY = '''
    import os

    import psycopg

    dsn = os.environ["APP_DSN"]
    listener = psycopg.connect(dsn, autocommit=True)
    sender = psycopg.connect(dsn, autocommit=True)
    heard = []


    def on_notify(n):
        heard.append((n.channel, n.payload))


    listener.add_notify_handler(on_notify)
    listener.add_notice_handler(lambda d: print("notice:", d.severity, d.message_primary))
    listener.execute("LISTEN orders")
    listener.execute("NOTIFY orders, 'from myself'")
    listener.execute("DO $$ BEGIN RAISE NOTICE 'stock is low: %', 3; END $$")
    print("handled:", heard)
    listener.remove_notify_handler(on_notify)
    for i in range(3):
        sender.execute("SELECT pg_notify('orders', %s)", (f"order {i}",))
    if psycopg.__version__ >= "3.2":
        for n in listener.notifies(timeout=2.0, stop_after=3):
            print("notify:", n.channel, n.payload, n.pid == sender.info.backend_pid)
        print("nothing more:", list(listener.notifies(timeout=0.2)))
    else:  # psycopg 3.1: notifies() has no timeout; stop the generator ourselves
        stream = listener.notifies()
        for count, n in enumerate(stream, 1):
            print("notify:", n.channel, n.payload, n.pid == sender.info.backend_pid)
            if count == 3:
                stream.close()
    listener.close()
    sender.close()
'''

ERRORS = '''
    import os

    import psycopg
    from psycopg import errors

    dsn = os.environ["APP_DSN"]
    conn = psycopg.connect(dsn)
    conn.execute("CREATE TABLE users (name text PRIMARY KEY, age int CHECK (age >= 0))")
    conn.execute("INSERT INTO users VALUES ('ann', 30)")
    conn.commit()
    for statement, params in [
        ("INSERT INTO users VALUES (%s, %s)", ("ann", 31)),
        ("INSERT INTO users VALUES (%s, %s)", ("bob", -1)),
        ("SELEC 1", None),
        ("SELECT * FROM missing_table", None),
        ("SELECT 1 / %s", (0,)),
        ("SELECT %s::int", ("x",)),
    ]:
        try:
            conn.execute(statement, params)
        except psycopg.Error as exc:
            d = exc.diag
            print(type(exc).__module__, type(exc).__name__, isinstance(exc, errors.IntegrityError),
                  exc.sqlstate)
            print("  message:", str(exc).replace(chr(10), " | "))
            print("  diag:", d.severity, d.message_primary, d.message_detail, d.message_hint,
                  d.table_name, d.column_name, d.constraint_name, d.statement_position)
            print("  status:", conn.info.transaction_status.name)
            conn.rollback()
    try:
        psycopg.connect("host=127.0.0.1 port=1 dbname=nowhere user=postgres connect_timeout=2")
    except psycopg.OperationalError as exc:
        print("connect failed:", type(exc).__name__, "port 1" in str(exc))
    conn.close()
'''


def test_copy_both_directions(tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, COPY)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    assert "copied rows: 5" in out
    assert "row: (0, datetime.date(2024, 1, 1), 'tab\\there 0')" in out
    assert "row: (10, None, 'binary row')" in out
    assert "row: (21, None, None)" in out
    assert "raw: [b'0\\t\\\\\\\\x00ff\\n', b'1\\t\\\\\\\\x01ff\\n']" in out
    assert "copy failed: 22P02" in out
    assert "count: (8,)" in out


def test_listen_notify_and_notices(tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, NOTIFY)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    assert "notice: NOTICE stock is low: 3" in out
    assert "handled: [('orders', 'from myself')]" in out
    assert "notify: orders order 0 True" in out
    assert "notify: orders order 2 True" in out
    if psycopg.__version__ >= "3.2":
        assert "nothing more: []" in out


def test_errors_replay_with_class_sqlstate_and_diag(
        tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, ERRORS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    assert "psycopg.errors UniqueViolation True 23505" in out
    assert "Key (name)=(ann) already exists. None users None users_pkey None" in out
    assert "psycopg.errors CheckViolation True 23514" in out
    assert "psycopg.errors SyntaxError False 42601" in out
    assert "psycopg.errors UndefinedTable False 42P01" in out
    assert "psycopg.errors DivisionByZero False 22012" in out
    assert "psycopg.errors InvalidTextRepresentation False 22P02" in out
    assert "status: INERROR" in out
    assert "connect failed: OperationalError True" in out
