"""Record asyncio programs against real services, take the services away, replay many times.

Every replay must print exactly what the recording printed. Every scenario
replays 20 times (``RETRACE_TEST_ASYNCIO_REPLAYS`` changes the count of all
but the 100-task program's: fewer for a quick local run).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aio_kit import EchoServer, program

from retrace.errors import EXIT_DIVERGENCE
from retrace.testing import record, record_and_replay, replay

pytestmark = pytest.mark.service
REPLAYS = int(os.environ.get("RETRACE_TEST_ASYNCIO_REPLAYS", "20"))


def _forget(prefix: str, redis_service: tuple[str, int]) -> None:
    import redis

    client = redis.Redis(host=redis_service[0], port=redis_service[1])
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_hundred_tasks_replay_in_completion_order_twenty_times(
    tmp_path: Path,
    redis_service: tuple[str, int],
    prefix: str,
    database: str,
    no_sockets: dict[str, str],
) -> None:
    import psycopg

    def empty_services() -> None:
        _forget(prefix, redis_service)
        name = database.split("dbname=")[1].split()[0]
        with psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

    script = program(tmp_path, "completion.py")
    rec = tmp_path / "rec"
    recorded = record(script, rec, database, *map(str, redis_service), prefix, cwd=tmp_path)
    assert recorded.status == 0 and "retrace:" not in recorded.stderr, recorded.stderr
    empty_services()
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: two replays at a time
        replays = list(pool.map(lambda _: replay(rec, env=no_sockets), range(20)))
    for number, replayed in enumerate(replays, 1):
        assert replayed.observable() == recorded.observable(), f"replay {number} differs:\n{replayed.stderr}"
    lines = recorded.stdout.splitlines()
    tasks = [int(m.group(1)) for m in map(re.compile(r"task +(\d+) n=").match, lines) if m]
    assert sorted(tasks) == list(range(100))
    assert tasks != list(range(100)), "the tasks finished in the order they started"
    assert "rows (100, 5050)" in recorded.stdout


def test_async_connection_pool_replays_with_the_database_dropped(
    tmp_path: Path, database: str, no_sockets: dict[str, str]
) -> None:
    pytest.importorskip("psycopg_pool")
    import psycopg

    def drop() -> None:
        name = database.split("dbname=")[1].split()[0]
        with psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

    recorded, _ = record_and_replay(
        program(tmp_path, "pool.py"),
        tmp_path / "rec",
        database,
        between=drop,
        replay_env=no_sockets,
        times=REPLAYS,
    )
    assert sorted(recorded.stdout.splitlines()[:20]) == sorted(f"task {i} ({2 * i}, True)" for i in range(20))
    assert "'requests_num': 20" in recorded.stdout


def test_timeouts_fire_at_the_recorded_points(
    tmp_path: Path,
    redis_service: tuple[str, int],
    prefix: str,
    no_sockets: dict[str, str],
) -> None:
    recorded, _ = record_and_replay(
        program(tmp_path, "timeout_race.py"),
        tmp_path / "rec",
        *map(str, redis_service),
        prefix,
        between=lambda: _forget(prefix, redis_service),
        replay_env=no_sockets,
        times=REPLAYS,
    )
    out = recorded.stdout
    assert "wait_for timed out" in out and "wait_for finished" in out, out
    assert "first completed" in out and "as_completed" in out


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TaskGroup is new in Python 3.11")
def test_task_group_with_a_failing_member(
    tmp_path: Path,
    redis_service: tuple[str, int],
    prefix: str,
    no_sockets: dict[str, str],
) -> None:
    recorded, _ = record_and_replay(
        program(tmp_path, "taskgroup.py"),
        tmp_path / "rec",
        *map(str, redis_service),
        prefix,
        between=lambda: _forget(prefix, redis_service),
        replay_env=no_sockets,
        times=REPLAYS,
    )
    out = recorded.stdout
    assert out.count("cancelled at") == 6
    assert "group failed: ['member failed']" in out


def test_streams_client_replays_with_the_server_stopped(
    tmp_path: Path,
    echo_server: EchoServer,
    no_sockets: dict[str, str],
) -> None:
    recorded, _ = record_and_replay(
        program(tmp_path, "streams_client.py"),
        tmp_path / "rec",
        str(echo_server.port),
        between=echo_server.stop,
        replay_env=no_sockets,
        times=REPLAYS,
    )
    out = recorded.stdout
    assert out.count("LINE") == 15 and out.count("BYE True") == 5
    assert "refused: ConnectionRefusedError" in out


def test_subprocesses_replay_without_starting_any(tmp_path: Path) -> None:
    marker = tmp_path / "started.txt"
    recorded, _ = record_and_replay(
        program(tmp_path, "subprocesses.py"),
        tmp_path / "rec",
        str(marker),
        between=marker.unlink,
        times=REPLAYS,
    )
    assert recorded.stdout.count(" said ") == 9 and recorded.stdout.count("exit 0 0") == 3
    assert "(b'hello', b'err\\n') 3" in recorded.stdout
    assert not marker.exists(), "replay started a child process"


def test_executor_results_reach_the_loop_at_the_recorded_turns(tmp_path: Path) -> None:
    recorded, _ = record_and_replay(program(tmp_path, "executor.py"), tmp_path / "rec", times=REPLAYS)
    lines = recorded.stdout.splitlines()
    assert [line.split()[0] for line in lines].count("tick") == 8
    assert sum(line.startswith("thread done") for line in lines) == 4
    first_tick = next(i for i, line in enumerate(lines) if line.startswith("tick"))
    last_thread = max(i for i, line in enumerate(lines) if line.startswith("thread done"))
    assert first_tick < last_thread, "the ticker and the threads did not interleave"


SLEEPY = """
import asyncio, sys, time

