"""A replay that departs from the recording stops at once with a precise report."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from retrace.errors import EXIT_DIVERGENCE
from retrace.testing import Run, record, replay

PROGRAM = textwrap.dedent(
    """
    import os, time
    first = time.time()
    data = os.urandom(16)
    second = time.monotonic()
    print("done", first, data.hex(), second)
    last = time.time()
    """
)


# Event #1 of every recording is the entropy that seeds the random module; the
# print is eight output events (#5-#12: four values, three spaces, a newline).


def _recorded(tmp_path: Path) -> tuple[Path, Path, Run]:
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    rec = tmp_path / "rec"
    run = record(program, rec, cwd=tmp_path)
    assert run.status == 0, run.stderr
    return rec, rec / "run" / "app.py", run


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_swapped_calls_report_both_boundaries_and_call_sites(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    original = tmp_path / "app.py"
    _edit(app, "first = time.time()", "first = time.monotonic()")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert run.stdout == ""
    assert "replay diverged at event #2 (thread 0)" in run.stderr
    expected, actual = run.stderr.split("the program did:")
    assert "boundary:  time.time" in expected
    assert f"call site: {original}:{_line_of(original, 'first = time.time()')}" in expected
    assert "boundary:  time.monotonic" in actual
    assert f"call site: {app}:{_line_of(app, 'first = time.monotonic()')}" in actual
    assert "hint: the program took a different path" in run.stderr


def test_changed_argument_is_reported_with_both_summaries(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    _edit(app, "os.urandom(16)", "os.urandom(8)")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert "replay diverged at event #3 (thread 0)" in run.stderr
    assert run.stderr.count("boundary:  os.urandom") == 2
    assert "arguments: 16 bytes" in run.stderr
    assert "arguments: 8 bytes" in run.stderr
    assert "hint: the same call was made with different arguments" in run.stderr


def test_a_crash_only_the_replay_has_is_reported_with_its_exception(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    _edit(app, "last = time.time()", "raise LookupError('only on replay')\nlast = time.time()")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    expected, actual = run.stderr.split("the program did:")
    assert "boundary:  time.time" in expected
    assert "boundary:  sys.stderr.write" in actual
    assert "arguments: a traceback ending in 'LookupError: only on replay'" in actual
    assert "hint: the program raised an exception the recorded run did not raise" in run.stderr


def test_one_call_too_many(tmp_path: Path) -> None:
    rec, app, recorded = _recorded(tmp_path)
    _edit(app, "last = time.time()", "last = time.time()\ntime.perf_counter()")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert "replay diverged at event #14 (thread 0)" in run.stderr
    assert "boundary:  time.perf_counter" in run.stderr
    assert "hint: the program made a call the recording does not have" in run.stderr
    assert run.stdout == recorded.stdout


def test_one_call_too_few(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    _edit(app, "last = time.time()", "last = 0")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert "the program finished, but the recording has more events" in run.stderr
    assert "boundary:  time.time" in run.stderr
    assert "hint: the program finished before using every recorded event" in run.stderr


def test_a_call_missing_before_output_is_reported_at_the_output(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    _edit(app, "second = time.monotonic()", "second = 0")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert "replay diverged at event #4 (thread 0)" in run.stderr
    expected, actual = run.stderr.split("the program did:")
    assert "boundary:  time.monotonic" in expected
    assert "boundary:  sys.stdout.write" in actual


def test_divergence_cannot_be_caught_by_the_program(tmp_path: Path) -> None:
    rec, app, _ = _recorded(tmp_path)
    _edit(app, "first = time.time()",
          "try:\n    first = time.monotonic()\nexcept BaseException:\n    first = 'caught'")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert "caught" not in run.stdout


@pytest.mark.parametrize("status", [0, 3])
def test_different_exit_status_is_a_divergence(tmp_path: Path, status: int) -> None:
    program = tmp_path / "app.py"
    program.write_text(f"import sys, time\ntime.time()\nsys.exit({status})\n")
    rec = tmp_path / "rec"
    assert record(program, rec, cwd=tmp_path).status == status
    _edit(rec / "run" / "app.py", f"sys.exit({status})", f"sys.exit({status + 1})")
    run = replay(rec)
    assert run.status == EXIT_DIVERGENCE
    assert f"recorded exit status {status}, replay exit status {status + 1}" in run.stderr
