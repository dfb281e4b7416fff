"""``retrace inspect``: what a recording holds, read in one streaming pass.

Progress goes to stderr when it is a terminal (:mod:`retrace.progress`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import cbor2

from . import layout, processes, trace
from .codecs import to_cbor
from .errors import BadRecording
from .progress import Progress, stderr_is_terminal


def _size(value: Any) -> int:
    try:
        return len(cbor2.dumps(to_cbor(value)))
    except Exception:
        return 0


def _scan(path: Path) -> dict[str, Any]:
    """One trace's header, state, exit status and per-boundary counts, in one streaming pass."""
    reader = trace.TraceReader(str(path))
    names: dict[int, str] = {}
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    threads: set[int] = set()
    footer = stopped = None
    shown = Progress(f"inspect {path.parent.name}", reader.size) if stderr_is_terminal() else None
    try:
        for offset, items in reader.blocks():
            if shown is not None:
                shown.show(offset)
            for i in range(0, len(items), trace.RECORD_WIDTH):
                thread, code, ident, fp, value = items[i : i + trace.RECORD_WIDTH]
                if type(code) is not int or type(thread) is not int or (
                    code < 0 and not trace.valid_marker(code, ident, value)
                ):
                    raise BadRecording(f"{path}: malformed record in block at byte {offset}")
                if code == trace.DEF_BOUNDARY:
                    names[ident] = value
                elif code == trace.FOOTER:
                    footer = value
                elif code == trace.STOPPED:
                    stopped = value
                elif code >= 0:
                    name = names.get(code >> 1, f"<{code >> 1}>")
                    counts[name] += 1
                    sizes[name] += _size([thread, code, ident, fp, value])
                    threads.add(thread)
    finally:
        if shown is not None:
            shown.done()
        reader.close()
    if footer is not None:
        state = "complete" if footer.get("complete") else "incomplete"
    elif stopped is not None:
        state = f"incomplete (recording stopped: {stopped})"
    else:
        state = "partial (the recorded process did not exit normally)"
        if reader.truncated_at is not None:
            state += f"; torn block at byte {reader.truncated_at}"
    return {
        "header": reader.header,
        "state": state,
        "exit_status": footer.get("exit_status") if footer else None,
        "events": sum(counts.values()),
        "threads": len(threads),
        "counts": counts,
        "sizes": sizes,
    }


def summarize_recording(directory: Path) -> dict[str, Any]:
    """Header, footer state and per-boundary event counts and bytes; the process tree."""
    directory = layout.locate(directory)
    path = layout.trace_path(directory)
    scanned = _scan(path)
    counts, sizes = scanned["counts"], scanned["sizes"]
    return {
        "directory": str(directory),
        "trace_bytes": path.stat().st_size,
        "folders": _folders(directory),
        "header": scanned["header"],
        "state": scanned["state"],
        "exit_status": scanned["exit_status"],
        "events": scanned["events"],
        "threads": scanned["threads"],
        "boundaries": [
            {"boundary": name, "events": counts[name], "bytes": sizes[name]}
            for name in sorted(counts, key=lambda n: (-counts[n], n))
        ],
        "processes": _processes(directory, scanned),
    }


def _processes(directory: Path, root: dict[str, Any]) -> list[dict[str, Any]]:
    """Every recorded process, the program first, then its children in spawn-tree order."""
    found = [{"id": processes.ROOT, "start": None, "state": root["state"],
              "exit_status": root["exit_status"], "events": root["events"]}]
    for process in processes.recorded(directory):
        try:
            scanned = _scan(layout.trace_path(processes.directory_of(directory, process)))
        except BadRecording as exc:
            found.append({"id": process, "start": None, "state": f"unreadable: {exc}",
                          "exit_status": None, "events": 0})
            continue
        described = scanned["header"].get("process")
        start = described.get("start") if type(described) is dict else None
        found.append({"id": process, "start": start, "state": scanned["state"],
                      "exit_status": scanned["exit_status"], "events": scanned["events"]})
    return found


def _folders(directory: Path) -> dict[str, dict[str, int]]:
    """Files and bytes in each folder beside the trace (``run/``, adapters' ``blobs/``...)."""
    found: dict[str, dict[str, int]] = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink()):
        files = [f for f in folder.rglob("*") if f.is_file() and not f.is_symlink()]
        found[folder.name] = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
    return found


def inspect_recording(directory: Path, as_json: bool = False) -> int:
    info = summarize_recording(directory)
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    header = info["header"]
    # a header from another format (or a damaged one) is shown as far as it makes sense
    main = header.get("main") if isinstance(header.get("main"), dict) else {}
    python = header.get("python") if isinstance(header.get("python"), list) else []
    listed = header.get("adapters") if isinstance(header.get("adapters"), list) else []
    target = main.get("path") or main.get("name") or "<code>"
    print(f"recording   {info['directory']}")
    print(f"program     {target}  argv={header.get('argv')}")
    print(f"python      {'.'.join(map(str, python))} "
          f"({header.get('implementation')}) on {header.get('platform')}")
    print(f"retrace     {header.get('retrace')} (trace format {header.get('format')})")
    adapters = ", ".join(
        f"{a.get('name')}" + (f" ({a['distribution']} {a.get('version')})"
                              if a.get("distribution") else "")
        for a in listed if isinstance(a, dict)
    )
    print(f"adapters    {adapters}")
    print(f"state       {info['state']}; exit status {info['exit_status']}")
    print(f"events      {info['events']} in {info['trace_bytes']} bytes, "
          f"{info['threads']} thread(s)")
    for name, usage in info["folders"].items():
        print(f"{name + '/':<11} {usage['files']} file(s), {usage['bytes']} bytes")
    if len(info["processes"]) > 1:
        print()
        print(f"  {'process':<16} {'started by':<11} {'events':>8}  state")
        for row in info["processes"]:
            depth = row["id"].count(".")
            label = ("  " * (depth - 1) + "└ " if depth else "") + row["id"]
            print(f"  {label:<16} {row['start'] or 'program':<11} {row['events']:>8}  "
                  f"{row['state']}, exit status {row['exit_status']}")
    if info["boundaries"]:
        print()
        print(f"  {'boundary':<32} {'events':>10} {'bytes':>12}")
        for row in info["boundaries"]:
            print(f"  {row['boundary']:<32} {row['events']:>10} {row['bytes']:>12}")
    return 0
