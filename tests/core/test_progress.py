"""Progress on stderr for long replays and inspections: on a terminal only.

The terminal is a real pseudo-terminal (``pty``): the command's stderr is
its slave side, and the test reads everything written there from the master.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from retrace.progress import REPLAY_DELAY
from retrace.testing import record, run_retrace

SLEEPS = 6
NAP = 0.15
SLOW = textwrap.dedent(
    f"""
    import time

    for i in range({SLEEPS}):
        time.time()
        time.sleep({NAP})  # replayed for real (RETRACE_REAL_SLEEP=1): the replay takes its time
    print("slow done")
    """
).lstrip()
QUICK = "import time\nprint('quick', time.time() > 0)\n"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env.pop("PYTHONHASHSEED", None)
    return {**env, **extra}


def _on_a_terminal(args: list[str], **env: str) -> tuple[int, str, bytes]:
    """Run ``python -m retrace ARGS`` with stderr on a pty: (status, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "retrace", *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=slave, env=_env(**env))
    finally:
        os.close(slave)
    terminal = b""
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every writer of the slave side has closed it
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(master)
    stdout = process.stdout.read().decode() if process.stdout else ""
    return process.wait(timeout=60), stdout, terminal


def _record(tmp_path: Path, name: str, source: str) -> tuple[Path, str]:
    program = tmp_path / f"{name}.py"
    program.write_text(source)
    rec = tmp_path / name
    run = record(program, rec, cwd=tmp_path)
    assert run.status == 0, run.stderr
    return rec, run.stdout


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return _record(tmp_path_factory.mktemp("slow"), "slow", SLOW)


def test_a_long_replay_shows_progress_on_a_terminal_and_erases_it(slow: tuple[Path, str]) -> None:
    assert SLEEPS * NAP > REPLAY_DELAY + 0.3
    rec, recorded = slow
    status, stdout, terminal = _on_a_terminal(["replay", str(rec)], RETRACE_REAL_SLEEP="1")
    assert (status, stdout) == (0, recorded)
    text = terminal.decode()
    shown = [part for part in text.split("\r\x1b[K") if part]
    assert shown, f"no progress line: {text!r}"
    assert all(part.startswith("replay slow: ") and part.endswith("%") for part in shown), text
    assert text.endswith("\r\x1b[K")  # erased at the end


def test_a_replay_shows_no_progress_when_stderr_is_not_a_terminal(slow: tuple[Path, str]) -> None:
    rec, recorded = slow
    done = subprocess.run([sys.executable, "-m", "retrace", "replay", str(rec)], capture_output=True,
                          text=True, env=_env(RETRACE_REAL_SLEEP="1"), timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, recorded, "")


def test_a_short_replay_shows_nothing_on_a_terminal(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, "quick", QUICK)
    assert _on_a_terminal(["replay", str(rec)]) == (0, recorded, b"")


def test_inspect_shows_progress_on_a_terminal_only(slow: tuple[Path, str]) -> None:
    rec, _ = slow
    plain = run_retrace(["inspect", str(rec)])
    assert (plain.status, plain.stderr) == (0, "")
    status, stdout, terminal = _on_a_terminal(["inspect", str(rec)])
    assert (status, stdout) == (0, plain.stdout)
    text = terminal.decode()
    assert re.fullmatch(r"(\r\x1b\[Kinspect slow: \d{1,3}%)+\r\x1b\[K", text), text
