"""``retrace stats`` (calls and bytes per boundary and call site) and ``retrace diff A B``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from retrace.testing import record, run_retrace

BRANCHING = textwrap.dedent(
    """
    import os, time

    mode = os.environ.get("MODE", "pass")
    started = time.time()
    for _ in range(3):
        time.time()
    if mode == "fail":
        time.monotonic()
        raise SystemExit(3)
    time.perf_counter()
    """
).lstrip()


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    program = tmp_path / "app.py"
    program.write_text(BRANCHING)
    record(program, tmp_path / "pass", cwd=tmp_path, env={"MODE": "pass"})
    failed = record(program, tmp_path / "fail", cwd=tmp_path, env={"MODE": "fail"})
    assert failed.status == 3
    return tmp_path / "pass", tmp_path / "fail"


def test_stats_counts_calls_and_bytes_per_boundary_and_site(tmp_path: Path) -> None:
    passed, _ = _two_runs(tmp_path)
    data = json.loads(run_retrace(["stats", "--json", str(passed)]).stdout)
    boundaries = {row["boundary"]: row for row in data["boundaries"]}
    assert boundaries["time.time"]["calls"] == 4
    assert boundaries["time.perf_counter"]["calls"] == 1
    assert boundaries["os.environ[]"]["calls"] == 1
    assert sum(row["calls"] for row in data["boundaries"]) == data["events"]
    assert abs(sum(row["byte_share"] for row in data["boundaries"]) - 1.0) < 1e-9
    sites = {(row["site"], row["boundary"]): row["calls"] for row in data["sites"]}
    assert sites[("app.py:4", "time.time")] == 1
    assert sites[("app.py:6", "time.time")] == 3
    assert data["state"] == "complete"
    top = json.loads(run_retrace(["stats", "--json", "--top", "1", str(passed)]).stdout)
    assert len(top["sites"]) == 1 and len(top["boundaries"]) == 1
    text = run_retrace(["stats", str(passed)])
    assert text.status == 0
    assert "app.py:6" in text.stdout and "time.time" in text.stdout


def test_diff_shows_the_first_event_where_the_program_went_another_way(tmp_path: Path) -> None:
    passed, failed = _two_runs(tmp_path)
    run = run_retrace(["diff", str(passed), str(failed)])
    assert run.status == 1
    out = run.stdout
    assert "first difference at event #7:" in out
    a_side = out.split("  A: ")[1].split("  B: ")[0]
    b_side = out.split("  B: ")[1]
    assert "boundary:  time.perf_counter" in a_side and "call site: app.py:10" in a_side
    assert "boundary:  time.monotonic" in b_side and "call site: app.py:8" in b_side
    assert "os.environ[] x1, first at event #2 (app.py:3): A got 'pass', B got 'fail'" in out
    assert "time.time x4, first at event #3 (app.py:4)" in out
    assert "same   #6 time.time at app.py:6" in out


def test_diff_of_a_recording_with_itself_matches(tmp_path: Path) -> None:
    passed, _ = _two_runs(tmp_path)
    run = run_retrace(["diff", str(passed), str(passed)])
    assert run.status == 0
    assert "events match (the same path and answers); both ended complete with exit status 0" in run.stdout


def test_diff_reports_a_recording_that_stops_early(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import os, time\nn = int(os.environ['N'])\nfor _ in range(n):\n    time.time()\n")
    record(program, tmp_path / "long", cwd=tmp_path, env={"N": "3"})
    record(program, tmp_path / "short", cwd=tmp_path, env={"N": "1"})
    run = run_retrace(["diff", str(tmp_path / "long"), str(tmp_path / "short")])
    assert run.status == 1
    assert "B: (no more events)" in run.stdout
    assert "boundary:  time.time" in run.stdout.split("  A: ")[1]


TIMED = textwrap.dedent(
    """
    import threading, time

    def worker():
        time.sleep(0.12)

    thread = threading.Thread(target=worker)
    thread.start()
    for _ in range(3):
        time.sleep(0.01)
    thread.join()
    print(time.time())
    """
).lstrip()


def test_stats_shows_time_in_real_calls_when_recorded_with_timings(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(TIMED)
    recorded = record(program, tmp_path / "rec", cwd=tmp_path, env={"RETRACE_TIMINGS": "1"})
    assert recorded.status == 0, recorded.stderr
    data = json.loads(run_retrace(["stats", "--json", "--top", "0", str(tmp_path / "rec")]).stdout)
    assert data["timings"] is True
    sites = {row["site"]: row for row in data["sites"]}
    worker, main = sites["app.py:4"], sites["app.py:9"]
    assert worker["calls"] == 1 and main["calls"] == 3
    assert 0.12e9 <= worker["time_ns"] < 1e9  # paired with its own thread's event
    assert 0.03e9 <= main["time_ns"] < 0.12e9
    assert data["sites"][0]["site"] == "app.py:4"  # slowest first
    assert sites["app.py:11"]["time_ns"] < 0.01e9


def test_timing_records_do_not_change_a_replay(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import time\nprint(time.time())\ntime.sleep(0.01)\nprint(time.monotonic())\n")
    recorded = record(program, tmp_path / "rec", cwd=tmp_path, env={"RETRACE_TIMINGS": "1"})
    replayed = run_retrace(["replay", str(tmp_path / "rec")])
    assert replayed.observable() == recorded.observable()
    plain = json.loads(run_retrace(["stats", "--json", str(tmp_path / "rec")]).stdout)
    assert all(row["time_ns"] is not None for row in plain["boundaries"])
    record(program, tmp_path / "untimed", cwd=tmp_path)
    untimed = json.loads(run_retrace(["stats", "--json", str(tmp_path / "untimed")]).stdout)
    assert untimed["timings"] is False
    assert all(row["time_ns"] is None for row in untimed["boundaries"])
