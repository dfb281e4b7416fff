"""Benchmark: keep-alive GETs with one requests Session, live vs record vs replay (vs vcrpy).

Run it with the interpreter that has retrace installed::

    python bench/bench_requests.py            # 2,000 requests, plus 500/1,000/4,000 for scaling
    python bench/bench_requests.py -n 2000 --no-scaling
    python bench/bench_requests.py --latency-ms 5   # the I/O-bound run's server delay

A local ``http.server`` (HTTP/1.1, keep-alive, 512-byte bodies) runs in a
thread of this process; each mode runs the same client program in its own
process, three times interleaved (load changes hit every mode alike), the
run with the least CPU time counting. The client times its loop in wall time
(``CLOCK_MONOTONIC``) and in its own CPU time (``CLOCK_PROCESS_CPUTIME_ID``,
which leaves out waiting for the server and for other processes on a busy
machine), through ``time.clock_gettime_ns``, which retrace does not
intercept, so the replayed program reports its own replay time. Whole
process times (interpreter start, retrace set-up, trace written) are shown
too. If ``vcr`` (vcrpy) can be imported by this interpreter, the same loop
runs under a vcrpy cassette (record mode ``all``, then ``none``; once, and
only up to 2,000 requests, as its replay time grows quadratically); otherwise
that column is skipped with a message. vcrpy is never a dependency of
retrace: install it in a throwaway virtualenv to compare.

The local server answers at once, so live requests are CPU-bound in the
client, the worst case for replay's ratio. A last run makes the server wait
``--latency-ms`` (2 ms by default: a service in the same data centre) before
each answer, which is what I/O-bound work looks like; its ratios are in wall
time, since waiting is what replay saves there.
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _result import emit

BODY = b"b" * 512
#: vcrpy's replay is quadratic: beyond this many requests it runs for many minutes.
VCR_MAX = 2000

CLIENT = r'''
import sys
import time

import requests

url, count = sys.argv[1], int(sys.argv[2])
session = requests.Session()
session.get(url).content  # connect once: the loop measures keep-alive requests
start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
total = 0
for _ in range(count):
    total += len(session.get(url).content)
elapsed = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - start
cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID) - cpu
print(f"received {total} bytes")
print(f"loop_ns={elapsed} cpu_ns={cpu}", file=sys.stderr)
'''

VCR_CLIENT = r'''
import sys
import time

import requests
import vcr

url, count, cassette, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with vcr.use_cassette(cassette, record_mode=mode):
    session = requests.Session()
    session.get(url).content
    start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
    total = 0
    for _ in range(count):
        total += len(session.get(url).content)
    elapsed = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - start
cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID) - cpu
print(f"received {total} bytes")
print(f"loop_ns={elapsed} cpu_ns={cpu}", file=sys.stderr)
'''


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One send per response: with headers and body in separate small writes,
    # Nagle's algorithm and delayed ACKs add 40 ms to every keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    #: Seconds the server waits before answering (the I/O-bound run).
    latency = 0.0

    def do_GET(self) -> None:
        if self.latency:
            time.sleep(self.latency)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Result:
    """One mode's run: the loop's wall and CPU time as the client measured, the process time."""

    def __init__(self, loop_ns: int, cpu_ns: int, process_s: float, stdout: str) -> None:
        self.loop_ns = loop_ns
        self.cpu_ns = cpu_ns
        self.process_s = process_s
        self.stdout = stdout


def _run(argv: list[str], cwd: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env["RETRACE_CHECK_OUTPUT"] = "0"  # the client prints its own timings, which differ
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=900)
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    loop = [line for line in done.stderr.splitlines() if line.startswith("loop_ns=")]
    if not loop:
        raise SystemExit(f"{' '.join(argv)} printed no timing:\n{done.stderr}")
    wall, cpu = (int(field.split("=", 1)[1]) for field in loop[-1].split())
    return Result(wall, cpu, process_s, done.stdout)


def _best(runs: list[Result]) -> Result:
    return min(runs, key=lambda r: r.cpu_ns)


def _retrace(work: Path, url: str, count: int, repeat: int) -> tuple[Result, Result, Result, int]:
    """Each mode ``repeat`` times, interleaved (load changes hit all modes alike); the best."""
    client = work / "client.py"
    client.write_text(CLIENT)
    python = sys.executable
    lives, records, replays = [], [], []
    for attempt in range(repeat):
        recording = work / f"rec-{count}-{attempt}"
        lives.append(_run([python, str(client), url, str(count)], work))
        records.append(_run([python, "-m", "retrace", "record", "--overwrite", "-o",
                             str(recording), str(client), url, str(count)], work))
        replays.append(_run([python, "-m", "retrace", "replay", str(recording)], work))
    outputs = {r.stdout for r in lives + records + replays}
    if len(outputs) != 1:
        raise SystemExit("live, record and replay printed different output")
    size = (work / f"rec-{count}-0" / "trace.bin").stat().st_size
    return _best(lives), _best(records), _best(replays), size


def _vcr(work: Path, url: str, count: int, repeat: int) -> tuple[Result, Result, int]:
    client = work / "vcr_client.py"
    client.write_text(VCR_CLIENT)
    python = sys.executable
    records, replays = [], []
    for attempt in range(repeat):
        cassette = work / f"cassette-{count}-{attempt}.yaml"
        records.append(_run([python, str(client), url, str(count), str(cassette), "all"], work))
        replays.append(_run([python, str(client), url, str(count), str(cassette), "none"], work))
    return _best(records), _best(replays), (work / f"cassette-{count}-0.yaml").stat().st_size


def _row(name: str, result: Result, live: Result, count: int, size: int | None) -> str:
    size_text = f"{size / count:6.0f}" if size is not None else f"{'-':>6}"
    wall, cpu = result.loop_ns / count / 1000, result.cpu_ns / count / 1000
    return (f"  {name:<15}{wall:9.1f} {result.loop_ns / live.loop_ns:7.3f}x"
            f"{cpu:9.1f} {result.cpu_ns / live.cpu_ns:7.3f}x"
            f"   {size_text} {result.process_s:8.2f}")


HEADER = ("  mode            wall µs/req  vs live   CPU µs/req vs live  B/req  process s")


def _io_bound(work: Path, url: str, count: int, latency_ms: float, repeat: int) -> None:
    Handler.latency = latency_ms / 1000
    try:
        live, record, replay, size = _retrace(work, url, count, repeat)
    finally:
        Handler.latency = 0.0
    print(f"{count} requests, I/O-bound: the server answers after {latency_ms:g} ms")
    print(HEADER)
    print(_row("live", live, live, count, None))
    print(_row("retrace record", record, live, count, size))
    print(_row("retrace replay", replay, live, count, None))
    emit(f"requests: {count} GETs, server answers after {latency_ms:g} ms (wall)", "request",
         live.loop_ns / count / 1e9, record.loop_ns / count / 1e9, replay.loop_ns / count / 1e9,
         bytes_per_event=size / count, note="bytes per request")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each mode, interleaved; the one using least CPU counts")
    parser.add_argument("--no-scaling", action="store_true",
                        help="skip the runs at 500, 1,000 and 4,000 requests")
    parser.add_argument("--latency-ms", type=float, default=2.0,
                        help="the server's delay in the I/O-bound run (0 skips that run)")
    parser.add_argument("--latency-requests", type=int, default=1000)
    options = parser.parse_args()
    has_vcr = importlib.util.find_spec("vcr") is not None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/data"
    import requests

    print(f"python {sys.version.split()[0]}, requests {requests.__version__}, "
          f"{len(BODY)}-byte bodies, one keep-alive Session")
    if not has_vcr:
        print("vcrpy is not importable here: skipping the vcrpy columns "
              "(install vcrpy 9.x in a throwaway virtualenv to compare)")
    counts = [options.requests] if options.no_scaling else sorted(
        {500, 1000, options.requests, 4000})
    try:
        with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
            work = Path(tmp)
            for count in counts:
                live, record, replay, size = _retrace(work, url, count, options.repeat)
                print(f"{count} requests")
                print(HEADER)
                print(_row("live", live, live, count, None))
                print(_row("retrace record", record, live, count, size))
                print(_row("retrace replay", replay, live, count, None))
                if count == options.requests:
                    emit(f"requests: {count} GETs (CPU)", "request", live.cpu_ns / count / 1e9,
                         record.cpu_ns / count / 1e9, replay.cpu_ns / count / 1e9,
                         bytes_per_event=size / count, note="bytes per request")
                if has_vcr and count <= VCR_MAX:
                    vcr_record, vcr_replay, cassette = _vcr(work, url, count, 1)
                    print(_row("vcrpy record", vcr_record, live, count, cassette))
                    print(_row("vcrpy replay", vcr_replay, live, count, None))
                    if count == options.requests:
                        emit(f"vcrpy 9: {count} GETs (CPU)", "request", live.cpu_ns / count / 1e9,
                             vcr_record.cpu_ns / count / 1e9, vcr_replay.cpu_ns / count / 1e9,
                             bytes_per_event=cassette / count, note="for comparison")
            if options.latency_ms:
                _io_bound(work, url, options.latency_requests, options.latency_ms, options.repeat)
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
