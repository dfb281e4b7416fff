"""Benchmark: 10,000 GET/SET round trips and the same in pipelines of 100: live, record, replay.

Run ``python bench/bench_redis.py`` with Redis on 127.0.0.1:6379. Each
workload runs as a program three ways, best of ``--repeat`` rounds: plain
``python`` (live), ``retrace record`` and ``retrace replay``. The program
times itself with the clock's original function (the clock adapter patches
``time.perf_counter``) and reports the time on an inherited file descriptor
(``bench/_channel.py``), so retrace start-up is not counted. Printed:
seconds, ratio to live, µs added per command and trace bytes per command,
in wall time and in the program's CPU time (``CLOCK_PROCESS_CPUTIME_ID``,
which retrace does not intercept): on a loaded machine the CPU time is the
steadier figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import _channel
from _result import emit

COMMANDS = 10_000


def _cpu() -> float:
    return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)

BATCH = 100

WORKLOAD = f'''
import os, sys, time
import redis

clock = getattr(time.perf_counter, "__wrapped__", time.perf_counter)
cpu = lambda: time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
mode, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = redis.Redis(host="127.0.0.1", port=port)
key = "retrace-bench:k"
r.set(key, "0")
start, start_cpu = clock(), cpu()
if mode == "single":
    for i in range({COMMANDS} // 2):
        r.set(key, i)
        r.get(key)
else:
    for _ in range({COMMANDS} // {BATCH}):
        pipe = r.pipeline(transaction=False)
        for i in range({BATCH} // 2):
            pipe.set(key, i).get(key)
        pipe.execute()
elapsed, used = clock() - start, cpu() - start_cpu
r.delete(key)
os.write(int(out), f"{{elapsed!r}} {{used!r}}".encode())  # an inherited descriptor: see bench/_channel.py
'''


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of the workload's loop."""
    done, report = _channel.run(command)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    wall, used = report.split()
    return float(wall), float(used)


def measure(workdir: Path, mode: str, port: int, repeat: int) -> dict[str, float]:
    """Best time of each phase; phases alternate round by round so load drifts hit all alike."""
    program = workdir / "workload.py"
    program.write_text(WORKLOAD)
    rec = workdir / f"rec-{mode}"
    args = [mode, str(_channel.FD), str(port)]
    commands = {
        "live": [sys.executable, str(program), *args],
        "record": [sys.executable, "-m", "retrace", "record", "-o", str(rec), "--overwrite",
                   str(program), *args],
        "replay": [sys.executable, "-m", "retrace", "replay", str(rec)],
    }
    best = {f"{phase}{kind}": float("inf") for phase in commands for kind in ("", " cpu")}
    for _ in range(repeat):
        for phase, command in commands.items():
            wall, used = _timed(command)
            best[phase] = min(best[phase], wall)
            best[f"{phase} cpu"] = min(best[f"{phase} cpu"], used)
    best["bytes"] = float((rec / "trace.bin").stat().st_size)
    return best


def boundary_cost(workdir: Path, calls: int = 20_000) -> tuple[float, float]:
    """CPU µs per ``SET`` through the adapter's wrapper with nothing recording, and recording.

    The wrapped call is a stub, so this is retrace's own cost per command, free of
    network and server time (which make the end-to-end numbers noisy on a busy machine).
    The keys cycle over 100 values, as a program's keys repeat.
    """
    from retrace import runtime, trace
    from retrace.adapters.redis import client
    from retrace.codecs import CodecRegistry

    writer = trace.TraceWriter(str(workdir / "cost.bin"), {"bench": True})
    recorder = runtime.Recorder(writer, CodecRegistry(), on_stop=print)

    def stub(*args: object, **kwargs: object) -> bytes:
        return b"OK"

    costs = []
    for mode in (runtime.Passthrough(), recorder):
        runtime.set_mode(mode)
        best = float("inf")
        for _ in range(5):
            start = _cpu()
            for i in range(calls):
                client.execute_command(stub, None, ("SET", f"retrace-bench:{i % 100}", i), {})
            best = min(best, _cpu() - start)
        costs.append(best / calls * 1e6)
    runtime.set_mode(runtime.Passthrough())
    writer.close()
    return costs[0], costs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    import redis

    print(f"redis-py {redis.__version__} benchmark: {COMMANDS:,} commands (SET/GET alternating), "
          f"best of {options.repeat}, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'workload':<22}{'mode':<8}{'seconds':>9}{'x live':>8}{'µs/cmd':>8}"
          f"{'+µs/cmd':>9}{'cpu µs/cmd':>11}{'x live':>8}{'bytes/cmd':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for mode, label in (("single", "round trips"), ("pipeline", f"pipelines of {BATCH}")):
            result = measure(Path(tmp), mode, options.port, options.repeat)
            live, live_cpu = result["live"], result["live cpu"]
            for phase in ("live", "record", "replay"):
                seconds, used = result[phase], result[f"{phase} cpu"]
                per = seconds / COMMANDS * 1e6
                added = (seconds - live) / COMMANDS * 1e6
                size = f"{result['bytes'] / COMMANDS:.1f}" if phase == "record" else ""
                print(f"{label:<22}{phase:<8}{seconds:>9.3f}{seconds / live:>8.2f}{per:>8.1f}"
                      f"{added:>+9.1f}{used / COMMANDS * 1e6:>11.1f}{used / live_cpu:>8.2f}"
                      f"{size:>11}")
            for kind, suffix in (("wall", ""), ("CPU", " cpu")):
                emit(f"redis: {COMMANDS:,} commands, {label} ({kind})", "command",
                     *(result[f"{phase}{suffix}"] / COMMANDS for phase in ("live", "record", "replay")),
                     bytes_per_event=result["bytes"] / COMMANDS, note="bytes per command")
        passthrough, recording = boundary_cost(Path(tmp))
    print(f"in-process, stub instead of the network (CPU): {passthrough:.1f} µs/cmd not "
          f"recording, {recording:.1f} µs/cmd recording (+{recording - passthrough:.1f})")


if __name__ == "__main__":
    main()
