"""Recording in production: sampling, a size limit, path templates, and pruning old recordings."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from retrace import layout
from retrace.testing import record, replay, run_retrace

PROGRAM = "import os, time\nprint(time.time(), os.environ.get('RETRACE_SAMPLED'))\n"


def _autoenabled(tmp_path: Path, program: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python program`` as the autoenable ``.pth`` line would: boot() at start-up."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text("import retrace.bootstrap\nretrace.bootstrap.boot()\n")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("RETRACE") and k != "PYTHONHASHSEED"}
    clean.update(PYTHONPATH=str(hook), RETRACE="1", **env)
    return subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          env=clean, cwd=tmp_path, timeout=60)


def test_sample_rate_records_all_or_none(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    skipped = _autoenabled(tmp_path, program, RETRACE_RECORDING_PATH=str(tmp_path / "none"),
                           RETRACE_SAMPLE_RATE="0")
    assert skipped.returncode == 0 and skipped.stderr == ""
    assert not (tmp_path / "none").exists()
    chosen = _autoenabled(tmp_path, program, RETRACE_RECORDING_PATH=str(tmp_path / "all"),
                          RETRACE_SAMPLE_RATE="1")
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.split()[1] == "None"  # the decision does not leak into the program
    assert layout.holds_recording(tmp_path / "all")
    assert replay(tmp_path / "all").stdout == chosen.stdout


def test_a_bad_sample_rate_records_nothing_and_says_so(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    run = _autoenabled(tmp_path, program, RETRACE_RECORDING_PATH=str(tmp_path / "rec"),
                       RETRACE_SAMPLE_RATE="half")
    assert run.returncode == 0
    assert "RETRACE_SAMPLE_RATE='half' is not a number from 0 to 1" in run.stderr
    assert not (tmp_path / "rec").exists()


def test_path_template_gives_each_process_its_own_recording(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    template = str(tmp_path / "recs" / "{host}" / "{time}-{pid}")
    for _ in range(2):
        assert _autoenabled(tmp_path, program, RETRACE_RECORDING_PATH=template).returncode == 0
    [host] = list((tmp_path / "recs").iterdir())
    assert host.name == re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())
    names = sorted(p.name for p in host.iterdir())
    assert len(names) == 2
    assert all(re.fullmatch(r"\d{8}T\d{6}Z-\d+", name) for name in names), names


def test_max_bytes_stops_recording_and_the_program_goes_on(tmp_path: Path) -> None:
    program = tmp_path / "busy.py"
    program.write_text("import time\nfor _ in range(100000):\n    time.time()\nprint('finished')\n")
    run = record(program, tmp_path / "rec", env={"RETRACE_MAX_BYTES": "20K"})
    assert run.status == 0 and run.stdout == "finished\n"
    assert "the trace reached RETRACE_MAX_BYTES (20480 bytes)" in run.stderr
    size = layout.trace_path(tmp_path / "rec").stat().st_size
    assert 20480 <= size < 20480 + 200_000  # past the limit by at most the last block
    inspected = run_retrace(["inspect", str(tmp_path / "rec")])
    assert "state       incomplete (recording stopped: the trace reached RETRACE_MAX_BYTES" in (
        inspected.stdout)
    assert replay(tmp_path / "rec").status == 87


def _fake(directory: Path, age_days: float) -> Path:
    directory.mkdir(parents=True)
    trace = layout.trace_path(directory)
    trace.write_bytes(b"x")
    stamp = time.time() - age_days * 86400
    os.utime(trace, (stamp, stamp))
    return directory


def test_prune_keeps_the_newest_and_drops_the_old(tmp_path: Path) -> None:
    root = tmp_path / "recs"
    ages = {"a": 0.1, "b": 1.5, "c": 3, "d": 10}
    made = {name: _fake(root / "host" / name, age) for name, age in ages.items()}
    bystander = root / "notes"
    bystander.mkdir()
    (bystander / "keep.txt").write_text("not a recording")

    dry = run_retrace(["prune", str(root), "--keep", "1", "--dry-run"])
    assert dry.status == 0 and dry.stdout.count("would delete") == 3
    assert all(d.exists() for d in made.values())

    aged = run_retrace(["prune", str(root), "--max-age", "2d"])
    assert aged.status == 0
    assert [n for n, d in made.items() if d.exists()] == ["a", "b"]

    kept = run_retrace(["prune", str(root), "--keep", "1"])
    assert kept.status == 0
    assert [n for n, d in made.items() if d.exists()] == ["a"]
    assert (bystander / "keep.txt").exists()
    assert "1 of 2 recording(s) kept" in kept.stdout


def test_prune_needs_a_policy(tmp_path: Path) -> None:
    run = run_retrace(["prune", str(tmp_path)])
    assert run.status == 2 and "--keep N, --max-age AGE" in run.stderr
    bad = run_retrace(["prune", str(tmp_path), "--max-age", "soon"])
    assert bad.status == 2 and "like 12h or 7d" in bad.stderr
