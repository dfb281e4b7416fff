"""The command line: record, replay from anywhere, inspect, adapters, exit statuses, tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from retrace.errors import EXIT_BAD_RECORDING, EXIT_USAGE
from retrace.testing import record, record_and_replay, replay, run_retrace

CRASHING = textwrap.dedent(
    """
    import json, time

    def parse(text):
        return json.loads(text)

    stamp = time.time()
    print("before", stamp, flush=True)
    parse("{not json")
    """
)


def test_uncaught_exception_replays_with_the_same_traceback(tmp_path: Path) -> None:
    program = tmp_path / "crash.py"
    program.write_text(CRASHING)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert recorded.status == 1
    assert "Traceback (most recent call last):" in recorded.stderr
    assert f'File "{program}", line 5, in parse' in recorded.stderr
    assert "json.decoder.JSONDecodeError" in recorded.stderr
    assert "retrace" not in recorded.stderr.replace(str(tmp_path), "")


def test_a_script_named_relative_to_the_working_directory_crashes_the_same_on_replay(
        tmp_path: Path) -> None:
    """``retrace record -o rec crash.py``, the everyday spelling: same __file__, same traceback."""
    (tmp_path / "crash.py").write_text("print('file', __file__)\n" + CRASHING)
    recorded = record("crash.py", tmp_path / "rec", cwd=tmp_path)
    assert recorded.status == 1
    assert recorded.stdout.startswith("file crash.py\n")
    assert 'File "crash.py", line 6, in parse' in recorded.stderr
    for where in (tmp_path, tmp_path / "rec" / "run", Path("/")):
        replayed = replay(tmp_path / "rec", cwd=where)
        assert replayed.observable() == recorded.observable(), (where, replayed)


def test_exit_status_and_stderr_pass_through(tmp_path: Path) -> None:
    program = tmp_path / "fail.py"
    program.write_text("import sys, time\nprint('t', time.time())\n"
                       "print('bad', file=sys.stderr)\nsys.exit(7)\n")
    recorded, _ = record_and_replay(program, tmp_path / "rec")
    assert recorded.status == 7
    assert recorded.stderr == "bad\n"


def test_record_a_module_and_replay_from_run_with_python_m(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("import os\nREGION = os.environ.get('HOME')\n")
    (package / "main.py").write_text("import sys, uuid\nfrom shop import REGION\n"
                                     "print(REGION, uuid.uuid4(), sys.argv[1:])\n")
    rec = tmp_path / "rec"
    recorded = run_retrace(["record", "-o", str(rec), "-m", "shop.main", "a", "b"], cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert "['a', 'b']" in recorded.stdout
    shutil.rmtree(package)
    again = run_retrace(["--recording", ".."], cwd=rec / "run")
    assert again.observable() == recorded.observable()


def test_the_moved_recording_replays_without_its_source(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "helper.py").write_text("import random\ndef roll():\n    return random.random()\n")
    (project / "app.py").write_text("import time\nfrom helper import roll\nprint(roll(), time.time())\n")
    recorded = record(project / "app.py", tmp_path / "rec", cwd=project)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tmp_path / "rec", moved)
    shutil.rmtree(tmp_path / "rec")
    shutil.rmtree(project)
    assert replay(moved).observable() == recorded.observable()


def test_inspect_shows_header_and_events(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import time\nfor _ in range(3):\n    time.time()\n")
    record(program, tmp_path / "rec")
    text = run_retrace(["inspect", str(tmp_path / "rec")])
    assert text.status == 0
    assert "state       complete; exit status 0" in text.stdout
    assert "time.time" in text.stdout
    data = json.loads(run_retrace(["inspect", "--json", str(tmp_path / "rec")]).stdout)
    assert {
        k: v for k, v in data["boundaries"][0].items() if k != "bytes"
    } == {"boundary": "time.time", "events": 3}
    assert data["header"]["argv"] == [str(program)]


def test_adapters_lists_every_stdlib_adapter() -> None:
    listed = json.loads(run_retrace(["adapters", "--json"]).stdout)
    names = {a["name"]: a for a in listed}
    for name in ("clock", "randomness", "process", "environ", "stdin"):
        assert names[name]["status"] == "ok"
        assert names[name]["provided_by"].startswith("retrace ")


def test_unknown_adapter_selection_is_a_usage_error(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("print(1)\n")
    run = record(program, tmp_path / "rec", env={"RETRACE_ADAPTERS": "clock,nosuch"})
    assert run.status == EXIT_USAGE
    assert "unknown adapter(s): nosuch" in run.stderr


def test_missing_recording_is_a_clear_error(tmp_path: Path) -> None:
    run = replay(tmp_path / "nothing-here")
    assert run.status == EXIT_BAD_RECORDING
    assert f"{tmp_path / 'nothing-here'}: no such recording directory" in run.stderr
    assert "Traceback" not in run.stderr


def test_version_and_help() -> None:
    done = subprocess.run([sys.executable, "-m", "retrace", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.startswith("retrace ")


def test_a_removed_working_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A shell left in a folder someone removed: one line, not a traceback from pathlib."""
    program = tmp_path / "app.py"
    program.write_text("print(1)\n")
    rec = tmp_path / "rec"
    assert record(program, rec).status == 0
    gone = tmp_path / "gone"
    gone.mkdir()
    for command in (["replay", str(rec)], ["record", "-o", str(tmp_path / "r2"), str(program)]):
        done = subprocess.run(
            ["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
             sys.executable, "-m", "retrace", *command],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == EXIT_USAGE, done
        assert done.stderr.startswith("retrace: the current directory no longer exists"), done.stderr
        assert "Traceback" not in done.stderr
        gone.mkdir()


def test_plainly_spelled_record_and_replay_options_read_as_argparse_reads_them() -> None:
    import argparse
    import contextlib
    import io
    import itertools

    from retrace.cli import _parser, plain_options

    parser = _parser({})
    words = ["-o", "--output", "--overwrite", "-m", "--process", "DIR", "x.py", "--", "",
             "-h", "--over", "--output=o", "-oX"]
    taken = 0
    for command in ("record", "replay"):
        for n in range(5):
            for rest in itertools.product(words, repeat=n):
                argv = [command, *rest]
                plain = plain_options(argv)
                if plain is None:
                    continue  # argparse reads it, as before
                taken += 1
                with contextlib.redirect_stderr(io.StringIO()):
                    parsed = parser.parse_args(argv)
                assert isinstance(parsed, argparse.Namespace)
                assert vars(plain) == vars(parsed), argv
    assert taken > 1000
    assert plain_options(["record", "-o", "DIR", "x.py", "-o", "y"]).args == ["x.py", "-o", "y"]
    assert plain_options(["replay", "--process", "1", "DIR"]) is None  # left to argparse
