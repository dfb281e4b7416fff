"""``retrace doctor [RECORDING]``: the troubleshooting flowchart, run as checks.

Each check prints one line: a mark, what was checked, what was found, and
for anything wrong the fix. ``✗`` is a failure (exit status 1), ``!`` a
warning worth reading (a partial recording still replays; code drift does
not change a replay), ``✓`` fine. Without a recording the checks are about
this environment: can it record? With one, also: can this environment
replay it, and is it what you think it is?
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from . import __version__, autoenable, layout
from .bootstrap import DEFAULT_PATH, KNOWN, OFF, ON, expand_path
from .errors import RetraceError
from .versions import in_range

NAME = "doctor"
MIN_FREE_BYTES = 100 * 1024 * 1024
LARGE_RECORDING = 100 * 1024 * 1024
MARKS = {"ok": ("✓", "ok"), "warn": ("!", "warn"), "fail": ("✗", "FAIL")}


@attrs.frozen
class Check:
    """One line of the report."""

    status: str
    topic: str
    found: str
    fix: str = ""


def ok(topic: str, found: str) -> Check:
    return Check("ok", topic, found)


def warn(topic: str, found: str, fix: str) -> Check:
    return Check("warn", topic, found, fix)


def fail(topic: str, found: str, fix: str) -> Check:
    return Check("fail", topic, found, fix)


def check_python() -> Check:
    here = ".".join(map(str, sys.version_info[:3]))
    try:
        supported = importlib.metadata.metadata("retrace")["Requires-Python"] or ""
    except importlib.metadata.PackageNotFoundError:
        supported = ""
    if sys.implementation.name != "cpython":
        return fail("python", f"{sys.implementation.name} {here}", "use CPython")
    if supported and not in_range(here, supported):
        return fail("python", f"Python {here} is outside retrace's range {supported}",
                    f"run retrace with a Python in {supported}")
    return ok("python", f"CPython {here}" + (f" (supported: {supported})" if supported else ""))


def check_retrace() -> Check:
    where = Path(__file__).resolve().parent
    return ok("retrace", f"retrace {__version__} imported from {where} ({sys.executable})")


def check_autoenable() -> Check:
    asked = os.environ.get("RETRACE", "").lower() in ON
    if autoenable.installed():
        return ok("autoenable", f"installed ({autoenable.pth_path()}): RETRACE=1 records any process")
    if asked:
        return fail("autoenable", "RETRACE=1 is set but the hook is not installed in this "
                    "environment, so nothing records", "python -m retrace.autoenable")
    return ok("autoenable", "not installed (only needed for RETRACE=1; "
              "`retrace record` works without it)")


def check_variables() -> Iterator[Check]:
    env = os.environ
    unknown = sorted(k for k in env if k.startswith("RETRACE") and k not in KNOWN)
    if unknown:
        yield fail("environment", f"unknown variable(s) {', '.join(unknown)} (a typo?)",
                   f"unset them; known: {', '.join(k for k in KNOWN if KNOWN[k] != 'internal')}")
    value = env.get("RETRACE")
    path = env.get("RETRACE_RECORDING_PATH")
    if value is None:
        if path:
            yield fail("environment", "RETRACE_RECORDING_PATH is set but RETRACE is not: "
                       "nothing records", "export RETRACE=1, or unset RETRACE_RECORDING_PATH")
        else:
            yield ok("environment", "RETRACE is not set: processes run unrecorded")
        return
    if value.lower() not in ON | OFF:
        yield fail("environment", f"RETRACE={value!r} is not understood", "export RETRACE=1")
    elif value.lower() in OFF:
        yield ok("environment", f"RETRACE={value!r}: recording is off")
    elif not path:
        yield warn("environment", f"RETRACE=1 without RETRACE_RECORDING_PATH records to "
                   f"./{DEFAULT_PATH}", "export RETRACE_RECORDING_PATH=DIR")
    else:
        yield ok("environment", f"RETRACE=1, RETRACE_RECORDING_PATH={path}")


def check_destination() -> Iterator[Check]:
    raw = os.environ.get("RETRACE_RECORDING_PATH") or DEFAULT_PATH
    target = Path(expand_path(raw)).expanduser().resolve()
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        yield fail("destination", f"{existing} is not writable, so {target} cannot be created",
                   f"choose a writable RETRACE_RECORDING_PATH, or fix the permissions of {existing}")
        return
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        yield fail("disk", f"{_size(free)} free under {existing}",
                   "free some space, or record to a larger volume")
    else:
        yield ok("disk", f"{target} is writable, {_size(free)} free")
    if layout.holds_recording(target):
        yield ok("destination", f"{target} already holds a recording; RETRACE=1 records to "
                 f"{layout.free_sibling(target).name} instead")


def check_adapters() -> Iterator[Check]:
    from .registry import discover_adapters

    try:
        entries = discover_adapters()
    except Exception as exc:
        yield fail("adapters", f"loading the installed adapters failed: {exc!r}",
                   "reinstall the adapter distribution named in the error")
        return
    for entry in entries:
        dist = entry.adapter.distribution
        topic = f"adapter {entry.name}"
        if entry.status == "unsupported":
            yield fail(topic, f"{dist} {entry.library_version} is outside {entry.adapter.supported}",
                       f"pip install '{dist}{entry.adapter.supported}', or "
                       f"RETRACE_DISABLE_ADAPTERS={entry.name}")
        elif entry.status == "not installed":
            yield ok(topic, f"{dist} is not installed; the adapter stays inactive")
        else:
            lib = f"{dist} {entry.library_version}" if dist else "standard library"
            yield ok(topic, f"{lib} ({entry.provided_by})")


def check_recording(path: Path, source: Path | None) -> Iterator[Check]:
    """Whether ``path`` is a recording this environment replays as recorded."""
    from .compat import check_compatible
    from .summary import summarize_recording

    try:
        directory = layout.locate(path)
        info = summarize_recording(directory)
    except RetraceError as exc:
        yield fail("recording", str(exc), "record again; a damaged trace cannot be repaired")
        return
    header = info["header"]
    try:
        check_compatible(header, layout.trace_path(directory))
        yield ok("format", f"trace format {header.get('format')}, recorded by retrace "
                 f"{header.get('retrace')} with Python {'.'.join(map(str, header['python']))}")
    except RetraceError as exc:
        yield fail("format", str(exc).split(": ", 1)[-1],
                   "replay with the retrace and Python minor version that recorded it")
    yield from _check_recorded_adapters(header)
    yield from _check_run(directory, header, source)
    state = info["state"]
    if state == "complete":
        yield ok("state", f"complete, {info['events']} events, exit status {info['exit_status']}")
    else:
        yield warn("state", f"{state}, {info['events']} events",
                   "it replays up to its last event, then stops with exit 87")
    total = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    line = f"{_size(total)} in all, trace {_size(info['trace_bytes'])}"
    if total > LARGE_RECORDING:
        yield warn("size", line, "`retrace stats` shows which calls fill it")
    else:
        yield ok("size", line)


def _check_recorded_adapters(header: dict[str, Any]) -> Iterator[Check]:
    from .registry import discover_adapters

    here = {e.name: e for e in discover_adapters()}
    for recorded in header.get("adapters", []):
        name = recorded["name"]
        entry = here.get(name)
        if entry is None:
            yield fail(f"adapter {name}", "used by the recording, not installed here",
                       f"install the distribution that provides it ({recorded.get('provided_by')})")
        elif recorded.get("version") and recorded["version"] != entry.library_version:
            yield warn(f"adapter {name}", f"{recorded.get('distribution')} was "
                       f"{recorded['version']} when recorded, is {entry.library_version} here",
                       f"pip install '{recorded.get('distribution')}=={recorded['version']}' "
                       "if the replay diverges")


def _check_run(directory: Path, header: dict[str, Any], source: Path | None) -> Iterator[Check]:
    from .snapshot import ABS_DIR, relative_place

    run = layout.run_path(directory)
    main = header.get("main", {})
    if not run.is_dir():
        yield fail("run/", f"{run} is missing", "record again: replay runs the sources in run/")
        return
    files = sorted(p for p in run.rglob("*.py") if p.is_file())
    if main.get("kind") == "path" and not (run / relative_place(main["path"], header["cwd"])).is_file():
        yield fail("run/", f"the recorded script {main['path']} is not in run/",
                   "record again; do not edit or prune run/")
        return
    yield ok("run/", f"{len(files)} source file(s)")
    tree = source or Path(header.get("cwd", "."))
    if not tree.is_dir():
        yield ok("drift", f"{tree} does not exist here; nothing to compare run/ with")
        return
    changed, gone = [], []
    for copy in files:
        relative = copy.relative_to(run)
        parts = relative.parts
        original = Path(os.sep, *parts[1:]) if parts[0] == ABS_DIR else tree / relative
        if not original.is_file():
            gone.append(str(relative))
        elif original.read_bytes() != copy.read_bytes():
            changed.append(str(relative))
    if changed or gone:
        detail = "; ".join(filter(None, [
            f"changed since recording: {', '.join(changed[:5])}" if changed else "",
            f"gone from {tree}: {', '.join(gone[:5])}" if gone else "",
        ]))
        yield warn("drift", detail, "replay runs run/, not your tree; record again to debug "
                   "the changed code")
    else:
        yield ok("drift", f"run/ matches {tree}")


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def diagnose(recording: Path | None, source: Path | None = None) -> list[Check]:
    checks = [check_python(), check_retrace(), check_autoenable(), *check_variables(),
              *check_destination(), *check_adapters()]
    if recording is not None:
        checks += check_recording(recording, source)
    return checks


def _marks() -> dict[str, str]:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
        return {k: v[0] for k, v in MARKS.items()}
    except (UnicodeEncodeError, LookupError):
        return {k: v[1] for k, v in MARKS.items()}


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="check this environment (and a recording) for known problems")
    cmd.add_argument("recording", nargs="?", metavar="RECORDING")
    cmd.add_argument("--source", metavar="DIR",
                     help="working tree to compare run/ with (default: the recorded cwd)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")


def run(options: argparse.Namespace) -> int:
    checks = diagnose(Path(options.recording) if options.recording else None,
                      Path(options.source) if options.source else None)
    if options.json:
        print(json.dumps([attrs.asdict(c) for c in checks], indent=2))
    else:
        marks = _marks()
        width = max(len(c.topic) for c in checks)
        for c in checks:
            fix = f"  -> fix: {c.fix}" if c.fix else ""
            print(f"{marks[c.status]} {c.topic:<{width}}  {c.found}{fix}")
    return 1 if any(c.status == "fail" for c in checks) else 0
