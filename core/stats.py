"""``retrace stats RECORDING [--json] [--top N]``: where a recording's events and bytes go.

Per boundary and per call site: calls, bytes in the trace, and each one's
share of the total; for recordings made with ``RETRACE_TIMINGS=1``, also the
time spent in the real calls. It answers "why is this recording so big?",
"which line of my program talks to the outside world the most?" and "which
calls are slowest?". Call sites are shown relative to the recorded working
directory.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from .events import read_events

NAME = "stats"


def _site(site: tuple[str, int], cwd: str) -> str:
    file, line = site
    prefix = cwd.rstrip(os.sep) + os.sep
    if file.startswith(prefix):
        file = file[len(prefix):]
    return f"{file}:{line}"


def _rows(calls: Counter[Any], sizes: Counter[Any], times: Counter[Any] | None,
          top: int | None) -> list[dict[str, Any]]:
    total_calls, total_bytes = sum(calls.values()), sum(sizes.values())
    total_time = sum(times.values()) if times is not None else 0
    if times is not None:
        ranked = sorted(calls, key=lambda k: (-times[k], -sizes[k], str(k)))
    else:
        ranked = sorted(calls, key=lambda k: (-sizes[k], -calls[k], str(k)))
    rows = []
    for key in ranked if top is None else ranked[:top]:
        row = {
            "calls": calls[key],
            "bytes": sizes[key],
            "call_share": calls[key] / total_calls if total_calls else 0.0,
            "byte_share": sizes[key] / total_bytes if total_bytes else 0.0,
            "time_ns": times[key] if times is not None else None,
            "time_share": (times[key] / total_time if total_time else 0.0)
            if times is not None else None,
            "key": key,
        }
        rows.append(row)
    return rows


def compute(directory: Path, top: int | None = None) -> dict[str, Any]:
    """Calls and bytes per boundary and per call site, largest first."""
    stream = read_events(directory, progress="stats")
    cwd = stream.header.get("cwd", "")
    timed = bool(stream.header.get("timings"))
    boundary_time: Counter[str] = Counter()
    site_time: Counter[tuple[str, str]] = Counter()
    by_boundary: Counter[str] = Counter()
    boundary_bytes: Counter[str] = Counter()
    by_site: Counter[tuple[str, str]] = Counter()
    site_bytes: Counter[tuple[str, str]] = Counter()
    raised: Counter[str] = Counter()
    for event in stream:
        site = (_site(event.site, cwd), event.boundary)
        by_boundary[event.boundary] += 1
        boundary_bytes[event.boundary] += event.size
        by_site[site] += 1
        site_bytes[site] += event.size
        raised[event.boundary] += event.raised
        boundary_time[event.boundary] += event.duration or 0
        site_time[site] += event.duration or 0
    calls = sum(by_boundary.values())
    size = sum(boundary_bytes.values())
    boundaries = _rows(by_boundary, boundary_bytes, boundary_time if timed else None, None)
    for row in boundaries:
        row["boundary"] = row.pop("key")
        row["raised"] = raised[row["boundary"]]
    sites = _rows(by_site, site_bytes, site_time if timed else None, top)
    for row in sites:
        row["site"], row["boundary"] = row.pop("key")
    return {
        "directory": str(stream.directory),
        "state": stream.state,
        "events": calls,
        "event_bytes": size,
        "trace_bytes": stream.path.stat().st_size,
        "timings": timed,
        "boundaries": boundaries if top is None else boundaries[:top],
        "sites": sites,
    }


def _time(row: dict[str, Any]) -> str:
    if row["time_ns"] is None:
        return ""
    return f" {row['time_ns'] / 1e6:>11.3f} {row['time_share']:>6.1%}"


def _print(info: dict[str, Any]) -> None:
    print(f"recording  {info['directory']} ({info['state']})")
    print(f"events     {info['events']}, {info['event_bytes']} bytes of events "
          f"in a {info['trace_bytes']}-byte trace")
    if not info["timings"]:
        print("time       not recorded (record with RETRACE_TIMINGS=1 to see time per call)")
    times = f" {'time (ms)':>11} {'share':>6}" if info["timings"] else ""
    print()
    print(f"{'boundary':<34} {'calls':>9} {'share':>6} {'bytes':>11} {'share':>6}{times} {'raised':>7}")
    for row in info["boundaries"]:
        print(f"{row['boundary']:<34} {row['calls']:>9} {row['call_share']:>6.1%} "
              f"{row['bytes']:>11} {row['byte_share']:>6.1%}{_time(row)} {row['raised']:>7}")
    print()
    print(f"{'call site':<50} {'boundary':<24} {'calls':>9} {'bytes':>11} {'share':>6}{times}")
    for row in info["sites"]:
        print(f"{row['site']:<50} {row['boundary']:<24} {row['calls']:>9} "
              f"{row['bytes']:>11} {row['byte_share']:>6.1%}{_time(row)}")


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="calls and bytes per boundary and per call site")
    cmd.add_argument("recording", metavar="RECORDING")
    cmd.add_argument("--top", type=int, default=10, metavar="N",
                     help="show the N largest boundaries and call sites (default 10; 0: all)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")


def run(options: argparse.Namespace) -> int:
    info = compute(Path(options.recording), top=options.top or None)
    if options.json:
        print(json.dumps(info, indent=2))
    else:
        _print(info)
    return 0
