"""Helpers the redis tests share: free ports, private servers, key clean-up, program copies."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import attrs

PROGRAMS = Path(__file__).parent / "programs"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class PrivateRedis:
    """A redis-server of this test's own."""

    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not start")


def delete_keys(service: tuple[str, int], prefix: str) -> int:
    """Delete every key under ``prefix`` on the shared server; how many there were."""
    import redis

    client = redis.Redis(host=service[0], port=service[1])
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def program(tmp_path: Path, name: str) -> Path:
    """Copy ``programs/NAME`` into the test's directory; the copy is what gets recorded."""
    target = tmp_path / name
    target.write_text((PROGRAMS / name).read_text())
    return target
