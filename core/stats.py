"""``retrace stats RECORDING [--json] [--top N]``: where a recording's events and bytes go.

Per boundary and per call site: calls, bytes in the trace, and each one's
share of the total. It answers "why is this recording so big?" and "which
line of my program talks to the outside world the most?". Call sites are
shown relative to the recorded working directory. (Time spent in the real
calls is not in the trace yet; see docs/troubleshooting.md.)
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


def _rows(calls: Counter[Any], sizes: Counter[Any], total_calls: int, total_bytes: int,
          top: int | None) -> list[dict[str, Any]]:
    ranked = sorted(calls, key=lambda k: (-sizes[k], -calls[k], str(k)))
    return [
        {
            "calls": calls[key],
            "bytes": sizes[key],
            "call_share": calls[key] / total_calls if total_calls else 0.0,
            "byte_share": sizes[key] / total_bytes if total_bytes else 0.0,
            "key": key,
        }
        for key in (ranked if top is None else ranked[:top])
    ]


def compute(directory: Path, top: int | None = None) -> dict[str, Any]:
    """Calls and bytes per boundary and per call site, largest first."""
    stream = read_events(directory, progress="stats")
    cwd = stream.header.get("cwd", "")
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
    calls = sum(by_boundary.values())
    size = sum(boundary_bytes.values())
    boundaries = _rows(by_boundary, boundary_bytes, calls, size, None)
    for row in boundaries:
        row["boundary"] = row.pop("key")
        row["raised"] = raised[row["boundary"]]
    sites = _rows(by_site, site_bytes, calls, size, top)
    for row in sites:
        row["site"], row["boundary"] = row.pop("key")
    return {
        "directory": str(stream.directory),
        "state": stream.state,
        "events": calls,
        "event_bytes": size,
        "trace_bytes": stream.path.stat().st_size,
        "boundaries": boundaries if top is None else boundaries[:top],
        "sites": sites,
    }


def _print(info: dict[str, Any]) -> None:
    print(f"recording  {info['directory']} ({info['state']})")
    print(f"events     {info['events']}, {info['event_bytes']} bytes of events "
          f"in a {info['trace_bytes']}-byte trace")
    print()
    print(f"{'boundary':<34} {'calls':>9} {'share':>6} {'bytes':>11} {'share':>6} {'raised':>7}")
    for row in info["boundaries"]:
        print(f"{row['boundary']:<34} {row['calls']:>9} {row['call_share']:>6.1%} "
              f"{row['bytes']:>11} {row['byte_share']:>6.1%} {row['raised']:>7}")
    print()
    print(f"{'call site':<50} {'boundary':<24} {'calls':>9} {'bytes':>11} {'share':>6}")
    for row in info["sites"]:
        print(f"{row['site']:<50} {row['boundary']:<24} {row['calls']:>9} "
              f"{row['bytes']:>11} {row['byte_share']:>6.1%}")


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
