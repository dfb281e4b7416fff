"""Record real programs against real Redis, take Redis away, replay: same output, same crash."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from redis_kit import PrivateRedis, delete_keys, free_port, program

from retrace.errors import EXIT_DIVERGENCE
from retrace.testing import record, record_and_replay, replay

pytestmark = pytest.mark.service
RESP3 = int(redis.__version__.split(".")[0]) >= 5

SOCKET_GUARD = '''
import socket, sys

def _refuse(self, address, *args, **kwargs):
    sys.stderr.write(f"SOCKET OPENED DURING REPLAY: {address!r}\\n")
    raise OSError("replay must not open sockets")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''


@pytest.fixture
def no_sockets(tmp_path: Path) -> dict[str, str]:
    """An environment for replays in which any socket connect fails loudly."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD)
    return {"PYTHONPATH": str(guard)}


def test_scenario_replays_after_its_keys_are_deleted(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str, no_sockets: dict[str, str]
) -> None:
    deleted: list[int] = []
    recorded, _ = record_and_replay(
        program(tmp_path, "scenario.py"), tmp_path / "rec", *map(str, redis_service), prefix,
        between=lambda: deleted.append(delete_keys(redis_service, prefix)),
        replay_env=no_sockets,
    )
    assert deleted and deleted[0] > 0
    out = recorded.stdout
    assert "rate ada count 4 ttl 60 allowed False" in out
    assert "top [(b'ada', 30.0), (b'bob', 25.0)]" in out
    assert f"job (b'{prefix}jobs', b'resize:1')" in out and "job None" in out
    assert "'data': b'hello'" in out and "'data': b'90%'" in out
    assert "listen {'type': 'punsubscribe'" in out


def test_scenario_replays_with_the_server_stopped(
    tmp_path: Path, private_redis: Callable[..., PrivateRedis], no_sockets: dict[str, str]
) -> None:
    server = private_redis()
    _, replayed = record_and_replay(
        program(tmp_path, "scenario.py"), tmp_path / "rec", "127.0.0.1", str(server.port), "p:",
        between=server.stop, replay_env=no_sockets, times=2,
    )
    assert server.process.poll() is not None
    assert "closing" in replayed.stdout and "SOCKET" not in replayed.stderr


@pytest.mark.parametrize(("protocol", "decode"), [("2", "0"), ("2", "1"), ("3", "0"), ("3", "1")])
def test_every_command_family(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str, no_sockets: dict[str, str],
    protocol: str, decode: str,
) -> None:
    if protocol == "3" and not RESP3:
        pytest.skip(f"redis-py {redis.__version__} has no RESP3 (protocol=3 needs 5.0)")
    recorded, _ = record_and_replay(
        program(tmp_path, "families.py"), tmp_path / "rec", *map(str, redis_service), prefix,
        protocol, decode, between=lambda: delete_keys(redis_service, prefix),
        replay_env=no_sockets,
    )
    out = recorded.stdout
    assert "script-after-flush: int 5" in out and "lock-second: bool False" in out
    assert "smembers-type: str 'set'" in out
    assert out.count(f"{prefix}scan:") == 25
    assert ("xrange: list [('1-1', {" in out) if decode == "1" else ("(b'1-1', {b'event'" in out)


def test_pipelines_and_transactions(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str, no_sockets: dict[str, str]
) -> None:
    recorded, _ = record_and_replay(
        program(tmp_path, "transactions.py"), tmp_path / "rec", *map(str, redis_service), prefix,
        between=lambda: delete_keys(redis_service, prefix), replay_env=no_sockets,
    )
    out = recorded.stdout
    assert "conflict 1 WatchError Watched variable changed." in out
    assert "watched [True, b'1075']" in out
    assert "no-raise [('bool', 'True'), ('ResponseError', 'WRONGTYPE" in out
    assert "raised ResponseError Command # 2 (LPUSH" in out
    assert "script-pipeline [b'1068', 1069]" in out and "empty []" in out


