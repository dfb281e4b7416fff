"""The project's ``[tool.retrace.redact]`` settings: more secrets, exceptions, and refusals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from retrace.testing import record, replay

PROGRAM = textwrap.dedent(
    """
    import os

    budget = int(os.environ["MAX_TOKENS"]) * 2  # arithmetic: it must not be the placeholder
    print("budget", budget)
    print("pin", len(os.environ["MY_APP_PIN"]), "token", len(os.environ["API_TOKEN"]))
    """
).lstrip()

ENV = {"MAX_TOKENS": "4096", "MY_APP_PIN": "pin-8731-secret", "API_TOKEN": "tok-55aa77bb99"}


def _project(tmp_path: Path, settings: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(settings))
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    return program


def _recorded_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_more_secrets_and_exceptions_to_the_defaults(tmp_path: Path) -> None:
    program = _project(tmp_path, """
        [tool.retrace.redact]
        env = ["^MY_APP_PIN$"]

        [tool.retrace.redact.keep]
        env = ["^MAX_TOKENS$"]
    """)
    rec = tmp_path / "rec"
    run = record(program, rec, env=ENV, cwd=tmp_path)
    assert (run.status, run.stderr) == (0, "")
    assert run.stdout.splitlines() == ["budget 8192", "pin 15 token 14"]
    data = _recorded_bytes(rec)
    assert b"4096" in data  # kept: the program computes with it
    assert b"pin-8731-secret" not in data and b"tok-55aa77bb99" not in data

    replayed = replay(rec, env={"RETRACE_CHECK_OUTPUT": "0"}, cwd=tmp_path)
    assert replayed.status == 0, replayed.stderr
    # the kept number replays as itself; the secrets as the placeholder (18 characters)
    assert replayed.stdout.splitlines() == ["budget 8192", "pin 18 token 18"]


def test_without_the_exception_the_default_rule_redacts_it(tmp_path: Path) -> None:
    """The control: ``MAX_TOKENS`` matches the default ``TOKEN`` pattern."""
    program = _project(tmp_path, """
        [tool.retrace.redact]
        env = ["^MY_APP_PIN$"]
    """)
    rec = tmp_path / "rec"
    assert record(program, rec, env=ENV, cwd=tmp_path).status == 0
    assert b"4096" not in _recorded_bytes(rec)


@pytest.mark.parametrize(("settings", "problem"), [
    ("[tool.retrace.redact\nenv = [", "cannot be read as TOML"),
    ("[tool.retrace.redact]\nheader = ['X-Pin']\n", "unknown key 'header'"),
    ("[tool.retrace.redact]\nfields = 'ssn'\n", "fields must be a list of strings"),
    ("[tool.retrace.redact]\nenv = ['(unclosed']\n", "is not a regular expression"),
    ("[tool.retrace.redact.keep]\nenv = [1]\n", "env must be a list of strings"),
])
def test_settings_that_would_be_ignored_are_refused(tmp_path: Path, settings: str,
                                                    problem: str) -> None:
    program = _project(tmp_path, settings)
    rec = tmp_path / "rec"
    run = record(program, rec, env=ENV, cwd=tmp_path)
    assert run.status == 2, run
    assert run.stdout == ""  # the program did not run half-protected
    assert problem in run.stderr and str(tmp_path / "pyproject.toml") in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not rec.exists()