clock = getattr(time.perf_counter, "__wrapped__", time.perf_counter)  # the real clock, unrecorded


async def nap(i):
    await asyncio.sleep(0.4 + i / 10)
    return i


async def main():
    print(await asyncio.gather(*(nap(i) for i in range(3))))
    try:
        await asyncio.wait_for(asyncio.sleep(5), timeout=0.6)
    except asyncio.TimeoutError:
        print("timed out")


start = clock()
asyncio.run(main())
sys.stderr.write(f"took {clock() - start:.3f}\\n")
"""


def _took(stderr: str) -> float:
    return float(stderr.split("took ")[-1])


def test_replay_does_not_wait_in_real_time(tmp_path: Path) -> None:
    script = tmp_path / "sleepy.py"
    script.write_text(SLEEPY)
    recorded = record(script, tmp_path / "rec", cwd=tmp_path)
    replayed = replay(tmp_path / "rec", env={"RETRACE_CHECK_OUTPUT": "0"})  # "took" differs
    assert recorded.stdout == replayed.stdout == "[0, 1, 2]\ntimed out\n"
    assert _took(recorded.stderr) > 1.2
    assert _took(replayed.stderr) < 0.3, replayed.stderr


def test_a_changed_interleaving_is_a_divergence(tmp_path: Path) -> None:
    script = tmp_path / "order.py"
    script.write_text(
        "import asyncio\n\n"
        "async def step(i, delay):\n"
        "    await asyncio.sleep(delay)\n"
        "    print(i, asyncio.get_running_loop().time() > 0)\n\n"
        "async def main():\n"
        "    await asyncio.gather(step(0, 0.02), step(1, 0.01))\n\n"
        "asyncio.run(main())\n"
    )
    rec = tmp_path / "rec"
    assert record(script, rec, cwd=tmp_path).status == 0
    copy = next((rec / "run").rglob("order.py"))
    copy.write_text(copy.read_text().replace("step(1, 0.01)", "step(1, 0.01), asyncio.sleep(0)"))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE
    assert "replay diverged" in replayed.stderr


def test_redis_pubsub_replays_with_nothing_published(
    tmp_path: Path,
    redis_service: tuple[str, int],
    prefix: str,
    no_sockets: dict[str, str],
) -> None:
    args = [*map(str, redis_service), prefix]
    publisher = subprocess.Popen([sys.executable, str(program(tmp_path, "publisher.py")), *args])
    try:
        recorded = record(program(tmp_path, "pubsub.py"), tmp_path / "rec", *args, cwd=tmp_path)
    finally:
        assert publisher.wait(timeout=30) == 0
    assert recorded.status == 0 and "retrace:" not in recorded.stderr, recorded.stderr
    out = recorded.stdout
    assert out.count(f"'{prefix}news'") >= 2 and "b'pa1'" in out and "b'n3'" in out, out
    assert "listen pmessage" in out and "runner cancelled" in out
    assert "handled [b'h1', b'h2', b'stop']" in out
    assert "empty reads" in out and "True" in out.split("empty reads")[1].splitlines()[0], out
    assert "'type': 'unsubscribe'" in out and "'type': 'punsubscribe'" in out and "'type': 'pong'" in out
    assert "after close False {} {}" in out
    _forget(prefix, redis_service)
    for number in range(REPLAYS):  # nothing is published now: every message comes from the trace
        replayed = replay(tmp_path / "rec", env=no_sockets)
        assert replayed.observable() == recorded.observable(), f"replay {number} differs:\n{replayed.stderr}"


AWAITING = """
import asyncio, sys
import redis.asyncio as aredis


