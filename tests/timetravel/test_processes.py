"""The processes of a debugging session: many checkpoints, and none left behind."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from ast import literal_eval
from collections.abc import Iterator
from pathlib import Path

import pytest
from timetravel_kit import PROMPT, debug, environment, session_processes, wait_until_gone

from retrace.testing import record

LONG = """\
import time

stamps = []
total = 0
for i in range(3000):
    total += i % 7
    stamps.append(time.time())
    marker = i
print("done", total, stamps[-1])
"""


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("long")
    (base / "app.py").write_text(LONG)
    recorded = record(base / "app.py", base / "rec", cwd=base)
    assert recorded.status == 0, recorded.stderr
    return base / "rec", recorded.stdout


FREQUENT = {"RETRACE_CHECKPOINT_INTERVAL": "0.0005"}


def test_many_checkpoints_thinned_lead_back_to_the_same_values(long_recording: tuple[Path, str]) -> None:
    rec, recorded = long_recording
    run = debug(
        rec,
        [
            "b 8, i % 600 == 0",
            "c",
            "c",
            "c",
            "c",
            "p i, repr(stamps[-1])",
            "rc",
            "p i, repr(stamps[-1])",
            "rc",
            "rc",
            "p i, repr(stamps[-1])",
            "goto @5000",
            "p i",
            "rstep",
            "p i",
            "c",
            "c",
            "c",
            "c",
            "c",
        ],
        env=FREQUENT,
    )
    answers = run.answers
    i4, stamp4 = literal_eval(answers[6])
    i3, stamp3 = literal_eval(answers[8])
    i1, stamp1 = literal_eval(answers[11])
    assert (i4, i3, i1) == (1800, 1200, 0)
    assert float(stamp1) < float(stamp3) < float(stamp4)
    assert answers[13].strip() == "1248"  # 4 steps of set-up, then 4 per iteration
    assert answers[15].strip() == "1248"
    assert recorded.strip() in run.stdout
    assert run.stdout.count("done ") == 1


@pytest.fixture
def debug_tmp(tmp_path: Path) -> Path:
    """The temporary folder of the debugging session under test (others run in parallel)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


@pytest.fixture
def started(long_recording: tuple[Path, str], debug_tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    rec, _ = long_recording
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrace", "debug", str(rec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment({**FREQUENT, "TMPDIR": str(debug_tmp)}),
        start_new_session=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for pid, _state in session_processes(proc.pid):
        os.kill(pid, signal.SIGKILL)


def talk(proc: subprocess.Popen[bytes], command: str, timeout: float = 30) -> str:
    """Send one command and read up to the next prompt."""
    assert proc.stdin is not None
    if command:
        proc.stdin.write(command.encode() + b"\n")
        proc.stdin.flush()
    return read_until(proc, PROMPT.encode(), timeout)


def read_until(proc: subprocess.Popen[bytes], end: bytes, timeout: float = 30) -> str:
    """Read the debugger's output up to ``end`` (a byte at a time past it is never taken)."""
    assert proc.stdout is not None
    out = b""
    deadline = time.monotonic() + timeout
    while not out.endswith(end):
        left = deadline - time.monotonic()
        assert left > 0, f"no {end!r} in: {out!r}"
        readable, _, _ = select.select([proc.stdout], [], [], left)
        if readable:
            chunk = os.read(proc.stdout.fileno(), 1)
            assert chunk, f"the debugger ended before {end!r}: {out!r}"
            out += chunk
    return out.decode()


def session_folders(where: Path) -> set[Path]:
    """The socket folders of the debugging sessions using ``where`` as their temporary folder."""
    return set(where.glob("retrace-debug-*"))


def checkpoints_of(session: int) -> int:
    return len(session_processes(session)) - 2  # the coordinator and the live process


def test_no_process_is_left_when_the_coordinator_is_killed(started: subprocess.Popen[bytes],
                                                           debug_tmp: Path) -> None:
    talk(started, "")
    talk(started, "b 8, i == 2500")
    talk(started, "c")
    assert talk(started, "p i").split(PROMPT)[0].strip() == "2500"
    talk(started, "rstep")
    assert checkpoints_of(started.pid) >= 3
    assert len(session_folders(debug_tmp)) == 1  # the session's socket folder, until the end
    started.kill()  # SIGKILL: the coordinator cannot clean up
    started.wait(10)
    assert wait_until_gone(started.pid) == []
    assert session_folders(debug_tmp) == set()  # its socket's folder went with the last of them


def test_no_process_is_left_after_quit(started: subprocess.Popen[bytes]) -> None:
    talk(started, "")
    talk(started, "b 8, i == 2000")
    talk(started, "c")
    talk(started, "rc")
    assert checkpoints_of(started.pid) >= 3
    assert started.stdin is not None
    started.stdin.write(b"q\n")
    started.stdin.flush()
    assert started.wait(10) == 0
    assert wait_until_gone(started.pid) == []


def test_no_process_is_left_after_sigterm(started: subprocess.Popen[bytes]) -> None:
    talk(started, "")
    talk(started, "b 8, i == 1500")
    talk(started, "c")
    started.terminate()
    assert started.wait(10) == 128 + signal.SIGTERM
    assert wait_until_gone(started.pid) == []


SPIN = """\
import time

start = time.time()
count = 0
print("spinning", flush=True)
for i in range(5_000_000):
    count += i % 3
print("spun", count, start)
"""


def test_ctrl_c_stops_the_running_program_at_its_next_step(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SPIN)
    assert record(tmp_path / "app.py", tmp_path / "rec", cwd=tmp_path).status == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrace", "debug", str(tmp_path / "rec")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
        start_new_session=True,
    )
    try:
        talk(proc, "")
        assert proc.stdin is not None
        proc.stdin.write(b"c\n")
        proc.stdin.flush()
        assert "spinning" in read_until(proc, b"spinning\n")  # the loop is running now
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
        stopped = talk(proc, "")
        assert "Program interrupted" in stopped
        i = int(talk(proc, "p i").split(PROMPT)[0])
        assert 0 < i < 5_000_000
        talk(proc, "rstep")
        talk(proc, "rstep")
        assert int(talk(proc, "p i").split(PROMPT)[0]) in (i - 1, i)
        proc.stdin.write(b"q\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
        assert wait_until_gone(proc.pid) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_a_divergence_is_reported_and_ends_the_session(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LONG)
    rec = tmp_path / "rec"
    assert record(tmp_path / "app.py", rec, cwd=tmp_path).status == 0
    edited = (rec / "run" / "app.py").read_text().replace("marker = i", "marker = time.time()")
    (rec / "run" / "app.py").write_text(edited)  # one clock read more than recorded
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrace", "debug", str(rec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(FREQUENT),
        start_new_session=True,
    )
    _out, err = proc.communicate(b"c\n", timeout=60)
    assert proc.returncode == 86
    assert re.search(r"^retrace: replay diverged at event #\d+", err.decode(), re.MULTILINE)
    assert "Traceback" not in err.decode()
    assert wait_until_gone(proc.pid) == []


def test_a_missing_recording_is_one_message(tmp_path: Path) -> None:
    run = debug(tmp_path / "nothing-here", ["q"])
    assert run.status == 88
    assert run.stderr.startswith("retrace: ") and "Traceback" not in run.stderr