def test_errors_replay_as_the_same_class_and_message_and_crash(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str,
    private_redis: Callable[..., PrivateRedis], no_sockets: dict[str, str],
) -> None:
    locked = private_redis(password="not-this-one")
    recorded, _ = record_and_replay(
        program(tmp_path, "errors.py"), tmp_path / "rec", *map(str, redis_service), prefix,
        str(free_port()), str(locked.port),
        between=lambda: (delete_keys(redis_service, prefix), locked.stop()),
        replay_env=no_sockets,
    )
    out = recorded.stdout
    assert recorded.status == 1
    for expected in (
        "wrongtype redis.exceptions ResponseError 'WRONGTYPE",
        "noscript redis.exceptions NoScriptError",
        "data redis.exceptions DataError",
        "refused redis.exceptions ConnectionError",
        "timeout redis.exceptions TimeoutError",
        "auth redis.exceptions AuthenticationError",
        "watch redis.exceptions WatchError 'Watched variable changed.'",
    ):
        assert expected in out
    assert recorded.stderr.rstrip().endswith(
        "redis.exceptions.ResponseError: WRONGTYPE Operation against a key holding the wrong "
        "kind of value")


def test_passwords_never_reach_the_recording(
    tmp_path: Path, private_redis: Callable[..., PrivateRedis], no_sockets: dict[str, str]
) -> None:
    password = "s3cret-PASSWORD-4-retrace-tests"
    server = private_redis(password=password)
    recorded, _ = record_and_replay(
        program(tmp_path, "auth.py"), tmp_path / "rec", "127.0.0.1", str(server.port), "a:",
        env={"RD_PASSWORD": password}, between=server.stop, replay_env=no_sockets,
    )
    assert "ping True" in recorded.stdout and "pipeline [True, b'v']" in recorded.stdout
    files = [p for p in (tmp_path / "rec").rglob("*") if p.is_file()]
    assert any(p.name == "trace.bin" for p in files)
    for path in files:
        data = path.read_bytes()
        assert password.encode() not in data, f"the password is in {path}"
        assert password.encode("utf-16-le") not in data


def test_a_changed_command_stops_replay_with_the_call_site(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str
) -> None:
    script = program(tmp_path, "divergence.py")
    rec = tmp_path / "rec"
    assert record(script, rec, *map(str, redis_service), prefix, cwd=tmp_path).status == 0
    copy = rec / "run" / "divergence.py"
    edited = copy.read_text().replace('r.get(prefix + "greeting")', 'r.get(prefix + "other")')
    copy.write_text(edited)
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE
    assert "boundary:  redis.command" in replayed.stderr
    assert f"arguments: GET '{prefix}greeting'" in replayed.stderr
    assert f"arguments: GET '{prefix}other'" in replayed.stderr
    assert "divergence.py:13" in replayed.stderr


def test_a_changed_pipeline_stops_replay(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str
) -> None:
    script = program(tmp_path, "divergence.py")
    rec = tmp_path / "rec"
    assert record(script, rec, *map(str, redis_service), prefix, cwd=tmp_path).status == 0
    copy = rec / "run" / "divergence.py"
    copy.write_text(copy.read_text().replace(".incr(prefix + \"n\").execute()", ".execute()"))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE
    assert "boundary:  redis.pipeline.execute" in replayed.stderr
    assert "divergence.py:14" in replayed.stderr


def test_replay_is_independent_of_the_working_tree(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str
) -> None:
    script = program(tmp_path, "divergence.py")
    rec = tmp_path / "rec"
    recorded = record(script, rec, *map(str, redis_service), prefix, cwd=tmp_path)
    os.remove(script)
    assert replay(rec).observable() == recorded.observable()


def test_pubsub_listener_thread_and_blocking_consumer(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str, no_sockets: dict[str, str]
) -> None:
    recorded, _ = record_and_replay(
        program(tmp_path, "threads.py"), tmp_path / "rec", *map(str, redis_service), prefix,
        between=lambda: delete_keys(redis_service, prefix), replay_env=no_sockets, times=2,
    )
    assert f"job ('{prefix}jobs', 'late-job')" in recorded.stdout
    assert "received ['one', 'two', 'stop']" in recorded.stdout


def test_a_connection_taken_outside_commands_is_refused_on_replay(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str, no_sockets: dict[str, str]
) -> None:
    script = tmp_path / "single.py"
    script.write_text(
        "import sys\nimport redis\n"
        "r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), single_connection_client=True)\n"
        "print(r.set(sys.argv[3] + 'k', 1))\n"
    )
    rec = tmp_path / "rec"
    recorded = record(script, rec, *map(str, redis_service), prefix, cwd=tmp_path)
    assert recorded.status == 0 and "cannot replay that yet" in recorded.stderr
    replayed = replay(rec, env=no_sockets)
    assert replayed.status != 0
    assert "ConnectionOutsideCommand" in replayed.stderr and "SOCKET" not in replayed.stderr
