"""Subprocesses replay from the recording: same outputs, same chunks, and no process runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from retrace.testing import record_and_replay, run_retrace

PIPELINE_PROGRAM = textwrap.dedent(
    """
    import os, subprocess, sys
    marker = sys.argv[1]
    p1 = subprocess.Popen(["sort", "fruit.txt"], stdout=subprocess.PIPE)
    p2 = subprocess.Popen(["grep", "ap"], stdin=p1.stdout, stdout=subprocess.PIPE, text=True)
    p1.stdout.close()
    for line in p2.stdout:
        print("line", line.rstrip())
    print("status", p2.wait(), p1.wait(), p2.returncode, p2.pid > 0)
    done = subprocess.run(f"echo ran >> {marker}; echo out; echo err >&2; exit 3", shell=True,
                          capture_output=True, text=True)
    print(done.returncode, repr(done.stdout), repr(done.stderr))
    print(subprocess.check_output(["tr", "a-z", "A-Z"], input=b"shout"))
    try:
        subprocess.run(["false"], check=True)
    except subprocess.CalledProcessError as exc:
        print("failed", exc.returncode, exc)
    try:
        subprocess.run(["no-such-program-retrace-test"])
    except FileNotFoundError as exc:
        print("missing", exc)
    print("call", subprocess.call(["true"]))
    print("system", os.system(f"echo system >> {marker}"))
    with os.popen(f"echo popen >> {marker}; echo one; echo two") as pipe:
        print("popen", pipe.read().split())
    try:
        subprocess.run(["sleep", "5"], timeout=0.2)
    except subprocess.TimeoutExpired as exc:
        print("timeout", exc.cmd, exc.timeout > 0)
    with subprocess.Popen(["sh", "-c", "echo a; sleep 0.05; echo b"], stdout=subprocess.PIPE) as p:
        chunks = []
        while True:
            chunk = p.stdout.read1(100)
            if not chunk:
                break
            chunks.append(chunk)
    print("chunks", b"".join(chunks), p.returncode)
    print("inherited", subprocess.run(["sh", "-c", "echo to-stdout; echo to-stderr >&2"]).returncode)
    print("system status", os.system("echo from-system; exit 2"))
    """
)


def test_pipeline_replays_without_running_anything(tmp_path: Path) -> None:
    (tmp_path / "fruit.txt").write_text("pear\napple\nfig\napricot\n")
    program = tmp_path / "pipeline.py"
    program.write_text(PIPELINE_PROGRAM)
    marker = tmp_path.parent / f"{tmp_path.name}-marker.txt"
    rec = tmp_path / "rec"
    after_recording = {}

    def break_the_world() -> None:
        after_recording["marker"] = marker.read_text()
        (tmp_path / "fruit.txt").write_text("nothing useful\n")

    recorded, _ = record_and_replay(program, rec, str(marker), between=break_the_world, times=2)
    assert "line apple\nline apricot\nstatus 0 0 0 True\n" in recorded.stdout
    assert "3 'out\\n' 'err\\n'" in recorded.stdout
    assert "b'SHOUT'" in recorded.stdout and "popen ['one', 'two']" in recorded.stdout
    assert "timeout ['sleep', '5'] True" in recorded.stdout
    assert "to-stdout\n" in recorded.stdout and "to-stderr\n" in recorded.stderr
    assert "from-system\n" in recorded.stdout and "system status 512" in recorded.stdout
    assert after_recording["marker"] == "ran\nsystem\npopen\n"
    assert marker.read_text() == after_recording["marker"], "a process ran during replay"
    info = json.loads(run_retrace(["inspect", "--json", str(rec)]).stdout)
    names = {row["boundary"] for row in info["boundaries"]}
    assert {"subprocess.Popen", "subprocess.pipe.read", "os.system"} <= names
