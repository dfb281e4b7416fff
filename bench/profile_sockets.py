"""Profile recording a socket exchange: the service's server and a requests client, per request.

Usage::

    python bench/profile_sockets.py service [--mode record|live|replay] [--counts 20 120]
    python bench/profile_sockets.py requests [--mode ...] [--disable requests]
    python bench/profile_sockets.py service --cprofile 200   # call counts per request

The default counts instructions with callgrind: the workload runs under
``valgrind --tool=callgrind`` twice, with the two request counts of
``--counts``, and the difference divided by the difference in requests is
the cost of one request (start-up, imports and the end of the recording
cancel out). ``PYTHONHASHSEED=1`` is set so ``retrace record`` does not
re-execute itself (it would leave valgrind). ``service`` is
``bench/bench_service.py``'s server (PostgreSQL, Redis, a local HTTP API),
``requests`` is ``bench/bench_requests.py``'s keep-alive client of a local
server; ``--disable`` passes ``RETRACE_DISABLE_ADAPTERS`` (the requests
client with ``--disable requests`` records through the sockets adapter
alone). ``replay`` replays a recording of the same count made first.

``--cprofile N`` instead records N requests once with the loop under
cProfile and prints the functions called most per request (calls, not
time: cProfile's overhead distorts small functions' time). Needs
PostgreSQL and Redis on 127.0.0.1 for ``service``. Not a benchmark
(``run_all.py`` does not run it); the findings are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import pstats
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import _channel
import bench_requests
import bench_service

WARMUP = 5

#: The requests client: ``count`` keep-alive GETs after ``WARMUP``, optionally under cProfile.
CLIENT = r'''
import sys

import requests

url, count, warmup, profile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
session = requests.Session()
for _ in range(warmup):
    session.get(url).content
if profile:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
for _ in range(count):
    session.get(url).content
if profile:
    profiler.disable()
    profiler.dump_stats(profile)
'''


def _profiled_service(path: str) -> str:
    """The service's script with its measured loop under cProfile, the stats dumped to ``path``."""
    text = bench_service.SERVICE
    start = "    if i == warmup:\n"
    end = "server.server_close()\n"
    assert start in text and end in text
    text = text.replace(start, start + "        import cProfile\n        profiler = cProfile.Profile()\n"
                        "        profiler.enable()\n", 1)
    return text.replace(end, f"profiler.disable()\nprofiler.dump_stats({path!r})\n" + end, 1)


def _callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--trace-children=no"]


def _instructions(out: Path) -> int:
    match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
    if match is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(match.group(1))


def _command(mode: str, script: Path, args: list[str], recording: Path) -> list[str]:
    if mode == "live":
        return [sys.executable, str(script), *args]
    if mode == "record":
        return [sys.executable, "-m", "retrace", "record", "-o", str(recording), "--overwrite",
                str(script), *args]
    return [sys.executable, "-m", "retrace", "replay", str(recording)]


def _env(disable: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env["PYTHONHASHSEED"] = "1"
    env["RETRACE_CHECK_OUTPUT"] = "0"
    if disable:
        env["RETRACE_DISABLE_ADAPTERS"] = disable
    return env


@contextlib.contextmanager
def _service() -> Iterator[tuple[Path, list[str]]]:
    dsn = bench_service._prepare_database(bench_service.DATABASE)
    with tempfile.TemporaryDirectory(prefix="retrace-profile-sockets-") as tmp:
        folder = Path(tmp)
        (folder / "api.py").write_text(bench_service.API)
        api = subprocess.Popen([sys.executable, str(folder / "api.py"), "0"], stdout=subprocess.PIPE,
                               text=True)
        try:
            assert api.stdout is not None
            url = f"http://127.0.0.1:{int(api.stdout.readline())}"
            yield folder, [dsn, "6379", url]
        finally:
            api.terminate()
            api.wait()
            bench_service._clear_cache(6379)
            bench_service._drop_database(bench_service.DATABASE)


def _run_service(folder: Path, base: list[str], count: int, mode: str, prefix: list[str],
                 env: dict[str, str], script: str = bench_service.SERVICE) -> None:
    path = folder / "service.py"
    path.write_text(script)
    recording = folder / f"rec-{count}"
    if mode == "replay":
        _run_service(folder, base, count, "record", [], env, script)
    bench_service._clear_cache(6379)
    command = prefix + _command(mode, path, [*base, str(count), str(WARMUP)], recording)
    server, reports = _channel.start(command, env)
    with reports:
        if mode != "replay":
            bench_service._drive(int(reports.readline().split()[1]), count, warmup=WARMUP,
                                 timeout=600)
        stdout, stderr = server.communicate(timeout=3600)
    if server.returncode != 0 or "retrace:" in stderr:
        raise SystemExit(f"{' '.join(command)} failed ({server.returncode}):\n{stdout}\n{stderr}")


@contextlib.contextmanager
def _requests_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bench_requests.Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data"
    finally:
        server.shutdown()
        server.server_close()


def _run_requests(folder: Path, url: str, count: int, mode: str, prefix: list[str],
                  env: dict[str, str], profile: str = "") -> None:
    path = folder / "client.py"
    path.write_text(CLIENT)
    recording = folder / f"rec-{count}"
    if mode == "replay":
        _run_requests(folder, url, count, "record", [], env)
    command = prefix + _command(mode, path, [url, str(count), str(WARMUP), profile], recording)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0 or "retrace:" in done.stderr:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")


def _print_profile(path: Path, count: int, top: int) -> None:
    stats = pstats.Stats(str(path))
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][1])  # type: ignore[attr-defined]
    print(f"{'calls/req':>10}  function")
    for (file, line, name), (_, calls, *_rest) in rows[:top]:
        where = "/".join(Path(file).parts[-2:]) if file != "~" else ""
        print(f"{calls / count:>10.1f}  {where}:{line} {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=("service", "requests"))
    parser.add_argument("--mode", choices=("record", "live", "replay"), default="record")
    parser.add_argument("--counts", type=int, nargs=2, default=(20, 120))
    parser.add_argument("--disable", help="RETRACE_DISABLE_ADAPTERS for the run")
    parser.add_argument("--cprofile", type=int, metavar="N", help="call counts over N requests")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind outputs here")
    options = parser.parse_args()
    env = _env(options.disable)
    with contextlib.ExitStack() as stack:
        if options.workload == "service":
            folder, base = stack.enter_context(_service())
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="retrace-prof-")))
            url = stack.enter_context(_requests_server())
        if options.cprofile:
            stats = folder / "profile.stats"
            if options.workload == "service":
                _run_service(folder, base, options.cprofile, options.mode, [], env,
                             _profiled_service(str(stats)))
            else:
                _run_requests(folder, url, options.cprofile, options.mode, [], env, str(stats))
            _print_profile(stats, options.cprofile, options.top)
            return
        keep = Path(options.keep) if options.keep else folder
        keep.mkdir(parents=True, exist_ok=True)
        totals = []
        for count in options.counts:
            out = keep / f"callgrind.{options.workload}.{options.mode}.{count}"
            if options.workload == "service":
                _run_service(folder, base, count, options.mode, _callgrind(out), env)
            else:
                _run_requests(folder, url, count, options.mode, _callgrind(out), env)
            totals.append(_instructions(out))
        low, high = options.counts
        print(f"{options.workload} {options.mode}"
              f"{' without ' + options.disable if options.disable else ''}: "
              f"{(totals[1] - totals[0]) / (high - low):,.0f} instructions per request "
              f"({totals[0]:,} for {low}, {totals[1]:,} for {high})")


if __name__ == "__main__":
    main()
