"""``retrace doctor``: one line per check, the fix for what is wrong, non-zero exit on failure."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from retrace import layout, trace
from retrace.testing import Run, record, run_retrace

UTF8 = {"PYTHONIOENCODING": "utf-8"}


def doctor(*args: str, env: dict[str, str] | None = None) -> Run:
    return run_retrace(["doctor", *args], env={**UTF8, **(env or {})})


def lines_about(run: Run, topic: str) -> list[str]:
    return [line for line in run.stdout.splitlines() if line[2:].startswith(topic + " ")]


def test_a_healthy_environment_and_recording_pass(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import time\nprint(time.time())\n")
    record(program, tmp_path / "rec", cwd=tmp_path)
    run = doctor(str(tmp_path / "rec"), env={"RETRACE_RECORDING_PATH": str(tmp_path / "next"),
                                             "RETRACE": "0"})
    assert run.status == 0, run.stdout
    assert not [line for line in run.stdout.splitlines() if line.startswith("✗")], run.stdout
    assert lines_about(run, "python")[0].startswith("✓ python")
    assert re.search(r"✓ state +complete, \d+ events, exit status 0", run.stdout)
    [drift] = lines_about(run, "drift")
    assert drift.startswith("✓ drift") and f"run/ matches {tmp_path}" in drift
    assert lines_about(run, "adapter clock")[0].startswith("✓")


def test_a_path_without_retrace_fails_with_the_fix(tmp_path: Path) -> None:
    run = doctor(env={"RETRACE_RECORDING_PATH": str(tmp_path / "rec")})
    assert run.status == 1
    [line] = lines_about(run, "environment")
    assert line.startswith("✗ environment")
    assert "RETRACE_RECORDING_PATH is set but RETRACE is not" in line
    assert "fix: export RETRACE=1" in line


def test_a_misspelled_variable_and_a_missing_hook_fail(tmp_path: Path) -> None:
    run = doctor(env={"RETRACE": "1", "RETRACE_RECORDING_PTH": str(tmp_path)})
    assert run.status == 1
    assert "unknown variable(s) RETRACE_RECORDING_PTH" in run.stdout
    from retrace import autoenable

    if not autoenable.installed():
        assert lines_about(run, "autoenable")[0].startswith("✗")


def test_code_drift_is_a_warning_naming_the_file(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import time\nprint(time.time())\n")
    record(program, tmp_path / "rec", cwd=tmp_path)
    program.write_text("import time\nprint('edited', time.time())\n")
    run = doctor(str(tmp_path / "rec"))
    [line] = lines_about(run, "drift")
    assert line.startswith("! drift")
    assert "changed since recording: app.py" in line
    assert "record again" in line
    assert run.status == 0


def _fake_recording(directory: Path, python: list[int], footer: bool) -> None:
    layout.create(directory)
    header = {"format": trace.FORMAT_VERSION, "retrace": "0.1.0", "python": python,
              "cwd": str(directory), "main": {"kind": "module", "name": "app"},
              "argv": ["app"], "adapters": []}
    writer = trace.TraceWriter(str(layout.trace_path(directory)), header)
    if footer:
        writer.records.append((0, trace.FOOTER, 0, None, {"complete": True, "exit_status": 0}))
    writer.close()


def test_another_python_fails_and_a_partial_recording_warns(tmp_path: Path) -> None:
    _fake_recording(tmp_path / "rec", [3, 9, 1], footer=False)
    run = doctor(str(tmp_path / "rec"))
    assert run.status == 1
    [fmt] = lines_about(run, "format")
    assert fmt.startswith("✗ format") and "recorded with Python 3.9" in fmt
    [state] = lines_about(run, "state")
    assert state.startswith("! state") and "partial" in state and "exit 87" in state


def test_a_damaged_trace_fails(tmp_path: Path) -> None:
    here = list(sys.version_info[:3])
    _fake_recording(tmp_path / "rec", here, footer=True)
    path = layout.trace_path(tmp_path / "rec")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    run = doctor(str(tmp_path / "rec"))
    assert run.status == 1
    assert lines_about(run, "recording")[0].startswith("✗ recording")
    assert "checksum mismatch" in run.stdout


def test_json_output_lists_every_check() -> None:
    run = doctor("--json")
    checks = json.loads(run.stdout)
    assert {c["topic"] for c in checks} >= {"python", "retrace", "autoenable", "environment"}
    assert all(set(c) == {"status", "topic", "found", "fix"} for c in checks)
