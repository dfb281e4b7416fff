"""A kit for testing adapters the way retrace's own tests do: record, break the world, replay.

Adapter authors use it in their own suites::

    from retrace.testing import record_and_replay

    def test_my_client(tmp_path, my_server):
        program = tmp_path / "app.py"
        program.write_text(APP)
        recorded, replayed = record_and_replay(program, tmp_path / "rec",
                                               between=my_server.stop)
        assert "expected output" in recorded.stdout

``record_and_replay`` runs the real ``retrace`` command in subprocesses,
calls ``between()`` after recording (drop the database, flush the keys, stop
the server: replay must not need them) and asserts the replay printed the
same stdout and stderr and ended with the same exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs


@attrs.frozen
class Run:
    """What a run of the ``retrace`` command showed the world."""

    status: int
    stdout: str
    stderr: str

    def observable(self) -> tuple[int, str, str]:
        return (self.status, self.stdout, self.stderr)


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    for name in [n for n in env if n.startswith("RETRACE")]:
        del env[name]
    env.pop("PYTHONHASHSEED", None)
    env.update(extra or {})
    return env


def run_retrace(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> Run:
    """Run ``python -m retrace ARGS`` with this interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "retrace", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=_env(env),
        cwd=cwd,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def record(
    program: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdin: str | None = None,
) -> Run:
    """Record ``program`` (a script path) into ``directory``."""
    return run_retrace(["record", "-o", str(directory), str(program), *args],
                       env=env, cwd=cwd, stdin=stdin)


def replay(
    directory: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Run:
    """Replay the recording in ``directory``."""
    return run_retrace(["replay", str(directory)], env=env, cwd=cwd)


def record_and_replay(
    program: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *args: str,
    between: Callable[[], object] | None = None,
    env: Mapping[str, str] | None = None,
    replay_env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    times: int = 1,
) -> tuple[Run, Run]:
    """Record, call ``between``, replay ``times`` times; assert every replay matches.

    The recording must succeed (exit status 0 unless the program itself
    fails the same way on replay) and leave no retrace warning on stderr.
    """
    program = Path(program)
    recorded = record(program, directory, *args, env=env, cwd=program.parent, stdin=stdin)
    assert "retrace:" not in recorded.stderr, f"recording warned:\n{recorded.stderr}"
    if between is not None:
        between()
    replayed = recorded
    for attempt in range(times):
        replayed = replay(directory, env=replay_env)
        assert replayed.observable() == recorded.observable(), (
            f"replay {attempt + 1} differs from the recording\n"
            f"--- recorded (status {recorded.status}) stdout:\n{recorded.stdout}\n"
            f"--- stderr:\n{recorded.stderr}\n"
            f"--- replayed (status {replayed.status}) stdout:\n{replayed.stdout}\n"
            f"--- stderr:\n{replayed.stderr}"
        )
    return recorded, replayed
