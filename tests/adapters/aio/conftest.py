"""Fixtures for the asyncio adapter: key prefixes, a throwaway database, an echo server, a socket guard."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"
ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
SOCKET_GUARD = '''
import socket, sys

def _refuse(self, address, *args, **kwargs):
    sys.stderr.write(f"SOCKET OPENED DURING REPLAY: {address!r}\\n")
    raise OSError("replay must not open sockets")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''


def program(tmp_path: Path, name: str) -> Path:
    """Copy ``programs/NAME`` into the test's folder; the copy is what gets recorded."""
    target = tmp_path / name
    target.write_text((PROGRAMS / name).read_text())
    return target


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


class EchoServer:
    """``programs/echo_server.py`` in a process of its own, on a free port."""

    def __init__(self, tmp_path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, str(program(tmp_path, "echo_server.py"))],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[EchoServer]:
    server = EchoServer(tmp_path)
    yield server
    server.stop()
