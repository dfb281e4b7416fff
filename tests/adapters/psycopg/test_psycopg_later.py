"""A query's event is made while the next query waits for the server, and is the same event.

The recorder takes a round trip's place in the trace when it returns and
reads its results when the thread sends its next query (or when the trace is
written); see docs/adapters/psycopg.md, "Recording cost". What changes
between the two (the connection's state, a result the program clears) must
still be recorded as it was when the round trip returned.
"""

from __future__ import annotations

from pathlib import Path

from retrace.events import read_events
from retrace.testing import record, record_and_replay

from .conftest import Database, program_env, write_program

PROGRAM = '''
    import os

    import psycopg

    conn = psycopg.connect(os.environ["APP_DSN"], autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT %s::int * 2, 'forty-two'", (21,))
    print("row:", cur.fetchone())
    cur.pgresult.clear()  # the program frees the result before the next query is sent
    cur.execute("SET TimeZone TO 'Asia/Tokyo'")
    print("zone:", conn.info.parameter_status("TimeZone"), conn.info.transaction_status)
    cur.execute("SELECT %s::timestamptz", ("2026-01-01 00:00:00+00",))
    print("stamp:", cur.fetchone()[0])
    with conn.transaction():
        cur.execute("SELECT %s::text", ("inside",))
        print("inside:", cur.fetchone(), conn.info.transaction_status)
    cur.execute("SELECT %s::text", ("last",))  # no query follows: the writer makes its event
    print("last:", cur.fetchone())
    conn.close()
'''


def _round_trips(directory: Path) -> list[tuple[object, ...]]:
    """The round trips' events (connecting tells a server process apart, so not that one)."""
    return [(e.thread, e.boundary, e.site, e.fingerprint, e.summary, e.raised, e.value)
            for e in read_events(directory)
            if e.boundary.startswith("psycopg.") and e.boundary != "psycopg.connect"]


def test_events_made_later_are_those_made_at_once_and_replay_without_the_database(
        tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, PROGRAM)
    env = program_env(database, impl)
    # With timings the recorder makes every event at once (each timing follows its event).
    at_once = record(program, tmp_path / "at-once", env={**env, "RETRACE_TIMINGS": "1"},
                     cwd=tmp_path)
    assert at_once.status == 0, at_once.stderr
    recorded, _replayed = record_and_replay(program, tmp_path / "rec", env=env,
                                            between=database.drop)
    assert "row: (42, 'forty-two')" in recorded.stdout
    assert "zone: Asia/Tokyo" in recorded.stdout
    assert "last: ('last',)" in recorded.stdout
    assert recorded.stdout == at_once.stdout
    round_trips = _round_trips(tmp_path / "rec")
    assert len(round_trips) >= 7
    assert round_trips == _round_trips(tmp_path / "at-once")


BUFFERS = '''
    import os

    import psycopg

    conn = psycopg.connect(os.environ["APP_DSN"], autocommit=True)
    buf = bytearray(b"first")
    view = memoryview(bytearray(b"one"))
    print(conn.execute("SELECT %b::bytea, %b::bytea", (buf, view)).fetchone())
    buf[:] = b"second"  # the program's own buffers, changed before the next query is sent
    view[:] = b"two"
    print(conn.execute("SELECT length(%b::bytea), %b::bytea", (buf, view)).fetchone())
    conn.close()
'''


def test_buffers_the_program_changes_after_a_query_are_recorded_as_they_were_sent(
        tmp_path: Path, database: Database, impl: str) -> None:
    """psycopg's Python dumper sends a program's ``bytearray`` or ``memoryview`` as it is."""
    program = write_program(tmp_path, BUFFERS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", env=program_env(database, impl),
                                    between=database.drop)
    assert "(b'first', b'one')" in recorded.stdout
    assert "(6, b'two')" in recorded.stdout


SECRET_LATER = '''
    import os

    import psycopg

    conn = psycopg.connect(os.environ["APP_DSN"], autocommit=True)
    print(conn.execute("SELECT %s::text", ("hunter2-value",)).fetchone())
    token = os.environ["APP_TOKEN"]  # a secret from now on: the same text as that parameter
    print("token read:", bool(token))
    print(conn.execute("SELECT 1").fetchone())
    conn.close()
'''


def test_a_secret_learnt_after_a_query_leaves_that_querys_digest_alone(
        tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, SECRET_LATER)
    recorded, _ = record_and_replay(
        program, tmp_path / "rec", env=program_env(database, impl, APP_TOKEN="hunter2-value"),
        between=database.drop)
    assert "('hunter2-value',)" in recorded.stdout
