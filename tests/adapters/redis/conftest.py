"""Redis fixtures: the shared server on 6379 with a key prefix per test, and private servers.

A private server runs on a free port for one test, so the test can stop it
before replaying (proof that replay needs no server) or give it a password.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from redis_kit import PrivateRedis, delete_keys, free_port, wait_ready


@pytest.fixture
def private_redis(redis_service: tuple[str, int]) -> Iterator[Callable[..., PrivateRedis]]:
    """Start private servers: ``private_redis(password=None)``; all stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("SKIPPED LOUDLY: redis-server is not installed")
    started: list[PrivateRedis] = []

    def start(password: str | None = None) -> PrivateRedis:
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"]
        if password is not None:
            command += ["--requirepass", password]
        server = PrivateRedis(port, subprocess.Popen(command, stdout=subprocess.DEVNULL))
        started.append(server)
        wait_ready(port)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def prefix(redis_service: tuple[str, int]) -> Iterator[str]:
    """A key prefix of this test's own on the shared server; its keys are deleted afterwards."""
    name = f"retrace-test:{uuid.uuid4().hex[:12]}:"
    yield name
    delete_keys(redis_service, name)

