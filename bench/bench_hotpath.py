"""The core's CPU cost per event, in-process: a clock read, a redis command on a stub, a deep library call.

Each workload runs live, then recorded and replayed in a fresh session
(``begin_recording``/``begin_replay``, every adapter installed, as under
``retrace record``), best of ``--repeat`` sessions, timed with the process's
CPU clock (``CLOCK_PROCESS_CPUTIME_ID``, which retrace does not intercept):

- ``clock``: ``time.time()``, a scalar outcome the program asks for directly;
- ``redis``: ``Redis.execute_command``'s wrapper around a stub that answers
  ``b"OK"`` (no socket, no server: the adapter's and the core's cost alone),
  keys cycling over 100 values;
- ``deep``: a boundary reached through eight frames of a library (as a
  psycopg query is), with a list fingerprint, a summary and a nested list
  outcome;
- ``socket``: a loopback TCP connection made in the session (so the sockets
  adapter adopts it), ``sendall`` of 100 bytes and ``recv`` of them
  alternating: one socket event each.

``--once`` runs each workload once without timing, for instruction counts::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/bench_hotpath.py --once --only redis --events 1000
    # and again with --events 11000: the difference / 10,000 is per event
    # (add --record-only to count recording alone)

Needs redis-py installed (not a server).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis  # noqa: F401  (imported first, so the adapter's patches apply as in a program)

from retrace import runtime
from retrace.adapters.redis import client
from retrace.boundary import Boundary
from retrace.session import begin_recording, begin_replay


def _cpu() -> float:
    return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)


# A library, as far as call sites go: eight frames of a module named "fakelib".
_fake = types.ModuleType("fakelib")
exec("def d0(f, *a):\n    return f(*a)\n"
     + "".join(f"def d{i}(f, *a):\n    return d{i - 1}(f, *a)\n" for i in range(1, 8)),
     _fake.__dict__)
DEEP = Boundary("bench.deep", fingerprint=lambda i, a, k: ["SELECT %s", a[0]],
                summary=lambda i, a, k: f"SELECT {a[0]!r}", library=("fakelib",))


def _rows(i: int) -> Any:
    return [[i, "x"]]


def _deep_call(i: int) -> Any:
    return runtime.call(DEEP, _rows, i)


def _stub(*args: Any, **kwargs: Any) -> bytes:
    return b"OK"


def clock(n: int) -> None:
    read = time.time
    for _ in range(n):
        read()


def redis_stub(n: int) -> None:
    execute = client.execute_command
    for i in range(n):
        execute(_stub, None, ("SET", f"retrace-bench:{i % 100}", i), {})


def deep(n: int) -> None:
    outer = _fake.d7
    for i in range(n):
        outer(_deep_call, i % 50)


def socket_pair(n: int) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    connection, _ = server.accept()
    data = b"x" * 100
    for _ in range(n // 2):
        client.sendall(data)
        connection.recv(100)
    for sock in (client, connection, server):
        sock.close()


WORKLOADS: dict[str, tuple[Callable[[int], None], int]] = {
    "clock": (clock, 10),  # cheap: ten times the events
    "redis": (redis_stub, 1),
    "deep": (deep, 1),
    "socket": (socket_pair, 1),
}


def _fail(error: Exception) -> None:
    raise error


def _session(work: Callable[[int], None], n: int, replay: bool) -> tuple[float, float, int]:
    """CPU seconds to record ``n`` calls, to replay them, and the trace's size."""
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-"))
    directory = folder / "rec"
    try:
        session = begin_recording(directory, {"kind": "code", "code": ""}, ["bench"], None)
        start = _cpu()
        work(n)
        recorded = _cpu() - start
        session.end(0)
        size = (directory / "trace.bin").stat().st_size
        replayed = 0.0
        if replay:
            session = begin_replay(directory, on_divergence=_fail)
            start = _cpu()
            work(n)
            replayed = _cpu() - start
            session.end(0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return recorded, replayed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--once", action="store_true", help="run once, untimed (for callgrind)")
    parser.add_argument("--record-only", action="store_true")
    options = parser.parse_args()
    names = options.only or list(WORKLOADS)
    if options.once:
        for name in names:
            work, scale = WORKLOADS[name]
            _session(work, options.events * scale, replay=not options.record_only)
        return
    print(f"hot path: CPU µs per event, best of {options.repeat} sessions; Python "
          f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    print(f"  {'workload':<8}{'live':>8}{'record':>9}{'replay':>9}{'bytes/event':>13}")
    for name in names:
        work, scale = WORKLOADS[name]
        n = options.events * scale
        start = _cpu()
        work(n)
        live = _cpu() - start
        best = [float("inf"), float("inf")]
        size = 0
        for _ in range(options.repeat):
            recorded, replayed, size = _session(work, n, replay=not options.record_only)
            best = [min(best[0], recorded), min(best[1], replayed)]
        per = 1e6 / n
        print(f"  {name:<8}{live * per:>8.3f}{best[0] * per:>9.3f}{best[1] * per:>9.3f}"
              f"{size / n:>13.1f}")


if __name__ == "__main__":
    main()
