"""Shared fixtures: real services on 127.0.0.1, skipped loudly when missing (failed under CI)."""

from __future__ import annotations

import os
import socket

import pytest

SERVICES = {
    "postgres": ("127.0.0.1", 5432,
                 "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    "redis": ("127.0.0.1", 6379,
              'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'),
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str) -> tuple[str, int]:
    """``(host, port)`` of a running service; skip (or fail under CI=true) if it is down."""
    host, port, start = SERVICES[name]
    if _reachable(host, port):
        return host, port
    message = (f"{name} is not reachable on {host}:{port}; start it with: {start}")
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(f"SKIPPED LOUDLY: {message}")
    raise AssertionError("unreachable")


@pytest.fixture
def postgres_service() -> tuple[str, int]:
    return require_service("postgres")


@pytest.fixture
def redis_service() -> tuple[str, int]:
    return require_service("redis")
