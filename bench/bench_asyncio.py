"""Benchmark: 1,000 concurrent asyncio tasks x 10 awaits on Redis (redis.asyncio): live, record, replay.

Run ``python bench/bench_asyncio.py`` with Redis on 127.0.0.1:6379. The
workload runs as a program three ways, best of ``--repeat`` rounds, phases
alternating round by round: plain ``python`` (live), ``retrace record`` and
``retrace replay``. The program times itself with the clock's original
function and prints it, so interpreter and retrace start-up are not
counted. Printed: seconds, ratio to live, µs per await,
and trace bytes per await.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _result import emit

TASKS = 1_000
AWAITS = 10

WORKLOAD = f"""
import asyncio, sys, time
import redis.asyncio as aredis

clock = getattr(time.perf_counter, "__wrapped__", time.perf_counter)
port = int(sys.argv[1])

async def task(r, i):
    key = f"retrace-bench-aio:{{i % 50}}"
    for j in range({AWAITS}):
        if j % 2:
            await r.get(key)
        else:
            await r.set(key, j)

async def main():
    pool = aredis.BlockingConnectionPool(host="127.0.0.1", port=port, max_connections=50)
    r = aredis.Redis(connection_pool=pool)
    await r.ping()
    start = clock()
    await asyncio.gather(*(task(r, i) for i in range({TASKS})))
    elapsed = clock() - start
    await r.delete(*[f"retrace-bench-aio:{{i}}" for i in range(50)])
    await r.aclose()
    print("elapsed", repr(elapsed))

asyncio.run(main())
"""


def _timed(command: list[str]) -> float:
    """The time the program printed (its output is printed for real on replay too)."""
    env = {**os.environ, "RETRACE_CHECK_OUTPUT": "0"}  # the printed time differs on replay
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return float(done.stdout.split("elapsed ")[-1])


def measure(workdir: Path, port: int, repeat: int) -> dict[str, float]:
    """Best time of each phase."""
    program = workdir / "workload.py"
    program.write_text(WORKLOAD)
    rec = workdir / "rec"
    args = [str(port)]
    commands = {
        "live": [sys.executable, str(program), *args],
        "record": [
            sys.executable,
            "-m",
            "retrace",
            "record",
            "-o",
            str(rec),
            "--overwrite",
            str(program),
            *args,
        ],
        "replay": [sys.executable, "-m", "retrace", "replay", str(rec)],
    }
    best = {phase: float("inf") for phase in commands}
    for _ in range(repeat):
        for phase, command in commands.items():
            best[phase] = min(best[phase], _timed(command))
    best["bytes"] = float((rec / "trace.bin").stat().st_size)
    return best


def loop_cost(workdir: Path) -> dict[str, float]:
    """µs per awaited call of a stub boundary (no network), in-process: none, record, replay.

    The same 1,000 tasks x 10 awaits, each await one ``retrace.aio.call`` of a
    coroutine that yields to the loop once: retrace's own cost per awaited
    call (driver, hand-over, two events), free of server and network time.
    """
    import asyncio

    import retrace
    from retrace import Boundary, aio

    stub_boundary = Boundary("bench.stub", fingerprint=lambda i, a, k: list(a))

    async def stub(j: int) -> int:
        await asyncio.sleep(0)
        return j

    async def task() -> None:
        for j in range(AWAITS):
            await aio.call(stub_boundary, stub, None, (j,), {})

    async def run() -> float:
        clock = getattr(time.perf_counter, "__wrapped__", time.perf_counter)  # not the recorded one
        start = clock()
        await asyncio.gather(*(task() for _ in range(TASKS)))
        return clock() - start

    rec = workdir / "stub-rec"
    result = {"none": asyncio.run(run())}
    with retrace.recording(rec, overwrite=True):
        result["record"] = asyncio.run(run())
    with retrace.replaying(rec):
        result["replay"] = asyncio.run(run())
    return {phase: seconds / (TASKS * AWAITS) * 1e6 for phase, seconds in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    import redis

    awaits = TASKS * AWAITS
    print(
        f"redis.asyncio {redis.__version__}: {TASKS:,} tasks x {AWAITS} awaits, best of "
        f"{options.repeat}, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'mode':<8}{'seconds':>9}{'x live':>8}{'µs/await':>10}{'bytes/await':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), options.port, options.repeat)
        stub = loop_cost(Path(tmp))
    live = result["live"]
    for phase in ("live", "record", "replay"):
        seconds = result[phase]
        size = f"{result['bytes'] / awaits:.1f}" if phase == "record" else ""
        print(f"{phase:<8}{seconds:>9.3f}{seconds / live:>8.2f}{seconds / awaits * 1e6:>10.1f}{size:>13}")
    emit(f"asyncio: {TASKS:,} tasks x {AWAITS} redis.asyncio awaits", "await", live / awaits,
         result["record"] / awaits, result["replay"] / awaits,
         bytes_per_event=result["bytes"] / awaits, note="bytes per await")
    print(
        f"in-process, stub coroutine instead of Redis: {stub['none']:.1f} µs/await not recording, "
        f"{stub['record']:.1f} recording, {stub['replay']:.1f} replaying"
    )


if __name__ == "__main__":
    main()
