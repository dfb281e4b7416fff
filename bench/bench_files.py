"""Reading many small files and one large file: live, recording and replay, and recording size.

One process, one run: the files are created, read live, read while
recording, deleted, and read again while replaying (so replay provably
serves them from the recording). Timed with the real ``perf_counter``
taken before anything is patched.

    python bench/bench_files.py [--small N] [--large-mb M]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _result import emit

from retrace.session import begin_recording, begin_replay

CLOCK = [time.perf_counter]  # in a list: the alias sweep rewrites module globals, not this
CHUNK = 1 << 20


def _make(folder: Path, small: int, large_mb: int) -> tuple[list[str], str]:
    (folder / "small").mkdir(parents=True)
    names = []
    for i in range(small):
        path = folder / "small" / f"f{i:05d}.txt"
        path.write_bytes(f"record {i}\n".encode() * (20 + i % 50))
        names.append(str(path))
    large = folder / "large.bin"
    block = os.urandom(CHUNK)
    with open(large, "wb") as out:
        for i in range(large_mb):
            out.write(block[i:] + block[:i])
    return names, str(large)


def _read_small(names: list[str]) -> int:
    total = 0
    for name in names:
        with open(name, "rb") as f:
            total += len(f.read())
    return total


def _read_large(path: str) -> int:
    total = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            total += len(chunk)
    return total


def _timed(work: Callable[[], int]) -> tuple[float, int]:
    start = CLOCK[0]()
    result = work()
    return CLOCK[0]() - start, result


def _fail(error: Exception) -> None:
    raise error


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def run(small: int, large_mb: int) -> dict[str, dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="retrace-bench-files-"))
    results: dict[str, dict[str, float]] = {}
    try:
        names, large = _make(folder / "data", small, large_mb)
        workloads = {"small": lambda: _read_small(names), "large": lambda: _read_large(large)}
        main = {"kind": "code", "code": ""}
        for label, work in workloads.items():
            live, expected = min((_timed(work) for _ in range(2)), key=lambda r: r[0])
            directory = folder / f"rec-{label}"
            session = begin_recording(directory, main, ["bench"], None)
            recorded, got = _timed(work)
            session.end(0)
            assert got == expected
            size = _size(directory)
            trace = (directory / "trace.bin").stat().st_size
            if label == "small":
                shutil.rmtree(folder / "data" / "small")
            else:
                os.remove(large)
            session = begin_replay(directory, on_divergence=_fail)
            replayed, got = _timed(work)
            session.end(0)
            assert got == expected, "replay read different bytes"
            results[label] = {"live": live, "record": recorded, "replay": replayed,
                              "bytes_read": expected, "recording": size, "trace": trace}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large-mb", type=int, default=100)
    options = parser.parse_args()
    results = run(options.small, options.large_mb)
    titles = {"small": f"{options.small} small files", "large": f"one {options.large_mb} MB file"}
    for label, r in results.items():
        print(f"{titles[label]} ({r['bytes_read'] / 1e6:.1f} MB read)")
        for mode in ("live", "record", "replay"):
            print(f"  {mode:<7} {r[mode] * 1e3:9.1f} ms  ({r[mode] / r['live']:.1f}x live)")
        print(f"  recording {r['recording'] / 1e6:.2f} MB on disk, of which trace "
              f"{r['trace'] / 1e3:.1f} kB")
        count = options.small if label == "small" else 1
        emit(f"files: {titles[label]}", "file", r["live"] / count, r["record"] / count,
             r["replay"] / count, note=f"{r['recording'] / 1e6:.1f} MB recorded")


if __name__ == "__main__":
    main()
