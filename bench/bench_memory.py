"""Memory and cost stay flat over 1,000,000 clock events, recording and replaying.

Each phase runs in its own interpreter so peak memory (``ru_maxrss``) belongs
to that phase alone; the growth reported is the peak minus the resident
size just before the loop. Time per event is sampled over the first and the
last 100,000 events to show the cost does not grow with the trace.

    python bench/bench_memory.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _result import emit

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from retrace.session import begin_recording, begin_replay

mode, directory, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
clock = [time.perf_counter]
def fail(error):
    raise error
if mode == "record":
    session = begin_recording(directory, {"kind": "code", "code": ""}, ["bench"], None)
else:
    session = begin_replay(directory, on_divergence=fail)
read = time.time
window = 100_000
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = clock[0]()
for _ in range(window):
    read()
t1 = clock[0]()
for _ in range(n - 2 * window):
    read()
t2 = clock[0]()
for _ in range(window):
    read()
t3 = clock[0]()
session.end(0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"first_us": (t1 - t0) / window * 1e6, "last_us": (t3 - t2) / window * 1e6,
                  "growth_mb": (after - before) / 1024}))
"""


def run(mode: str, directory: Path, n: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(directory), str(n)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    n = parser.parse_args().events
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-"))
    try:
        recorded = run("record", folder / "rec", n)
        size = (folder / "rec" / "trace.bin").stat().st_size
        replayed = run("replay", folder / "rec", n)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"memory: {n} clock events")
    for name, r in (("record", recorded), ("replay", replayed)):
        print(f"  {name:<7} peak growth {r['growth_mb']:.1f} MB; "
              f"{r['first_us']:.2f} us/event over the first 100k, {r['last_us']:.2f} over the last")
    print(f"  trace   {size / 1e6:.1f} MB ({size / n:.2f} bytes/event)")
    flat = "; ".join(f"{name} {r['first_us']:.2f} → {r['last_us']:.2f} µs/event, first → last 100k"
                     for name, r in (("record", recorded), ("replay", replayed)))
    emit(f"memory: {n:,} clock events", "event", None, recorded["last_us"] / 1e6,
         replayed["last_us"] / 1e6, bytes_per_event=size / n,
         peak_mb=max(recorded["growth_mb"], replayed["growth_mb"]), note=flat)


if __name__ == "__main__":
    main()
