"""Pipeline mode: queries queued in an explicit ``conn.pipeline()``, one of them failing."""

from __future__ import annotations

from pathlib import Path

from retrace.testing import record, record_and_replay, replay

from .conftest import Database, program_env, write_program

# psycopg logs a warning naming the pipeline with its address (a different
# one on every run) when an error ends it; the warning is not what this tests.
PIPELINE = '''
    import logging
    import os

    import psycopg
    from psycopg import errors
    from psycopg.rows import dict_row

    logging.getLogger("psycopg").setLevel(logging.ERROR)
    conn = psycopg.connect(os.environ["APP_DSN"], autocommit=True)
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
    with conn.pipeline() as pipeline:
        conn.execute("INSERT INTO items VALUES (%s, %s)", (1, "one"))
        cur = conn.execute("INSERT INTO items VALUES (%s, %s) RETURNING id * 10", (2, "two"))
        counted = conn.execute("SELECT count(*) FROM items")
        print("status inside:", pipeline.status.name, conn.info.pipeline_status.name)
        pipeline.sync()
        print("returning:", cur.fetchone(), "count:", counted.fetchone())
        named = conn.cursor(row_factory=dict_row)
        named.execute("SELECT id, name FROM items WHERE id = %s", (2,))
        print("row:", named.fetchone(), "statusmessage:", named.statusmessage)
    print("status after:", conn.info.pipeline_status.name)

    try:
        with conn.pipeline():
            conn.execute("INSERT INTO items VALUES (%s, %s)", (3, "three"))
            conn.execute("INSERT INTO items VALUES (%s, %s)", (1, "again"))
            conn.execute("INSERT INTO items VALUES (%s, %s)", (4, "four"))
    except errors.UniqueViolation as exc:
        print("failed:", type(exc).__name__, exc.sqlstate, exc.diag.constraint_name)
    print("after the error:", conn.execute("SELECT id FROM items ORDER BY id").fetchall())

    with conn.pipeline():
        with conn.transaction():
            cur = conn.cursor()
            cur.executemany("INSERT INTO items VALUES (%s, %s)", [(5, "five"), (6, "six")])
        try:
            with conn.transaction():
                conn.execute("INSERT INTO items VALUES (%s, %s)", (7, "seven"))
                conn.execute("SELECT 1 / 0")
        except errors.DivisionByZero as exc:
            print("rolled back:", exc.sqlstate)
        last = conn.execute("SELECT array_agg(id ORDER BY id) FROM items")
    print("final:", last.fetchone())
    conn.close()
'''


def test_explicit_pipeline_with_an_error(tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, PIPELINE)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    assert "status inside: ON ON" in out
    assert "returning: (20,) count: (2,)" in out
    assert "row: {'id': 2, 'name': 'two'} statusmessage: SELECT 1" in out
    assert "status after: OFF" in out
    assert "failed: UniqueViolation 23505 items_pkey" in out
    assert "after the error: [(1,), (2,)]" in out
    assert "rolled back: 22012" in out
    assert "final: ([1, 2, 5, 6],)" in out


def test_changed_parameter_in_a_pipeline_diverges_at_the_round_trip_that_sends_it(
        tmp_path: Path, database: Database, impl: str) -> None:
    """Queued queries are sent by the round trip that drains the queue: it checks them."""
    program = write_program(tmp_path, PIPELINE)
    recorded = record(program, tmp_path / "rec", env=program_env(database, impl), cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    database.drop()
    copy = tmp_path / "rec" / "run" / "app.py"
    copy.write_text(copy.read_text().replace('(2, "two")', '(2, "deux")'))
    replayed = replay(tmp_path / "rec")
    assert replayed.status == 86, replayed.stderr
    assert "boundary:  psycopg.pipeline_communicate" in replayed.stderr
    assert "'INSERT INTO items VALUES ($1, $2) RETURNING id * 10' with 2 parameter(s)" in (
        replayed.stderr)
