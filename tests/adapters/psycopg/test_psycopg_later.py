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
