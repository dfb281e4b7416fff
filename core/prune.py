"""``retrace prune ROOT [--keep N] [--max-age AGE] [--dry-run]``: a retention policy.

Production recording with a path template (``/var/retrace/{host}/{time}-{pid}``)
makes one recording per process; this keeps the newest ``N`` under ``ROOT``
and deletes those older than ``AGE`` (``30m``, ``12h``, ``7d``; a bare
number is days). Only directories holding a ``trace.bin`` are ever
deleted, found at any depth under ``ROOT`` (a recording's own folders are not
searched). Age is the time of the trace's last write, so a recording still
being written counts as new.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

from . import layout
from .errors import UsageError

NAME = "prune"
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """Seconds in ``30m``, ``12h``, ``7d``, ``2w``, or a bare number of days."""
    unit = text[-1:].lower()
    number = text[:-1] if unit in _SECONDS else text
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"--max-age {text!r}: give a number and a unit, like 12h or 7d") from None
    return value * _SECONDS.get(unit, _SECONDS["d"])


def find_recordings(root: Path) -> list[Path]:
    """Every recording directory under ``root``, newest first."""
    found = []
    for folder, subfolders, _files in os.walk(root):
        here = Path(folder)
        if layout.holds_recording(here):
            found.append(here)
            subfolders.clear()
    return sorted(found, key=lambda d: layout.trace_path(d).stat().st_mtime, reverse=True)


def select(recordings: list[Path], keep: int | None, max_age: float | None,
           now: float) -> list[Path]:
    """The recordings a policy deletes: beyond the newest ``keep``, or older than ``max_age``."""
    doomed = []
    for rank, directory in enumerate(recordings):
        age = now - layout.trace_path(directory).stat().st_mtime
        if (keep is not None and rank >= keep) or (max_age is not None and age > max_age):
            doomed.append(directory)
    return doomed


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="delete old recordings under a folder")
    cmd.add_argument("root", metavar="ROOT")
    cmd.add_argument("--keep", type=int, metavar="N", help="keep the newest N recordings")
    cmd.add_argument("--max-age", metavar="AGE", help="delete recordings older than AGE (12h, 7d)")
    cmd.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")


def run(options: argparse.Namespace) -> int:
    root = Path(options.root).expanduser().resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    if options.keep is None and options.max_age is None:
        raise UsageError("say what to keep: --keep N, --max-age AGE, or both")
    if options.keep is not None and options.keep < 0:
        raise UsageError("--keep takes a number of recordings, 0 or more")
    max_age = parse_age(options.max_age) if options.max_age is not None else None
    recordings = find_recordings(root)
    doomed = select(recordings, options.keep, max_age, time.time())
    for directory in doomed:
        if not options.dry_run:
            shutil.rmtree(directory)
        print(f"{'would delete' if options.dry_run else 'deleted'} {directory}")
    print(f"{len(recordings) - len(doomed)} of {len(recordings)} recording(s) kept under {root}")
    return 0
