"""The pytest plugin with PostgreSQL: a test module imports psycopg long before a test's recording.

psycopg is imported when pytest collects the module, so the adapter's
patches arrive after psycopg's own modules took references to its I/O
generators; the core's alias sweep points those references (psycopg's
internal ones included) at the adapter's wrappers. Each query must still be
one event, and the test must replay with its database dropped and the
network blocked.
"""

from __future__ import annotations

import secrets
import textwrap
from collections import Counter
from collections.abc import Iterator

import pytest

from retrace.events import read_events

psycopg = pytest.importorskip("psycopg")
pytest_plugins = ["pytester"]

ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")


@pytest.fixture
def database(postgres_service: tuple[str, int]) -> Iterator[str]:
    from psycopg import sql

    name = f"retrace_pt_{secrets.token_hex(5)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = f"host=127.0.0.1 port=5432 dbname={name} user=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
        conn.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b')")
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_postgres_test_records_one_event_per_query_and_replays_with_the_database_gone(
    pytester: pytest.Pytester, database: str
) -> None:
    dsn = f"host=127.0.0.1 port=5432 dbname={database} user=postgres"
    pytester.makepyfile(test_pg=textwrap.dedent(
        f"""
        import psycopg
        import pytest

        @pytest.mark.retrace
        def test_items():
            with psycopg.connect({dsn!r}) as conn:
                for wanted in (1, 2, 1, 2, 1, 2):  # prepared after a few runs, as psycopg does
                    row = conn.execute("SELECT id, name FROM items WHERE id = %s", (wanted,)).fetchone()
                    assert row[0] == wanted
                conn.execute("INSERT INTO items VALUES (%s, %s)", (3, "c"))
                assert conn.execute("SELECT count(*) FROM items").fetchone() == (3,)
        """
    ))
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
    events = Counter(e.boundary for e in read_events(pytester.path / "recordings" / "test_pg" / "test_items"))
    # One event per statement (psycopg adds BEGIN and COMMIT), nothing nested inside one.
    assert events["psycopg.execute"] >= 8, events
    assert not {"psycopg.send", "psycopg.fetch", "psycopg.fetch_many"} & set(events), events

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    result = pytester.runpytest(*QUIET, "--retrace-mode=none", "--retrace-block-network")
    result.assert_outcomes(passed=1)
