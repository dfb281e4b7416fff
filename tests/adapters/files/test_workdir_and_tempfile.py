"""The working directory and tempfile's names, as the replayed program sees them."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from retrace.testing import record, replay

WORKDIR = textwrap.dedent(
    """
    import os
    from pathlib import Path

    print("cwd", os.getcwd(), Path.cwd(), os.path.abspath("x"), os.getcwdb())
    print("here", Path(__file__).resolve().parent, os.path.realpath(__file__))
    os.chdir("data")
    print("in data", os.getcwd(), open("notes.txt").read().strip(), sorted(os.listdir(".")))
    os.chdir(os.path.join(os.sep, "tmp"))
    print("in tmp", os.getcwd())
    try:
        os.chdir("no-such-folder-here")
    except FileNotFoundError as exc:
        print("refused", exc.errno)
    """
).lstrip()


def test_the_program_sees_its_recorded_working_directory(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "notes.txt").write_text("hello\n")
    (work / "app.py").write_text(WORKDIR)
    rec = tmp_path / "rec"
    recorded = record("app.py", rec, cwd=work)
    assert recorded.status == 0, recorded.stderr
    assert recorded.stdout.splitlines()[0] == f"cwd {work} {work} {work / 'x'} {str(work).encode()!r}"
    assert recorded.stdout.splitlines()[1] == f"here {work} {work / 'app.py'}"
    assert f"in data {work / 'data'} hello ['notes.txt']" in recorded.stdout
    assert "in tmp /tmp" in recorded.stdout and "refused 2" in recorded.stdout
    shutil.rmtree(work)  # the folders the program walked through are gone
    for where in (tmp_path, rec / "run"):
        replayed = replay(rec, cwd=where)
        assert replayed.observable() == recorded.observable(), replayed


TEMPFILES = textwrap.dedent(
    """
    import os
    import tempfile

    kept = tempfile.mkdtemp(prefix="retrace-test-")
    with tempfile.NamedTemporaryFile("w", prefix="retrace-test-", delete=False) as handle:
        handle.write("left behind")
    fd, name = tempfile.mkstemp(prefix="retrace-test-")
    os.close(fd)
    with tempfile.TemporaryDirectory(prefix="retrace-test-") as scratch:
        print("scratch", scratch)
    print("made", kept, handle.name, name)
    """
).lstrip()


def test_temporary_names_the_recording_left_behind_replay_again_and_again(tmp_path: Path) -> None:
    """tempfile runs for real and draws the recorded names: what the recorded run left is reused."""
    program = tmp_path / "temps.py"
    program.write_text(TEMPFILES)
    rec = tmp_path / "rec"
    recorded = record(program, rec, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    left = recorded.stdout.split("made ", 1)[1].split()
    try:
        assert all(Path(p).exists() for p in left)  # mkdtemp, delete=False and mkstemp stay
        for _ in range(2):
            replayed = replay(rec)
            assert replayed.observable() == recorded.observable(), replayed
    finally:
        for path in left:
            shutil.rmtree(path, ignore_errors=True) if Path(path).is_dir() else Path(path).unlink()
