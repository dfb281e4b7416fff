"""Fixtures for the psycopg adapter: a throwaway database per test on the real PostgreSQL.

Every test gets its own ``retrace_t_<random>`` database, created from the
``test`` database with autocommit and dropped (with FORCE) afterwards;
``database.drop`` is also what tests pass as ``between=``, so every replay
runs with the database gone.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

psycopg = pytest.importorskip("psycopg")

ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
IMPLEMENTATIONS = ("python", "binary")


@attrs.define
class Database:
    """One test database and the way to get rid of it."""

    name: str

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port=5432 dbname={self.name} user=postgres"

    def drop(self) -> None:
        from psycopg import sql

        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))

    def exists(self) -> bool:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
            return found.fetchone() is not None


@pytest.fixture
def database(postgres_service: tuple[str, int]) -> Iterator[Database]:
    from psycopg import sql

    db = Database(f"retrace_t_{secrets.token_hex(5)}")
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest) -> str:
    """Each scenario runs with psycopg's pure-Python and its C (binary) implementation.

    ``RETRACE_TEST_PSYCOPG_IMPLS=binary`` (tox sets it per factor) keeps one.
    """
    name = str(request.param)
    wanted = os.environ.get("RETRACE_TEST_PSYCOPG_IMPLS")
    if wanted and name not in wanted.split(","):
        pytest.skip(f"RETRACE_TEST_PSYCOPG_IMPLS={wanted}")
    if name == "binary":
        pytest.importorskip("psycopg_binary", reason="psycopg[binary] is not installed")
    return name


def write_program(folder: Path, source: str, name: str = "app.py") -> Path:
    """Write a test program; every program reads its DSN from ``APP_DSN``."""
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def program_env(db: Database, impl: str, **extra: str) -> dict[str, str]:
    return {"APP_DSN": db.dsn, "PSYCOPG_IMPL": impl, **extra}
