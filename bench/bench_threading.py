"""Cost of synchronisation events, and a 16-thread workload live vs record vs replay.

Everything runs in one process, one phase after the other, timed with the
real ``perf_counter`` taken before anything is patched:

- per event: one thread acquires and releases a ``threading.Lock`` N times
  (2N ordered events), live, recorded, replayed;
- workload: 16 threads each take a shared lock 500 times (16,000 lock
  events) and read the clock inside every 10th critical section; live,
  recorded, replayed (the replay enforces the recorded interleaving); then
  the same in serial mode (``RETRACE_SERIAL=1``: threads run one at a time).

    python bench/bench_threading.py [--events N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _result import emit

from retrace.session import begin_recording, begin_replay

CLOCK = [time.perf_counter]  # in a list: the alias sweep rewrites module globals, not this
THREADS = 16
ROUNDS = 500


def _fail(error: Exception) -> None:
    raise error


def uncontended(n: int) -> float:
    lock = threading.Lock()
    start = CLOCK[0]()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return CLOCK[0]() - start


def workload(_: int) -> float:
    lock = threading.Lock()
    state = {"n": 0}

    def work() -> None:
        for i in range(ROUNDS):
            with lock:
                state["n"] += 1
                if i % 10 == 0:
                    time.monotonic()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    start = CLOCK[0]()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = CLOCK[0]() - start
    assert state["n"] == THREADS * ROUNDS
    return elapsed


def three_ways(run: Callable[[int], float], n: int) -> dict[str, float]:
    """Live (best of three), then recorded, then replayed from that recording."""
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-"))
    directory = folder / "rec"
    main = {"kind": "code", "code": ""}
    try:
        live = min(run(n) for _ in range(3))
        session = begin_recording(directory, main, ["bench"], None)
        recorded = run(n)
        session.end(0)
        assert session.recorder is not None
        events = session.recorder.events
        size = (directory / "trace.bin").stat().st_size
        session = begin_replay(directory, on_divergence=_fail)
        replayed = run(n)
        session.end(0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"live": live, "record": recorded, "replay": replayed, "bytes": size,
            "events": events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000,
                        help="acquire/release pairs for the per-event measurement")
    n = parser.parse_args().events
    r = three_ways(uncontended, n)
    per = {k: r[k] / (2 * n) * 1e6 for k in ("live", "record", "replay")}
    print(f"lock, one thread: {n} acquire/release pairs ({2 * n} events)")
    print(f"  live    {per['live']:.3f} us/event")
    print(f"  record  {per['record']:.3f} us/event  (+{per['record'] - per['live']:.3f} us)")
    print(f"  replay  {per['replay']:.3f} us/event  (+{per['replay'] - per['live']:.3f} us)")
    print(f"  trace   {r['bytes'] / r['events']:.2f} bytes/event")
    emit("threading: lock acquire/release, one thread", "event", per["live"] / 1e6,
         per["record"] / 1e6, per["replay"] / 1e6, bytes_per_event=r["bytes"] / r["events"])
    for mode in ("ordered", "serial"):
        os.environ["RETRACE_SERIAL"] = "1" if mode == "serial" else "0"
        w = three_ways(workload, 0)
        print(f"workload ({mode}): {THREADS} threads x {ROUNDS} lock rounds, "
              f"{int(w['events'])} events recorded")
        print(f"  live    {w['live'] * 1e3:.1f} ms")
        print(f"  record  {w['record'] * 1e3:.1f} ms  ({w['record'] / w['live']:.1f}x live, "
              f"{w['record'] / w['events'] * 1e6:.2f} us/event)")
        print(f"  replay  {w['replay'] * 1e3:.1f} ms  ({w['replay'] / w['live']:.1f}x live, "
              f"{w['replay'] / w['events'] * 1e6:.2f} us/event)")
        emit(f"threading: {THREADS} threads sharing a lock ({mode})", "event",
             w["live"] / w["events"], w["record"] / w["events"], w["replay"] / w["events"])
    os.environ.pop("RETRACE_SERIAL")


if __name__ == "__main__":
    main()
