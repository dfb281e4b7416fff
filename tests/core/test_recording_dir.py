"""The recording directory: owner-only, never silently replaced, and self-contained (a copy
replays after the original program is gone)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from retrace.testing import Run, _env, record, replay, run_retrace

APP = """\
import time
import uuid

from helpers.names import greet

print(greet("world"), time.time(), uuid.uuid4())
raise ValueError("the same crash, every time")
"""
NAMES = """\
def greet(who):
    return f"hello {who}"
"""


def write_app(root: Path) -> Path:
    (root / "helpers").mkdir(parents=True)
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "names.py").write_text(NAMES)
    (root / "app.py").write_text(APP)
    return root / "app.py"


def record_with_umask(program: Path, directory: Path, umask: int) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "retrace", "record", "-o", str(directory), str(program)],
        capture_output=True, text=True, env=_env(None), cwd=program.parent,
        preexec_fn=lambda: os.umask(umask), timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def modes(directory: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(directory.stat().st_mode)}
    for path in sorted(directory.rglob("*")):
        found[str(path.relative_to(directory))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_recording_is_owner_only_even_with_an_open_umask(tmp_path):
    program = write_app(tmp_path / "src")
    directory = tmp_path / "rec"
    directory.mkdir(mode=0o755)  # an existing, empty, world-readable directory
    os.chmod(directory, 0o755)
    run = record_with_umask(program, directory, 0)
    assert run.status == 1 and "ValueError: the same crash, every time" in run.stderr
    found = modes(directory)
    assert {"trace.bin", "run", "run/app.py", "run/helpers/names.py"} <= set(found), found
    for name, mode in found.items():
        is_dir = name == "." or (directory / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))


def test_an_existing_recording_is_kept_unless_overwrite(tmp_path):
    program = write_app(tmp_path / "src")
    directory = tmp_path / "rec"
    first = record(program, directory, cwd=program.parent)
    assert first.status == 1
    trace = directory / "trace.bin"
    before = (trace.read_bytes(), trace.stat().st_mtime_ns, modes(directory))

    again = record(program, directory, cwd=program.parent)
    assert again == Run(
        2, "",
        f"retrace: {directory} already holds a recording; choose another directory with -o, "
        "or pass --overwrite to replace it\n",
    )
    assert (trace.read_bytes(), trace.stat().st_mtime_ns, modes(directory)) == before
    assert replay(directory).observable() == first.observable()

    (program.parent / "helpers" / "names.py").write_text(NAMES.replace("hello", "goodbye"))
    second = run_retrace(["record", "--overwrite", "-o", str(directory), str(program)],
                         cwd=program.parent)
    assert second.status == 1 and second.stdout.startswith("goodbye world "), second
    assert trace.read_bytes() != before[0]
    assert replay(directory).observable() == second.observable()


def test_a_moved_recording_replays_without_the_original_program(tmp_path):
    source = tmp_path / "project"
    program = write_app(source)
    directory = tmp_path / "rec"
    recorded = record(program, directory, cwd=source)
    assert recorded.status == 1
    assert recorded.stdout.startswith("hello world ")
    assert recorded.stderr.endswith("ValueError: the same crash, every time\n")
    assert f'File "{program}", line 7, in <module>' in recorded.stderr

    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(directory, moved)
    shutil.rmtree(directory)
    shutil.rmtree(source)
    assert not program.exists()

    elsewhere = tmp_path / "elsewhere"
    files = modes(moved)
    replayed = replay(moved, cwd=elsewhere)
    assert replayed.observable() == recorded.observable()
    assert modes(moved) == files  # replay added nothing to the recording (no __pycache__)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["copy"]
    assert not source.exists()  # the replay wrote nothing where the program used to be
