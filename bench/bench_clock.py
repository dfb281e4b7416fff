"""Per-event cost of a clock boundary, and the start-up cost of ``retrace record``.

Live, record and replay of the same loop of ``time.time()`` calls run in one
process, one after the other, timed with a reference to the real
``perf_counter`` taken before anything is patched. Start-up is the wall time
of ``retrace record`` on an empty script minus ``python`` on the same script.

    python bench/bench_clock.py [--events N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _result import emit

from retrace.session import begin_recording, begin_replay

CLOCK = [time.perf_counter]  # in a list: the alias sweep rewrites module globals, not this


def _loop(n: int) -> float:
    read = time.time
    start = CLOCK[0]()
    for _ in range(n):
        read()
    return CLOCK[0]() - start


def _fail(error: Exception) -> None:
    raise error


def per_event(n: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-"))
    directory = folder / "rec"
    main = {"kind": "code", "code": ""}
    try:
        live = min(_loop(n) for _ in range(3))
        session = begin_recording(directory, main, ["bench"], None)
        recorded = _loop(n)
        session.end(0)
        size = (directory / "trace.bin").stat().st_size
        session = begin_replay(directory, on_divergence=_fail)
        replayed = _loop(n)
        session.end(0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"live": live, "record": recorded, "replay": replayed, "bytes": size}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def startup(repeats: int = 9) -> dict[str, float]:
    """Best (least) wall and CPU time of ``python empty.py``, ``retrace record`` and ``replay`` of it.

    Runs alternate, so a burst of other work on the machine hits all three
    alike. CPU time (the children's user + system) is reported beside wall
    time because it barely moves when other work loads the machine; the best
    of N is the run least disturbed by it.
    """
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-"))
    script = folder / "empty.py"
    script.write_text("")
    # Bytecode caches on, as on a normal install (this machine sets
    # PYTHONDONTWRITEBYTECODE, which makes every start-up compile from source);
    # one warm-up run of each writes them.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RETRACE") and k != "PYTHONDONTWRITEBYTECODE"}
    wall: dict[str, list[float]] = {"python": [], "record": [], "replay": []}
    cpu: dict[str, list[float]] = {"python": [], "record": [], "replay": []}
    warm = folder / "warm"
    try:
        subprocess.run([sys.executable, "-m", "retrace", "record", "-o", str(warm), str(script)],
                       check=True, env=env)
        subprocess.run([sys.executable, "-m", "retrace", "replay", str(warm)], check=True, env=env)
        for i in range(repeats):
            for kind, command in (
                ("python", [sys.executable, str(script)]),
                ("record", [sys.executable, "-m", "retrace", "record", "-o",
                            str(folder / f"r{i}"), str(script)]),
                ("replay", [sys.executable, "-m", "retrace", "replay", str(warm)]),
            ):
                c0, t0 = _children_cpu(), CLOCK[0]()
                subprocess.run(command, check=True, env=env)
                wall[kind].append(CLOCK[0]() - t0)
                cpu[kind].append(_children_cpu() - c0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {f"{measure}_{kind}": min(values[kind])
            for measure, values in (("wall", wall), ("cpu", cpu)) for kind in values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    n = parser.parse_args().events
    r = per_event(n)
    us = {k: r[k] / n * 1e6 for k in ("live", "record", "replay")}
    print(f"clock: {n} time.time() calls")
    print(f"  live    {us['live']:.3f} us/call")
    print(f"  record  {us['record']:.3f} us/call  ({r['record'] / r['live']:.1f}x live, "
          f"+{us['record'] - us['live']:.3f} us/event)")
    print(f"  replay  {us['replay']:.3f} us/call  ({r['replay'] / r['live']:.1f}x live)")
    print(f"  trace   {r['bytes'] / n:.2f} bytes/event")
    up = startup()
    emit(f"clock: {n:,} time.time() calls", "event", r["live"] / n, r["record"] / n,
         r["replay"] / n, bytes_per_event=r["bytes"] / n,
         startup_ms=(up["cpu_record"] - up["cpu_python"]) * 1e3,
         note=f"start-up is CPU time of retrace record over python; replay "
              f"+{(up['cpu_replay'] - up['cpu_python']) * 1e3:.0f} ms")
    for measure in ("wall", "cpu"):
        plain, rec, rep = (up[f"{measure}_{kind}"] for kind in ("python", "record", "replay"))
        print(f"start-up ({measure}, best of 9): python {plain * 1e3:.1f} ms, retrace record "
              f"{rec * 1e3:.1f} ms (+{(rec - plain) * 1e3:.1f} ms), retrace replay "
              f"{rep * 1e3:.1f} ms (+{(rep - plain) * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
