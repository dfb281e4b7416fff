"""Fixtures for the asyncio adapter: key prefixes, a throwaway database, an echo server, a socket guard."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from aio_kit import SOCKET_GUARD, EchoServer

ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


@pytest.fixture
def no_sockets(tmp_path: Path) -> dict[str, str]:
    """An environment for replays in which any socket connect fails loudly."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD)
    return {"PYTHONPATH": str(guard)}


@pytest.fixture
def prefix(redis_service: tuple[str, int]) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    name = f"retrace-aio:{secrets.token_hex(6)}:"
    yield name
    client = redis.Redis(host=redis_service[0], port=redis_service[1])
    try:
        keys = list(client.scan_iter(match=name + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def database(postgres_service: tuple[str, int]) -> Iterator[str]:
    """The DSN of a database of this test's own, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"retrace_aio_{secrets.token_hex(5)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"host=127.0.0.1 port=5432 dbname={name} user=postgres"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[EchoServer]:
    server = EchoServer(tmp_path)
    yield server
    server.stop()
