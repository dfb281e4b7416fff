"""Divergences name the call site, passwords stay out of recordings, pools replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrace.testing import record, record_and_replay, replay

from .conftest import Database, program_env, write_program

QUERY = '''
    import os

    import psycopg

    conn = psycopg.connect(os.environ["APP_DSN"])
    limit = 3
    rows = conn.execute("SELECT g FROM generate_series(1, 10) g WHERE g <= %s", (limit,))
    print(rows.fetchall())
    conn.close()
'''


@pytest.mark.parametrize(("edit", "shown"), [
    (("limit = 3", "limit = 4"), "'SELECT g FROM generate_series(1, 10) g WHERE g <= $1'"),
    (("g <= %s", "g < %s"), "'SELECT g FROM generate_series(1, 10) g WHERE g < $1'"),
])
def test_changed_query_or_parameter_diverges_at_its_line(
        tmp_path: Path, database: Database, impl: str, edit: tuple[str, str], shown: str) -> None:
    program = write_program(tmp_path, QUERY)
    recorded = record(program, tmp_path / "rec", env=program_env(database, impl),
                      cwd=tmp_path)
    assert recorded.status == 0 and "[(1,), (2,), (3,)]" in recorded.stdout
    database.drop()
    copy = tmp_path / "rec" / "run" / "app.py"
    copy.write_text(copy.read_text().replace(*edit))
    replayed = replay(tmp_path / "rec")
    assert replayed.status == 86, replayed.stderr
    assert "boundary:  psycopg.execute" in replayed.stderr
    assert "app.py:7" in replayed.stderr
    assert shown in replayed.stderr
    assert replayed.stdout == ""


PASSWORDS = '''
    import os

    import psycopg

    url = os.environ["APP_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        print("url user:", conn.info.user, conn.info.dbname, "password" in conn.info.dsn)
    with psycopg.connect(os.environ["APP_DSN"], password=os.environ["APP_DB_PASSWORD"]) as conn:
        print("kwarg:", conn.execute("SELECT current_user").fetchone())
        print("keys:", sorted(conn.info.get_parameters()))
'''


def test_passwords_never_reach_the_recording(
        tmp_path: Path, database: Database, impl: str) -> None:
    secret = "Sw0rdf1sh-" + database.name
    url = f"postgresql://postgres:{secret}@127.0.0.1:5432/{database.name}"
    program = write_program(tmp_path, PASSWORDS)
    env = program_env(database, impl, APP_DATABASE_URL=url, APP_DB_PASSWORD=secret)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop, env=env)
    assert f"url user: postgres {database.name} False" in recorded.stdout
    assert "kwarg: ('postgres',)" in recorded.stdout
    leaked = [str(p) for p in (tmp_path / "rec").rglob("*")
              if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == []


POOL = '''
    import os
    import threading

    from psycopg_pool import ConnectionPool

    with ConnectionPool(os.environ["APP_DSN"], min_size=1, max_size=2, open=True) as pool:
        pool.wait()
        for i in range(3):
            with pool.connection() as conn:
                print("pooled:", conn.execute("SELECT %s * 2", (i,)).fetchone())
        results = {}

        def client(n):
            for i in range(3):
                with pool.connection() as conn:
                    results[n, i] = conn.execute("SELECT %s::int * 10 + %s", (n, i)).fetchone()

        clients = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        print("clients:", sorted(results.items()))
    print("closed:", pool.closed)
'''


def test_connection_pool(tmp_path: Path, database: Database, impl: str) -> None:
    """The pool's own threads (scheduler, workers) replay from the library threads' events."""
    pytest.importorskip("psycopg_pool")
    program = write_program(tmp_path, POOL)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl), times=3)
    assert "pooled: (4,)" in recorded.stdout
    assert "((2, 2), (22,))" in recorded.stdout and "closed: True" in recorded.stdout


def _corrupt_first_round_trip(trace_path: Path) -> None:
    """Cut the end off the first recorded psycopg outcome, keeping the trace's framing valid."""
    import cbor2

    from retrace import trace

    data = trace_path.read_bytes()
    out = bytearray(trace.MAGIC)
    pos, done = len(trace.MAGIC), False
    while pos < len(data):
        length = trace._PREFIX.unpack(data[pos:pos + trace.PREFIX_SIZE])[4]
        payload = data[pos + trace.PREFIX_SIZE:pos + trace.PREFIX_SIZE + length]
        pos += trace.PREFIX_SIZE + length
        items = cbor2.loads(payload)
        if isinstance(items, list) and not done:
            for index, item in enumerate(items):
                if isinstance(item, str) and item.startswith("[[["):
                    items[index], done = item[:-3], True
                    break
            payload = cbor2.dumps(items)
        out += trace.frame(payload)
    assert done, "no psycopg outcome found to corrupt"
    trace_path.write_bytes(bytes(out))


def test_malformed_event_is_a_bad_recording_not_a_traceback(
        tmp_path: Path, database: Database) -> None:
    program = write_program(tmp_path, QUERY)
    recorded = record(program, tmp_path / "rec", env=program_env(database, "python"),
                      cwd=tmp_path)
    assert recorded.status == 0
    database.drop()
    _corrupt_first_round_trip(tmp_path / "rec" / "trace.bin")
    replayed = replay(tmp_path / "rec")
    assert replayed.status == 88
    assert "a psycopg event in the recording is malformed" in replayed.stderr
    assert "Traceback" not in replayed.stderr
