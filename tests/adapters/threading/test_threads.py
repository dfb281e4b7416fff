"""Threads replay their recorded interleaving, and a replay that cannot follow it says so.

Each program is recorded once and replayed 20 times (four replays at a time,
so the replays also run under different scheduling pressure). Every replay
must print exactly what the recording printed, or stop with a divergence
report; none may differ silently.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import thread_programs as programs

from retrace import trace
from retrace.errors import EXIT_DIVERGENCE
from retrace.testing import Run, record, replay

REPLAYS = 20
OUTPUT_HINT = "hint: the program wrote something different"


def _record(tmp_path: Path, source: str, *args: str) -> tuple[Path, Run]:
    program = tmp_path / "app.py"
    program.write_text(source)
    rec = tmp_path / "rec"
    recorded = record(program, rec, *args, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert "retrace:" not in recorded.stderr, recorded.stderr
    return rec, recorded


def _replays(rec: Path, times: int = REPLAYS, env: dict[str, str] | None = None) -> list[Run]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: replay(rec, env=env), range(times)))


def _assert_identical(recorded: Run, replays: list[Run]) -> None:
    for n, replayed in enumerate(replays, 1):
        assert replayed.observable() == recorded.observable(), (
            f"replay {n} differs\n--- recorded:\n{recorded.stdout}{recorded.stderr}"
            f"\n--- replayed (status {replayed.status}):\n{replayed.stdout}{replayed.stderr}"
        )


def _thread_paths(rec: Path) -> list[str]:
    reader = trace.TraceReader(str(rec / "trace.bin"))
    try:
        paths = []
        for _offset, items in reader.blocks():
            for i in range(0, len(items), trace.RECORD_WIDTH):
                if items[i + 1] == trace.DEF_THREAD:
                    paths.append(items[i + 4])
        return paths
    finally:
        reader.close()


def test_counters_under_locks_with_clock_reads_32_threads(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.COUNTERS, "32")
    assert "count 640" in recorded.stdout
    assert sorted(_thread_paths(rec)) == sorted(["0"] + [f"0.{i}" for i in range(1, 33)])
    _assert_identical(recorded, _replays(rec))


def test_work_handed_through_queues_8_threads(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.QUEUES, "8")
    assert "who [" in recorded.stdout
    _assert_identical(recorded, _replays(rec))


def test_thread_pool_results_in_completion_order_16_workers(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.POOL, "16")
    assert recorded.stdout.count("done ") == 48
    order = [line.split()[1] for line in recorded.stdout.splitlines()]
    assert order != sorted(order, key=int), "tasks finished in submission order; nothing tested"
    _assert_identical(recorded, _replays(rec))


def test_condition_producer_consumer_timer_semaphore_barrier_4_threads(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.CONDITION, "4")
    assert "consumed 40" in recorded.stdout
    assert "timer fired" in recorded.stdout
    _assert_identical(recorded, _replays(rec))


def test_pool_never_shut_down_ends_like_python(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.UNSHUT_POOL)
    assert "(5, True)" in recorded.stdout
    _assert_identical(recorded, _replays(rec, times=3))


@pytest.mark.parametrize("threads", ["2", "8"])
def test_unsynchronised_race_is_identical_or_reported(tmp_path: Path, threads: str) -> None:
    rec, recorded = _record(tmp_path, programs.RACE, threads)
    for n, replayed in enumerate(_replays(rec), 1):
        if replayed.observable() == recorded.observable():
            continue
        assert replayed.status == EXIT_DIVERGENCE, f"replay {n} differs silently:\n{replayed}"
        assert OUTPUT_HINT in replayed.stderr, replayed.stderr
        assert "sys.stdout.write" in replayed.stderr


def test_output_only_divergence_is_reported_at_the_first_differing_write(tmp_path: Path) -> None:
    rec, _ = _record(tmp_path, programs.COUNTERS, "4")
    app = rec / "run" / "app.py"
    app.write_text(app.read_text().replace('print("count", state["n"])',
                                           'print("count", state["n"] + 1)'))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE
    assert replayed.stdout == "count "  # print's first two writes matched; the third did not
    assert "boundary:  sys.stdout.write" in replayed.stderr
    assert OUTPUT_HINT in replayed.stderr
    line = next(i for i, text in enumerate(app.read_text().splitlines(), 1) if '"count"' in text)
    assert f"app.py:{line}" in replayed.stderr


def test_a_different_lock_is_reported(tmp_path: Path) -> None:
    rec, _ = _record(tmp_path, programs.COUNTERS, "2")
    app = rec / "run" / "app.py"
    app.write_text(app.read_text().replace("        with lock:", "        with rlock:"))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE
    assert "threading.Lock.acquire" in replayed.stderr
    assert "threading.RLock.acquire" in replayed.stderr


def test_a_turn_that_never_comes_stops_the_replay_in_bounded_time(tmp_path: Path) -> None:
    rec, _ = _record(tmp_path, programs.QUEUES, "3")
    app = rec / "run" / "app.py"
    # On replay, worker 2 (thread 0.3) blocks where retrace cannot see it.
    app.write_text(app.read_text().replace(
        "def worker(w):\n", "def worker(w):\n    if w == 2:\n        import select\n"
        "        select.select([], [], [], 60)\n"))
    started = time.monotonic()
    replayed = replay(rec, env={"RETRACE_REPLAY_TIMEOUT": "2"})
    elapsed = time.monotonic() - started
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert elapsed < 20
    assert "hint: no thread can go on" in replayed.stderr
    assert "the next recorded event is thread 0.3's" in replayed.stderr
    assert "thread 0 waits to call" in replayed.stderr
    assert "thread 0.3 waits" not in replayed.stderr


def test_a_thread_never_started_is_reported(tmp_path: Path) -> None:
    rec, _ = _record(tmp_path, programs.QUEUES, "3")
    app = rec / "run" / "app.py"
    app.write_text(app.read_text().replace("for t in threads:\n    t.start()",
                                           "for t in threads[:2]:\n    t.start()"))
    replayed = replay(rec, env={"RETRACE_REPLAY_TIMEOUT": "2"})
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert "boundary:  threading.Thread.start" in replayed.stderr


def test_a_lock_that_cannot_be_taken_at_its_turn_is_reported(tmp_path: Path) -> None:
    rec, _ = _record(tmp_path, programs.COUNTERS, "3")
    app = rec / "run" / "app.py"
    # On replay, worker 2 (thread 0.3) holds the lock where retrace cannot see it.
    app.write_text(app.read_text().replace(
        "def work(i):\n", "def work(i):\n    if i == 2:\n        lock._lock.acquire()\n"))
    replayed = replay(rec, env={"RETRACE_REPLAY_TIMEOUT": "2"})
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert "hint: no thread can go on" in replayed.stderr
    # Whichever times out first reports: the blocked thread, or a thread waiting behind it.
    assert ("could not complete threading.Lock.acquire at its turn" in replayed.stderr
            or "is performing threading.Lock.acquire" in replayed.stderr), replayed.stderr
    assert "waits to call" in replayed.stderr


@pytest.mark.parametrize("source, threads", [(programs.RACE, "8"), (programs.POOL, "8")],
                         ids=["race", "pool"])
def test_serial_mode_replays_even_unsynchronised_races(tmp_path: Path, source: str,
                                                       threads: str) -> None:
    program = tmp_path / "app.py"
    program.write_text(source)
    rec = tmp_path / "rec"
    recorded = record(program, rec, threads, cwd=tmp_path, env={"RETRACE_SERIAL": "1"})
    assert recorded.status == 0, recorded.stderr
    assert "retrace:" not in recorded.stderr, recorded.stderr
    _assert_identical(recorded, _replays(rec))


def test_a_librarys_own_threads_replay_whichever_thread_picks_up_the_work(tmp_path: Path) -> None:
    """Threads a library starts race for its tasks and poll the clock: neither is the
    program's business, so their events are matched by what they are, not by turn."""
    library = tmp_path / "lib" / "site-packages"
    library.mkdir(parents=True)
    (library / "bglib.py").write_text(programs.BACKGROUND_LIBRARY)
    program = tmp_path / "app.py"
    program.write_text(programs.USES_BACKGROUND_LIBRARY)
    env = {"PYTHONPATH": str(library), "HOME_REGION": "eu-west", "APP_MODE": "batch",
           "APP_TIER": "gold"}
    rec = tmp_path / "rec"
    recorded = record(program, rec, env=env, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert "('APP_MODE', 'batch')" in recorded.stdout and "('MISSING_ONE', '?')" in recorded.stdout
    paths = _thread_paths(rec)
    assert any(p.endswith("*") for p in paths), paths  # the library's threads are named as such
    replay_env = {"PYTHONPATH": str(library)}  # the variables are gone: they come from the trace
    _assert_identical(recorded, _replays(rec, times=8, env=replay_env))


def test_polling_is_alive_sees_what_it_saw_when_recorded(tmp_path: Path) -> None:
    """The worker's sleeps replay instantly, so unrecorded polls would see it end sooner."""
    rec, recorded = _record(tmp_path, programs.POLLS_A_THREAD)
    assert "after join False" in recorded.stdout
    _assert_identical(recorded, _replays(rec, times=8))


def test_threads_made_inside_a_boundary_call_do_not_shift_the_programs_thread_names(
        tmp_path: Path) -> None:
    """The subprocess adapter relays a child's output in a thread of its own while recording;
    on replay no child runs, so that thread must not count among the program's."""
    rec, recorded = _record(tmp_path, '''
import subprocess, threading
subprocess.Popen(["sh", "-c", "echo from child"]).wait()
worker = threading.Thread(target=print, args=("from thread",))
worker.start()
worker.join()
print("done")
''')
    assert recorded.stdout == "from child\nfrom thread\ndone\n"
    _assert_identical(recorded, _replays(rec, times=3))
