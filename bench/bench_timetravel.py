"""Time travel: `rstep` and `rcontinue` latency along a 10⁶-line, 100,000-event replay, and memory.

A program of 100,000 loop iterations (one clock read and ten lines each) is
recorded, then driven through `retrace debug` on a pipe, as a user would:
at 10 %, 50 % and 90 % of the run it measures `rstep` (back one step),
`rcontinue` to the previous hit of a breakpoint hit every iteration, and
`rcontinue` to a breakpoint hit every 5,000 iterations (50,000 lines back),
each from the moment the command is sent until the prompt is back. It also
reports the cost of running under the debugger (to the end, no breakpoint)
against a plain `retrace replay` in the same run, and the memory the
checkpoints hold (proportional and private set size, from /proc).

    python bench/bench_timetravel.py [--iterations N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _result import emit

PROGRAM = """\
import time

total = 0
for i in range({n}):
    stamp = time.time()
    a = i * 3
    b = a % 7
    if b == 3:
        total += a
    else:
        total -= 1
    c = b + 1
    marker = i
print("total", total)
"""
MARKER_LINE = 13
PROMPT = b"(rdb) "


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RETRACE") and k != "PYTHONHASHSEED"}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, env=environment(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


class Debugger:
    """`retrace debug` on a pipe: send a command, time it until the prompt is back."""

    def __init__(self, recording: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "retrace", "debug", str(recording)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment(),
            start_new_session=True,
        )
        self.started = time.perf_counter()
        self.first = self.read()

    def read(self) -> str:
        assert self.proc.stdout is not None
        out = b""
        while not out.endswith(PROMPT):
            readable, _, _ = select.select([self.proc.stdout], [], [], 600)
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16) if readable else b""
            if not chunk:
                raise RuntimeError(f"the debugger stopped answering: {out[-500:]!r}")
            out += chunk
        return out.decode()

    def send(self, command: str) -> tuple[float, str]:
        assert self.proc.stdin is not None
        start = time.perf_counter()
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        answer = self.read()
        return time.perf_counter() - start, answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"q\n")
        self.proc.stdin.flush()
        self.proc.wait(60)


def memory(answer: str) -> str:
    found = re.search(r"(\d+) checkpoints.*memory ([\d.]+) MiB proportional, ([\d.]+) MiB private", answer)
    if not found:
        return "unknown"
    return f"{found[1]} checkpoints, {found[2]} MiB proportional, {found[3]} MiB private"


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    n = options.iterations
    work = Path(tempfile.mkdtemp(prefix="bench-timetravel-"))
    try:
        (work / "app.py").write_text(PROGRAM.format(n=n))
        retrace = [sys.executable, "-m", "retrace"]
        recording = timed([*retrace, "record", "-o", "rec", "app.py"], work)
        replay = timed([*retrace, "replay", "rec"], work)
        live = timed([sys.executable, "app.py"], work)

        to_end = Debugger(work / "rec")
        to_end_time, _ = to_end.send("c")
        _, end_memory = to_end.send("checkpoints")
        to_end.close()

        lines = 10 * n
        print(f"program: {n:,} iterations, {n:,} clock reads (boundary events), about {lines:,} lines")
        print(f"live {live:.2f} s, record {recording:.2f} s, replay {replay:.2f} s")
        emit(f"timetravel program: {n:,} iterations (whole process)", "iteration", live / n,
             recording / n, replay / n)
        print(
            f"debug, continue to the end: {to_end_time:.2f} s "
            f"({to_end_time / replay:.2f}x replay); {memory(end_memory)}"
        )
        print()
        print(
            "| at | rstep | rcontinue (previous iteration) | rcontinue (5,000 iterations back) |"
            " checkpoints |"
        )
        print("|---|---|---|---|---|")
        for share in (0.1, 0.5, 0.9):
            at = int(n * share)
            session = Debugger(work / "rec")
            session.send(f"b {MARKER_LINE}, i == {at}")
            session.send("c")
            rsteps = [session.send("rstep")[0] for _ in range(options.repeat)]
            session.send("disable 1")
            session.send(f"b {MARKER_LINE}")
            session.send("c")
            dense = [session.send("rc")[0] for _ in range(options.repeat)]
            session.send("disable 2")
            session.send(f"b {MARKER_LINE}, i % 5000 == 0")
            sparse = [session.send("rc")[0] for _ in range(2)]
            _, held = session.send("checkpoints")
            session.close()
            print(
                f"| {share:.0%} (i = {at:,}) | {ms(rsteps)} | {ms(dense)} | {ms(sparse)} | {memory(held)} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
