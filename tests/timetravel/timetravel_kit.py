"""Driving ``retrace debug`` through its command interface: commands in on stdin, stops out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

PROMPT = "(rdb) "
WHERE = re.compile(r"^> (?P<file>.+)\((?P<line>\d+)\)(?P<function>[^(]+)\(\)", re.MULTILINE)


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE") and k != "PYTHONHASHSEED"}
    env.update(extra or {})
    return env


@attrs.frozen
class Session:
    """What one ``retrace debug`` run printed, cut at each prompt."""

    status: int
    stdout: str
    stderr: str

    @property
    def answers(self) -> list[str]:
        """The output before the first prompt, then the output of each command in turn."""
        return self.stdout.split(PROMPT)

    def where(self, index: int) -> tuple[str, int, str] | None:
        """``(file name, line, function)`` of the stop shown in answer ``index``."""
        found = WHERE.search(self.answers[index])
        if found is None:
            return None
        return Path(found["file"]).name, int(found["line"]), found["function"]


def debug(
    recording: Path, commands: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> Session:
    """Run ``retrace debug recording`` with ``commands`` on stdin (then end of input)."""
    done = subprocess.run(
        [sys.executable, "-m", "retrace", "debug", str(recording)],
        input="".join(f"{c}\n" for c in commands),
        capture_output=True,
        text=True,
        env=environment(env),
        timeout=timeout,
    )
    return Session(done.returncode, done.stdout, done.stderr)


def session_processes(session: int) -> list[tuple[int, str]]:
    """(pid, state) of every process in a session, zombies excluded."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append((int(entry), state))
    return found


def wait_until_gone(session: int, timeout: float = 10) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = session_processes(session)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = session_processes(session)
    return left
