"""Profile the record hot path: where a recorded Redis GET and psycopg SELECT spend their time.

Usage::

    python bench/profile_record.py [--calls N] [--top K] [redis] [psycopg]

Each loop runs in a fresh interpreter inside ``retrace.recording()`` under
cProfile, and twice more without profiling, live and recorded, to give the
real added cost per call (best of three loops). The profiler counts CPU
time, not wall time: a call that waits for the server (libpq's I/O inside
psycopg's compiled code, a socket read) would otherwise charge the wait to
the Python function around it. The table lists the functions with the most
own CPU time (``tottime``) per recorded call, grouped by where they live:
retrace's core, the adapter, the library, or the rest.
cProfile's own overhead inflates small functions, so read the table for
ranking, and the unprofiled numbers for size. Needs Redis and PostgreSQL on
127.0.0.1. Not a benchmark (``run_all.py`` does not
run it); the findings are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import retrace

# Clocks retrace does not patch (time.perf_counter and time.process_time are boundaries; a
# reference taken here would be swept to the boundary's wrapper when a recording starts).
_clock = functools.partial(time.clock_gettime, time.CLOCK_MONOTONIC)
_cpu = functools.partial(time.clock_gettime, time.CLOCK_PROCESS_CPUTIME_ID)


def _redis_loop(calls: int) -> tuple[Callable[[], None], Callable[[], None]]:
    import redis

    r = redis.Redis(host="127.0.0.1", port=6379)
    key = "retrace-profile:k"
    r.set(key, "value")

    def loop() -> None:
        for _ in range(calls):
            r.get(key)

    def close() -> None:
        r.delete(key)
        r.close()

    return loop, close


def _psycopg_loop(calls: int) -> tuple[Callable[[], None], Callable[[], None]]:
    import psycopg

    conn = psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True)
    cur = conn.cursor()
    for i in range(50):  # let psycopg prepare the statement, as in a long-running service
        cur.execute("SELECT %s::int + 1", (i,))
        cur.fetchone()

    def loop() -> None:
        for i in range(calls):
            cur.execute("SELECT %s::int + 1", (i,))
            cur.fetchone()

    return loop, conn.close


LOOPS = {"redis": _redis_loop, "psycopg": _psycopg_loop}


def _where(filename: str) -> str:
    if "/adapters/" in filename or "retrace/adapters" in filename:
        return "adapter"
    if "/core/" in filename or "/retrace/" in filename:
        return "core"
    if "site-packages" in filename:
        return "library"
    return "other"


def _timed(loop: Callable[[], None]) -> float:
    start = _clock()
    loop()
    return _clock() - start


def _child(name: str, calls: int, mode: str, folder: str, top: int) -> None:
    """One measurement in a fresh interpreter, the library imported inside the recording.

    As in a program recorded whole: the adapter's patches are in place before
    the library's modules take references to what they patch.
    """
    session = retrace.recording(folder, overwrite=True) if mode != "live" else nullcontext()
    with session:
        loop, close = LOOPS[name](calls)
        try:
            if mode == "profile":
                profiler = cProfile.Profile(_cpu)
                profiler.runcall(loop)
            else:
                print(min(_timed(loop) for _ in range(3)))
        finally:
            close()
    if mode == "profile":
        _report(name, calls, top, profiler)


def _measure(name: str, calls: int, mode: str, folder: Path, top: int) -> str:
    done = subprocess.run([sys.executable, __file__, "--child", name, mode, str(folder), "--calls",
                           str(calls), "--top", str(top)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{name} {mode} failed:\n{done.stderr}")
    return done.stdout


def profile(name: str, calls: int, top: int, folder: Path) -> None:
    live = float(_measure(name, calls, "live", folder / name, top))
    recorded = float(_measure(name, calls, "record", folder / name, top))
    per = 1e6 / calls
    print(f"{name}: {calls:,} calls; unprofiled wall {live * per:.1f} µs live, {recorded * per:.1f} µs "
          f"recorded (+{(recorded - live) * per:.1f} µs per call)")
    print(_measure(name, calls, "profile", folder / name, top), end="")


def _report(name: str, calls: int, top: int, profiler: cProfile.Profile) -> None:
    per = 1e6 / calls
    stats = pstats.Stats(profiler)
    rows = []
    groups: dict[str, float] = {}
    for (filename, line, function), (_cc, ncalls, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = _where(filename)
        groups[where] = groups.get(where, 0.0) + tottime
        rows.append((tottime, ncalls / calls, where, f"{Path(filename).name}:{line} {function}"))
    total = sum(groups.values())
    print("  own CPU time per call under cProfile, by where it lives: " + ", ".join(
        f"{where} {seconds * per:.1f} µs ({100 * seconds / total:.0f}%)"
        for where, seconds in sorted(groups.items(), key=lambda kv: -kv[1])))
    print(f"  {'µs/call':>7}  {'share':>5}  {'n/call':>6}  {'where':<8} function")
    for tottime, count, where, label in sorted(rows, reverse=True)[:top]:
        print(f"  {tottime * per:7.2f}  {100 * tottime / total:4.1f}%  {count:6.1f}  {where:<8} {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("loops", nargs="*", metavar="LOOP", help="redis, psycopg (default: both)")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--child", nargs=3, metavar=("LOOP", "MODE", "DIR"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        name, mode, folder = options.child
        _child(name, options.calls, mode, folder, options.top)
        return
    print(f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="retrace-profile-") as tmp:
        for name in options.loops or list(LOOPS):
            profile(name, options.calls, options.top, Path(tmp))


if __name__ == "__main__":
    main()
