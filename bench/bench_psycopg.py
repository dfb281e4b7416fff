"""Benchmark: 5,000 parameterised SELECTs on one connection, live vs record vs replay, in one run.

Usage::

    python bench/bench_psycopg.py [--dsn DSN] [--queries N] [--impl binary|python] [--repeat K]
    python bench/bench_psycopg.py --server-ms 1 --queries 1000   # queries that take the server 1 ms

The same workload runs three ways: plain ``python`` (live), under ``retrace
record`` and under ``retrace replay`` of that recording. Each run times only
its query loop, with ``time.clock_gettime_ns(CLOCK_MONOTONIC)`` (a clock
retrace does not intercept, so replay reports its own time, not the recorded
one) and its process CPU time, and reports both on an inherited file
descriptor (``bench/_channel.py``). The best of
``--repeat`` interleaved runs of each mode is reported: ratios against live,
microseconds per query added by recording, and trace bytes per query; then
the ratios of the medians, which an unusually fast or slow run (this shared
machine has both) moves less than it moves the best. Wall
time depends on what else the machine runs (the server shares its cores);
client CPU time is the steadier measure of what retrace adds.

The issue's workload is a query the server answers at once, over localhost:
the client's own work is most of it. ``--server-ms`` makes each query also
wait that long in the server (``pg_sleep``), as a query doing real work does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import _channel
from _result import emit

WORKLOAD = '''
import os
import sys
import time

import psycopg

dsn, queries, out, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
sql = "SELECT %s::int + 1 FROM pg_sleep(%s)" if wait else "SELECT %s::int + 1"
with psycopg.connect(dsn) as conn, conn.cursor() as cur:
    for i in range(200):
        cur.execute(sql, (i, wait) if wait else (i,))
        cur.fetchone()
    start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
    total = 0
    for i in range(queries):
        cur.execute(sql, (i, wait) if wait else (i,))
        total += cur.fetchone()[0]
    cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID) - cpu
    elapsed = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - start
print("checksum", total)
os.write(int(out), f"{elapsed} {cpu}".encode())  # an inherited descriptor: see bench/_channel.py
'''


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall seconds, client CPU seconds)`` of one run's query loop."""
    done, report = _channel.run(command, env, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    wall, cpu = report.split()
    return int(wall) / 1e9, int(cpu) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--impl", default="binary", choices=["binary", "python"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server-ms", type=float, default=0.0,
                        help="make each query wait this long in the server (pg_sleep)")
    options = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env["PSYCOPG_IMPL"] = options.impl
    retrace = [sys.executable, "-m", "retrace"]
    with tempfile.TemporaryDirectory(prefix="retrace-bench-") as tmp:
        folder = Path(tmp)
        program = folder / "workload.py"
        program.write_text(WORKLOAD)
        args = [options.dsn, str(options.queries), str(_channel.FD), str(options.server_ms / 1000)]
        live: list[tuple[float, float]] = []
        rec: list[tuple[float, float]] = []
        rep: list[tuple[float, float]] = []
        size = 0
        for attempt in range(options.repeat):
            live.append(_run([sys.executable, str(program), *args], env))
            recording = folder / f"rec{attempt}"
            rec.append(_run([*retrace, "record", "-o", str(recording), str(program), *args], env))
            size = (recording / "trace.bin").stat().st_size
            rep.append(_run([*retrace, "replay", str(recording)], env))

    queries = options.queries
    waits = f", each waiting {options.server_ms:g} ms in the server" if options.server_ms else ""
    print(f"psycopg {options.impl}, {queries} queries{waits}, best of {options.repeat} "
          f"(wall: query loop elapsed; cpu: client process CPU)")
    for kind, index in (("wall", 0), ("cpu", 1)):
        best_live = min(r[index] for r in live)
        per = 1e6 / queries
        for label, runs in (("live", live), ("record", rec), ("replay", rep)):
            best = min(r[index] for r in runs)
            line = f"  {kind:4} {label:6} {best:7.3f} s  {best * per:7.2f} us/query"
            if label != "live":
                line += f"  {best / best_live:5.2f}x live"
            if label == "record":
                line += f"  (+{(best - best_live) * per:.2f} us/query)"
            print(line)
    print(f"  median of the {options.repeat} runs (this machine's speed varies between runs; "
          "the median is the steadier ratio):")
    for kind, index in (("wall", 0), ("cpu", 1)):
        middle = {label: statistics.median(r[index] for r in runs)
                  for label, runs in (("live", live), ("record", rec), ("replay", rep))}
        print(f"  {kind:4} live {middle['live'] * 1e6 / queries:7.2f} us/query, record "
              f"{middle['record'] / middle['live']:5.2f}x, replay "
              f"{middle['replay'] / middle['live']:5.2f}x live")
    print(f"  trace {size} bytes for {queries + 200} queries: "
          f"{size / (queries + 200):.1f} bytes/query")
    for kind, index in (("wall", 0), ("CPU", 1)):
        emit(f"psycopg ({options.impl}): {queries:,} SELECTs{waits} ({kind})", "query",
             *(min(r[index] for r in runs) / queries for runs in (live, rec, rep)),
             bytes_per_event=size / (queries + 200), note="bytes per query")


if __name__ == "__main__":
    main()