async def work(r, key):
    await asyncio.sleep(0.01)
    return await r.incrby(key, 1)


async def main():
    r = aredis.Redis(host=sys.argv[1], port=int(sys.argv[2]))
    print(await asyncio.gather(work(r, sys.argv[3] + "a"), work(r, sys.argv[3] + "b")))
    await (r.aclose() if hasattr(r, "aclose") else r.close())


asyncio.run(main())
"""


def test_a_divergence_names_the_await_line_on_both_sides(
    tmp_path: Path, redis_service: tuple[str, int], prefix: str
) -> None:
    script = tmp_path / "awaiting.py"
    script.write_text(AWAITING)
    await_line = AWAITING.splitlines().index("    return await r.incrby(key, 1)") + 1
    rec = tmp_path / "rec"
    assert record(script, rec, *map(str, redis_service), prefix, cwd=tmp_path).status == 0
    copy = next((rec / "run").rglob("awaiting.py"))
    copy.write_text(copy.read_text().replace("r.incrby(key, 1)", "r.incrby(key, 2)"))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    report = replayed.stderr
    assert "INCRBY" in report and "asyncio/runners.py" not in report, report
    sites = re.findall(r"call site: (.+):(\d+)", report)
    assert len(sites) == 2, report
    for file, line in sites:
        assert file.endswith("awaiting.py") and int(line) == await_line, report


def test_psycopg_queries_overlap_while_recording(
    tmp_path: Path, database: str, no_sockets: dict[str, str]
) -> None:
    pytest.importorskip("psycopg")
    rec = tmp_path / "rec"
    recorded = record(program(tmp_path, "overlap.py"), rec, database, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert _took(recorded.stderr) < 0.5, recorded.stderr  # two 0.3 s queries, one after the other: 0.6 s
    lines = recorded.stdout.splitlines()
    assert lines.index("tick 0") < lines.index("query 0 returned ('', 0)"), "the loop waited for a query"
    assert "notice 1: hello from 1" in lines and "query 1 failed: DivisionByZero 22012" in lines
    assert "timed out" in lines and "after the timeout: ('still usable',)" in lines
    name = database.split("dbname=")[1].split()[0]
    import psycopg

    with psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    for number in range(REPLAYS):  # "took" differs: stdout is compared, the exit status too
        replayed = replay(rec, env={**no_sockets, "RETRACE_CHECK_OUTPUT": "0"})
        assert replayed.status == 0, f"replay {number}:\n{replayed.stderr}"
        assert replayed.stdout == recorded.stdout, f"replay {number}:\n{replayed.stderr}"
        assert "SOCKET" not in replayed.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_replays_with_no_client(tmp_path: Path, no_sockets: dict[str, str]) -> None:
    ports = [str(_free_port()), str(_free_port())]
    clients = subprocess.Popen([sys.executable, str(program(tmp_path, "clients.py")), *ports])
    try:
        recorded = record(program(tmp_path, "server.py"), tmp_path / "rec", *ports, cwd=tmp_path)
    finally:
        assert clients.wait(timeout=60) == 0, "the clients saw something else than they expected"
    assert recorded.status == 0 and "retrace:" not in recorded.stderr, recorded.stderr
    out = recorded.stdout
    for name, size in (("ada", 10), ("bob", 20), ("cy", 30)):
        assert f"client {name} sent {size} more bytes from 127.0.0.1" in out, out
    assert "stopped serving" in out and "closed False served" in out and "raw b'ping' 127.0.0.1" in out
    assert f"serving on ('127.0.0.1', {ports[0]}) True" in out
    taken = []
    for port in ports:  # held while replaying: a replay that binds or listens would fail
        holder = socket.socket()
        # The recorded connections may linger in TIME_WAIT on the port; a listener held
        # here still makes any other bind to it fail.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", int(port)))
        holder.listen()
        taken.append(holder)
    try:
        for number in range(REPLAYS):
            replayed = replay(tmp_path / "rec", env=no_sockets)
            assert replayed.observable() == recorded.observable(), f"replay {number}:\n{replayed.stderr}"
    finally:
        for holder in taken:
            holder.close()
