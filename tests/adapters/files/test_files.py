"""Files replay from the recording: changed, moved or deleted inputs change nothing, writes touch nothing."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from retrace import trace
from retrace.codecs import to_cbor
from retrace.testing import record, record_and_replay, replay, run_retrace

REPORT_PROGRAM = textwrap.dedent(
    """
    import csv, os
    from pathlib import Path

    settings = {}
    with open("input/config.ini") as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            settings[key.strip()] = value.strip()
    print("config", settings)
    with open("input/sales.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = sum(int(r["amount"]) for r in rows)
    print("rows", len(rows), "total", total)
    print("csv bytes", os.path.getsize("input/sales.csv"), os.path.exists("input/sales.csv"))
    out = Path(settings["output"])
    print("output exists before", out.exists())
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.txt"
    report.write_text(f"{settings['title']}\\n" + "".join(
        f"{r['region']}: {int(r['amount']) * int(settings['scale'])}\\n" for r in rows))
    again = report.read_text()
    print("report says", again.splitlines())
    print("report size", report.stat().st_size, sorted(p.name for p in out.iterdir()))
    here = Path(__file__).resolve().parent
    print("beside the script", (here / "input" / "sales.csv").read_text().count("\\n"))
    """
)


def _write_inputs(app: Path) -> None:
    (app / "input").mkdir(parents=True)
    (app / "input" / "config.ini").write_text("title = Sales\noutput = out/reports\nscale = 10\n")
    (app / "input" / "sales.csv").write_text("region,amount\nnorth,3\nsouth,5\neast,7\n")


def test_report_replays_with_inputs_changed_and_deleted_and_is_not_rewritten(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    _write_inputs(app)
    program = app / "report.py"
    program.write_text(REPORT_PROGRAM)

    def break_the_world() -> None:
        (app / "input" / "config.ini").write_text("title = Changed\noutput = elsewhere\nscale = 1\n")
        (app / "input" / "sales.csv").unlink()
        shutil.rmtree(app / "out")

    recorded, _ = record_and_replay(program, tmp_path / "rec", between=break_the_world, times=2)
    assert "rows 3 total 15" in recorded.stdout
    assert "report says ['Sales', 'north: 30', 'south: 50', 'east: 70']" in recorded.stdout
    assert "output exists before False" in recorded.stdout
    assert not (app / "out").exists(), "replay recreated the output directory"
    assert not (app / "elsewhere").exists()


FILE_OBJECT_PROGRAM = textwrap.dedent(
    """
    import io, os
    from pathlib import Path

    with open("data.txt") as f:
        print(type(f).__name__, f.name, f.mode, f.encoding, isinstance(f, io.TextIOWrapper))
        print(repr(f.read(4)), repr(f.readline()), f.tell() > 0)
        rest = list(f)
        print(rest)
        f.seek(0)
        print(repr(f.readline()))
    with open("data.txt", "rb") as f:
        print(type(f).__name__, f.mode, f.read(3), f.tell(), f.seek(-4, 2), f.read())
    with open("data.txt", "rb", buffering=0) as f:
        print(type(f).__name__, f.readall())
    print(Path("data.txt").read_bytes()[:5], Path("data.txt").open().readlines()[1])
    with open("scratch.bin", "w+b") as f:
        f.write(b"hello world")
        f.seek(6)
        print(type(f).__name__, f.mode, f.read(), f.tell())
    with open("data.txt", "a") as f:
        print("append starts at", f.tell(), f.write("more\\n"), f.tell())
    with open("data.txt", "r+") as f:
        f.seek(0, 2)
        f.write("tail\\n")
        f.seek(0)
        print(f.read().splitlines()[-2:])
    print(open("data.txt").read().splitlines()[-2:])
    try:
        open("data.txt", "x")
    except FileExistsError as exc:
        print("exists", exc)
    try:
        open("nope/missing.txt")
    except FileNotFoundError as exc:
        print("missing", exc.errno, exc.filename, exc)
    os.remove("scratch.bin")
    print(os.path.exists("scratch.bin"))
    """
)


def test_file_objects_behave_like_the_real_ones(tmp_path: Path) -> None:
    program = tmp_path / "files.py"
    program.write_text(FILE_OBJECT_PROGRAM)
    data = tmp_path / "data.txt"
    data.write_text("first line\nsecond line\nthird line\n")
    original = data.read_text()

    def break_the_world() -> None:
        data.write_text("something else entirely\n")

    recorded, _ = record_and_replay(program, tmp_path / "rec", between=break_the_world)
    assert "TextIOWrapper data.txt r " in recorded.stdout
    assert "['tail', 'tail']" not in recorded.stdout
    assert "['more', 'tail']" in recorded.stdout
    assert "missing 2 nope/missing.txt" in recorded.stdout
    assert data.read_text() == "something else entirely\n", "replay wrote to a real file"
    assert not (tmp_path / "scratch.bin").exists()
    assert original != data.read_text()


METADATA_PROGRAM = textwrap.dedent(
    """
    import glob, os
    from pathlib import Path

    print(sorted(os.listdir("tree")))
    for root, dirs, files in os.walk("tree"):
        dirs.sort()
        print("walk", root, dirs, sorted(files))
    with os.scandir("tree") as it:
        for entry in sorted(it, key=lambda e: e.name):
            print("entry", entry.name, entry.is_dir(), entry.is_file(), entry.stat().st_size)
    print(sorted(glob.glob("tree/**/*.txt", recursive=True)))
    print(sorted(str(p) for p in Path("tree").glob("*/*.txt")))
    print(sorted(str(p) for p in Path("tree").rglob("*.txt")))
    st = os.stat("tree/a.txt")
    print(st.st_size, st.st_mtime_ns > 0,
          os.path.getmtime("tree/a.txt"), os.path.isfile("tree/a.txt"), os.path.isdir("tree/sub"))
    print(os.path.islink("tree/link"), os.readlink("tree/link"), os.lstat("tree/link").st_size)
    print(Path("tree/sub/b.txt").exists(), Path("tree/none").exists(), Path("tree/sub").is_dir())
    """
)


def test_metadata_and_listings_replay_after_the_tree_is_gone(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("aaa")
    (tree / "sub" / "b.txt").write_text("bbbbbb")
    (tree / "link").symlink_to("a.txt")
    program = tmp_path / "meta.py"
    program.write_text(METADATA_PROGRAM)
    recorded, _ = record_and_replay(program, tmp_path / "rec",
                                    between=lambda: shutil.rmtree(tree))
    assert "entry sub True False" in recorded.stdout
    assert "['tree/a.txt', 'tree/sub/b.txt']" in recorded.stdout


def test_access_checks_and_which_replay_after_the_files_are_gone(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "data.txt").write_text("x")
    (tools / "run-me").write_text("#!/bin/sh\n")
    (tools / "run-me").chmod(0o755)
    program = tmp_path / "check.py"
    program.write_text(textwrap.dedent(
        """
        import os, shutil
        print(os.access("tools/data.txt", os.R_OK), os.access("tools/data.txt", os.X_OK))
        print(os.access("tools/run-me", mode=os.X_OK), os.access("tools/none", os.F_OK))
        print(shutil.which("run-me", path="tools") is not None)
        """
    ))
    recorded, replayed = record_and_replay(program, tmp_path / "rec",
                                           between=lambda: shutil.rmtree(tools))
    assert recorded.stdout == "True False\nTrue False\nTrue\n"
    assert replayed.observable() == recorded.observable()


def test_python_files_no_module_came_from_are_data(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "main.py").write_text("a = 1\nb = 2\n")
    (project / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "helper.py").write_text("X = 1\n")
    program = tmp_path / "lines.py"
    program.write_text(textwrap.dedent(
        """
        import sys
        from pathlib import Path
        print("self", len(open(__file__).read().splitlines()))
        import helper
        print("helper", Path(helper.__file__).read_text().strip())
        for p in sorted(Path("project").rglob("*.py")):
            print(p, len(p.read_text().splitlines()))
        Path("gen").mkdir()
        Path("gen/made.py").write_text("VALUE = 42\\n")
        sys.path.insert(0, "gen")
        import made
        print("made", made.VALUE, Path(made.__file__).read_text().strip())
        """
    ))

    def remove_inputs() -> None:
        shutil.rmtree(project)
        shutil.rmtree(tmp_path / "gen")

    recorded, replayed = record_and_replay(program, tmp_path / "rec", between=remove_inputs, times=2)
    assert recorded.stdout == ("self 13\nhelper X = 1\nproject/main.py 2\nproject/pkg/mod.py 1\n"
                               "made 42 VALUE = 42\n"), recorded.stderr
    assert replayed.observable() == recorded.observable()
    assert not (tmp_path / "gen").exists()


def test_devices_and_proc_self(tmp_path: Path) -> None:
    program = tmp_path / "dev.py"
    program.write_text(textwrap.dedent(
        """
        import os
        with open("/dev/urandom", "rb") as f:
            print("random", f.read(16).hex())
        status = open("/proc/self/status").read()
        pid_line = next(line for line in status.splitlines() if line.startswith("Pid:"))
        print(pid_line.split()[1] == str(os.getpid()), pid_line)
        with open("/dev/null", "w") as f:
            print("null", f.write("discarded"))
        import sys
        sys.stdout.flush()
        with open("/dev/stdout", "w") as f:
            f.write("through /dev/stdout\\n")
        """
    ))
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert "True Pid:" in recorded.stdout and "through /dev/stdout" in recorded.stdout


def test_project_globs_choose_which_paths_are_boundaries(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.retrace.files]\nexclude = ["live/*"]\n')
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "feed.txt").write_text("old feed")
    (tmp_path / "kept.txt").write_text("old kept")
    program = tmp_path / "globs.py"
    program.write_text("import os\nhere = os.path.dirname(os.path.realpath(__file__))\n"
                       f"live = open(os.path.join({str(tmp_path)!r}, 'live', 'feed.txt')).read()\n"
                       "print(live, open('kept.txt').read())\n")
    recorded = record(program, tmp_path / "rec", cwd=tmp_path)
    assert recorded.stdout == "old feed old kept\n"
    (tmp_path / "live" / "feed.txt").write_text("new feed")
    (tmp_path / "kept.txt").write_text("new kept")
    # The excluded file is read live, so the output changes on purpose: without
    # RETRACE_CHECK_OUTPUT=0, output verification reports exactly that.
    checked = replay(tmp_path / "rec", cwd=tmp_path)
    assert checked.status == 86 and "wrote something different" in checked.stderr
    replayed = replay(tmp_path / "rec", cwd=tmp_path, env={"RETRACE_CHECK_OUTPUT": "0"})
    assert replayed.stdout == "new feed old kept\n"
    # The globs travel in the recording: replay applies them where no pyproject.toml says so.
    (tmp_path / "pyproject.toml").unlink()
    elsewhere = replay(tmp_path / "rec", cwd=tmp_path / "rec", env={"RETRACE_CHECK_OUTPUT": "0"})
    assert (elsewhere.status, elsewhere.stdout) == (0, "new feed old kept\n"), elsewhere


@pytest.mark.parametrize(("settings", "problem"), [
    ('[tool.retrace.files]\nexclud = ["live/*"]\n', "unknown key 'exclud'"),
    ('[tool.retrace.files]\nexclude = "live/*"\n', "exclude must be a list of strings"),
    ('[tool.retrace]\nfiles = ["live/*"]\n', "is not a table"),
])
def test_project_globs_that_would_be_ignored_are_refused(tmp_path: Path, settings: str,
                                                         problem: str) -> None:
    """A misspelt glob table would record reads the project excluded, or miss included ones."""
    (tmp_path / "pyproject.toml").write_text(settings)
    program = tmp_path / "globs.py"
    program.write_text("print('ran')\n")
    run = record(program, tmp_path / "rec", cwd=tmp_path)
    assert run.status == 2 and run.stdout == "", run
    assert problem in run.stderr and str(tmp_path / "pyproject.toml") in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_contents_are_stored_once_and_owner_only(tmp_path: Path) -> None:
    large = "".join(f"large line {i}\n" for i in range(8000))  # > 64 KiB: a blob file
    small = "small and distinctive content\n" * 10  # travels in the trace
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text(large)
    for name in ("s1.txt", "s2.txt"):
        (tmp_path / name).write_text(small)
    program = tmp_path / "dedupe.py"
    program.write_text(textwrap.dedent(
        """
        import helper
        for _ in range(3):
            for name in ("one.txt", "two.txt", "s1.txt", "s2.txt"):
                with open(name) as f:
                    helper.show(len(f.read()))
        """
    ))
    (tmp_path / "helper.py").write_text("def show(n):\n    print(n)\n")
    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec)
    assert recorded.stdout == f"{len(large)}\n{len(large)}\n{len(small)}\n{len(small)}\n" * 3
    blobs = [p for p in (rec / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].read_text() == large
    assert all(p.stat().st_mode & 0o077 == 0 for p in blobs)
    assert (rec / "trace.bin").read_bytes().count(small.encode()) == 1
    info = json.loads(run_retrace(["inspect", "--json", str(rec)]).stdout)
    counts = {row["boundary"]: row["events"] for row in info["boundaries"]}
    assert counts.get("open") == 12, counts  # helper.py, the program and the trace are not events
    assert info["folders"]["blobs"] == {"files": 1, "bytes": len(large)}


def test_a_missing_blob_is_a_bad_recording_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 100_000)
    program = tmp_path / "big.py"
    program.write_text("print(len(open('big.txt').read()))\n")
    rec = tmp_path / "rec"
    record(program, rec, cwd=tmp_path)
    for blob in (rec / "blobs").rglob("*"):
        if blob.is_file():
            blob.unlink()
    replayed = replay(rec)
    assert replayed.status == 88, replayed
    assert "Traceback" not in replayed.stderr
    assert "missing" in replayed.stderr


@pytest.mark.parametrize("forged", [
    {"blob": "../../../etc/passwd", "size": 3},
    {"blob": "0" * 64, "size": 3, "encoding": "no-such-codec"},
    ["not", "a", "map"],
])
def test_a_forged_open_event_is_a_bad_recording(tmp_path: Path, forged: object) -> None:
    (tmp_path / "in.txt").write_text("abc")
    program = tmp_path / "reader.py"
    program.write_text("print(open('in.txt').read())\n")
    rec = tmp_path / "rec"
    record(program, rec, cwd=tmp_path)
    _rewrite_open_events(rec / "trace.bin", forged)
    replayed = replay(rec)
    assert replayed.status == 88, replayed
    assert replayed.stderr.startswith("retrace: ") and replayed.stderr.count("\n") == 1, replayed
    assert "Traceback" not in replayed.stderr


def _rewrite_open_events(path: Path, value: object) -> None:
    """Replace the value of every ``open`` event, keeping the trace well framed."""
    reader = trace.TraceReader(str(path))
    header = reader.header
    records = []
    names: dict[int, str] = {}
    for _offset, items in reader.blocks():
        for i in range(0, len(items), trace.RECORD_WIDTH):
            rec = list(items[i:i + trace.RECORD_WIDTH])
            if rec[1] == trace.DEF_BOUNDARY:
                names[rec[2]] = rec[4]
            elif rec[1] >= 0 and names.get(rec[1] >> 1) == "open":
                rec[4] = value
            records.append(tuple(to_cbor(v) for v in rec))
    reader.close()
    path.unlink()
    writer = trace.TraceWriter(str(path), header)
    writer.records.extend(records)
    writer.close()
