"""Faults while recording: the recorded process killed with SIGKILL, a recording path that
cannot be written, a file size limit reached mid-run, the directory deleted mid-run, a value no
codec can hold, an adapter whose encoder crashes. Recording never breaks the program; a
process killed while it waits has everything before the wait on disk; the partial recording
replays up to where it stops and then says so."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrace import autoenable, flusher, runtime, session
from retrace.boundary import Boundary
from retrace.testing import _env, replay, run_retrace
from retrace.trace import TraceReader

# -- SIGKILL mid-run ---------------------------------------------------------------------------

TICKER = """\
import os
import random
import sys
import time

pause = float(sys.argv[1])
for i in range(1_000_000):
    print(i, time.time(), random.random(), os.urandom(2).hex(), flush=True)
    if pause:
        time.sleep(pause)
"""


def events_in(trace: Path) -> int:
    reader = TraceReader(str(trace))
    try:
        return sum(1 for _o, items in reader.blocks() for code in items[1::5] if code >= 0)
    finally:
        reader.close()


@contextlib.contextmanager
def recording(program: Path, directory: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``retrace record`` of ``program`` running in the background; the block SIGKILLs it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrace", "record", "-o", str(directory), str(program), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(None),
        cwd=program.parent,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def record_and_kill(program: Path, directory: Path, pause: str, lines: int) -> list[str]:
    """Record ``program``; SIGKILL the recorder once it has printed ``lines`` lines."""
    with recording(program, directory, pause) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        seen = [proc.stdout.readline() for _ in range(lines)]
        assert all(seen), seen
        kill(proc)
        rest, err = proc.stdout.read(), proc.stderr.read()  # what readline() buffered too
    assert err == ""
    return "".join([*seen, rest]).splitlines()


def _kill_points(count: int) -> list[tuple[str, int]]:
    """Where to kill: the first line, then points drawn at random (seeded, so a failure repeats).

    The flusher writes the trace every 10 ms, with or without the 2 ms pauses,
    so a kill lands anywhere in a block (what a long wait guarantees is the
    test after this one).
    """
    draw = random.Random(20261126)
    points = [("0.002", 1)]
    while len(points) < count:
        points.append(draw.choice([("0.002", draw.randint(2, 60)), ("0", draw.randint(1, 2000))]))
    return points


@pytest.mark.parametrize(("pause", "lines"), _kill_points(20))
def test_sigkill_mid_run_replays_up_to_the_last_event(tmp_path, pause, lines):
    program = tmp_path / "ticker.py"
    program.write_text(TICKER)
    directory = tmp_path / "rec"
    recorded = record_and_kill(program, directory, pause, lines)
    assert len(recorded) >= lines
    kept = events_in(directory / "trace.bin")

    run = replay(directory)
    assert run.status == 87, run
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith(f"retrace: the recording ends here, after event #{kept}: "
                                 "the recorded process died"), run.stderr
    replayed = run.stdout.splitlines()
    # The replay prints what the recorded run printed, line for line, as far as the trace goes.
    # Output is replayed write by write, so its last line may stop part-way through.
    common = min(len(replayed), len(recorded))
    if common:
        assert replayed[: common - 1] == recorded[: common - 1]
        assert recorded[common - 1].startswith(replayed[common - 1])
    # It may print one line more: the events of a line can reach the trace (10 ms flush) just
    # before the kill stops the print.
    assert len(replayed) <= len(recorded) + 1

    inspected = run_retrace(["inspect", str(directory)])
    assert inspected.status == 0
    assert re.search(r"^state       partial \(the recorded process did not exit normally\)",
                     inspected.stdout, re.M), inspected.stdout


WAITER = """\
import _thread
import random
import sys
import time

for i in range(int(sys.argv[2])):
    print(i, time.time(), random.random(), flush=True)
print("waiting", flush=True)
if sys.argv[1] == "sleep":
    time.sleep(600)
else:  # a wait retrace does not intercept (a raw lock taken twice): the replay waits it out too
    gate = _thread.allocate_lock()
    gate.acquire()
    gate.acquire(True, 2)
print("done waiting")
"""


@pytest.mark.parametrize("wait", ["sleep", "unseen"])
@pytest.mark.parametrize("lines", [1, 300])
def test_sigkill_during_a_long_wait_keeps_everything_recorded_before_it(tmp_path, wait, lines):
    """The trace guarantee: a call waiting for more than ``flusher.GUARANTEED`` (20 ms) has every
    event recorded before it on disk, whether the wait is a boundary or not. The kill comes
    0.5 s into the wait: the flusher's 10 ms and a margin for a loaded machine."""
    program = tmp_path / "waiter.py"
    program.write_text(WAITER)
    directory = tmp_path / "rec"
    with recording(program, directory, wait, str(lines)) as proc:
        assert proc.stdout is not None
        recorded = [proc.stdout.readline() for _ in range(lines + 1)]
        assert recorded[-1] == "waiting\n", recorded
        time.sleep(flusher.GUARANTEED + 0.5)
        kill(proc)

    run = replay(directory)
    assert run.stdout == "".join(recorded)  # every clock reading, draw and line before the wait
    kept = events_in(directory / "trace.bin")
    assert run.stderr.startswith(f"retrace: the recording ends here, after event #{kept}: "
                                 "the recorded process died"), run.stderr


# -- an unwritable RETRACE_RECORDING_PATH ------------------------------------------------------

HELLO = """\
import time
print("hello", type(time.time()).__name__)
print("bye")
"""


@pytest.fixture(scope="module")
def autoenable_hook():
    """The .pth hook in this environment; removed afterwards only if this module installed it."""
    was_installed = autoenable.installed()
    if not was_installed:
        autoenable.install()
    yield
    if not was_installed:
        autoenable.uninstall()


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_unwritable_recording_path_warns_once_and_runs_on(autoenable_hook, tmp_path, where):
    program = tmp_path / "hello.py"
    program.write_text(HELLO)
    blocker = tmp_path / "file.txt"
    blocker.write_text("I am a file, not a directory\n")
    target = blocker / "rec" if where == "under-a-file" else Path("/proc/retrace-rec")
    env = _env({"RETRACE": "1", "RETRACE_RECORDING_PATH": str(target)})
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (0, "hello float\nbye\n")
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"retrace: cannot record to {target} ("), lines
    assert lines[0].endswith("); the program runs unrecorded")
    assert blocker.read_text() == "I am a file, not a directory\n"


def test_the_hook_records_when_the_path_is_writable(autoenable_hook, tmp_path):
    """The control for the test above: the same run with a good path records, silently."""
    program = tmp_path / "hello.py"
    program.write_text(HELLO)
    env = _env({"RETRACE": "1", "RETRACE_RECORDING_PATH": str(tmp_path / "rec")})
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello float\nbye\n", "")
    assert (tmp_path / "rec" / "trace.bin").is_file()


# -- a file size limit reached mid-run ---------------------------------------------------------

CLOCKS = """\
import sys
import time

total = 0.0
for _ in range(200_000):
    total += time.time()
print("sum is positive:", total > 0)
sys.exit(3)
"""
LIMIT = 64 * 1024


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_file_size_limit_stops_the_recording_not_the_program(tmp_path):
    program = tmp_path / "clocks.py"
    program.write_text(CLOCKS)
    directory = tmp_path / "rec"
    plain = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                           env=_env(None), timeout=120)
    assert (plain.returncode, plain.stdout, plain.stderr) == (3, "sum is positive: True\n", "")

    done = subprocess.run(
        [sys.executable, "-m", "retrace", "record", "-o", str(directory), str(program)],
        capture_output=True, text=True, env=_env(None), cwd=tmp_path, preexec_fn=_limit_file_size,
        timeout=120,
    )
    trace = directory / "trace.bin"
    assert (done.returncode, done.stdout) == (3, "sum is positive: True\n")
    lines = done.stderr.splitlines()
    assert all(line.startswith("retrace: ") for line in lines), lines
    assert lines == [
        "retrace: recording stopped, the program goes on unrecorded: writing the trace failed: "
        f"{trace}: File too large (the recording in {directory} is incomplete; it replays up to "
        "this point)",
    ]
    assert trace.stat().st_size <= LIMIT

    run = replay(directory)
    assert run.status == 87, run
    assert run.stderr.startswith(
        "retrace: the recording ends here, after event #"
    ), run.stderr
    assert (": recording stopped while the program ran on: writing the trace failed: "
            f"{trace}: File too large.\n") in run.stderr
    inspected = run_retrace(["inspect", "--json", str(directory)])
    assert json.loads(inspected.stdout)["state"] == (
        f"incomplete (recording stopped: writing the trace failed: {trace}: File too large)"
    )


# -- a value no codec can hold -----------------------------------------------------------------


def test_unencodable_value_warns_once_and_marks_the_recording_incomplete(tmp_path, capsys):
    directory = tmp_path / "rec"
    thing = Boundary("thirdparty.thing")
    s = session.begin_recording(directory, {"kind": "code", "code": ""}, ["x"], None)
    try:
        assert runtime.call(thing, lambda: 5) == 5
        first, second = object(), object()
        assert runtime.call(thing, lambda: first) is first
        assert runtime.call(thing, lambda: second) is second
        assert runtime.call(thing, lambda: 6) == 6
    finally:
        s.end(0)
    assert isinstance(runtime.active(), runtime.Passthrough)
    assert time.time.__class__.__name__ == "builtin_function_or_method"
    err = capsys.readouterr().err
    reason = "thirdparty.thing returned a value retrace cannot record: no codec for builtins.object"
    assert err.splitlines() == [
        f"retrace: recording stopped, the program goes on unrecorded: {reason} (the recording in "
        f"{directory} is incomplete; it replays up to this point)",
    ]
    inspected = run_retrace(["inspect", "--json", str(directory)])
    info = json.loads(inspected.stdout)
    assert info["state"] == f"incomplete (recording stopped: {reason})"
    assert {"boundary": "thirdparty.thing", "events": 1} in [
        {k: row[k] for k in ("boundary", "events")} for row in info["boundaries"]
    ]
    assert info["exit_status"] is None
    assert os.stat(directory / "trace.bin").st_mode & 0o777 == 0o600


def test_hook_never_replaces_an_earlier_recording(autoenable_hook, tmp_path):
    program = tmp_path / "hello.py"
    program.write_text(HELLO)
    env = _env({"RETRACE": "1", "RETRACE_RECORDING_PATH": str(tmp_path / "rec")})
    runs = [subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                           env=env, cwd=tmp_path, timeout=60) for _ in range(2)]
    first = (tmp_path / "rec" / "trace.bin").read_bytes()
    assert [(r.returncode, r.stdout) for r in runs] == [(0, "hello float\nbye\n")] * 2
    assert runs[0].stderr == ""
    assert runs[1].stderr == (f"retrace: {tmp_path / 'rec'} already holds a recording; "
                              f"recording to {tmp_path / 'rec-2'} instead\n")
    assert (tmp_path / "rec" / "trace.bin").read_bytes() == first
    assert replay(tmp_path / "rec-2").stdout == "hello float\nbye\n"


def test_hook_without_a_path_says_where_it_records(autoenable_hook, tmp_path):
    program = tmp_path / "hello.py"
    program.write_text(HELLO)
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          env=_env({"RETRACE": "1"}), cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (0, "hello float\nbye\n")
    assert done.stderr == (f"retrace: RETRACE_RECORDING_PATH is not set; recording to "
                           f"{tmp_path / 'retrace-recording'}\n")
    assert (tmp_path / "retrace-recording" / "trace.bin").is_file()


def test_hook_with_a_path_but_no_retrace_says_nothing_is_recorded(autoenable_hook, tmp_path):
    program = tmp_path / "hello.py"
    program.write_text(HELLO)
    env = _env({"RETRACE_RECORDING_PATH": str(tmp_path / "rec")})
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (0, "hello float\nbye\n")
    assert done.stderr == ("retrace: RETRACE_RECORDING_PATH is set but RETRACE is not: nothing is "
                           "recorded (set RETRACE=1 to record)\n")
    assert not (tmp_path / "rec").exists()


# -- the writer itself, under a file size limit --------------------------------------------------

WRITER_UNDER_LIMIT = """
import os, resource, signal, sys
from retrace.trace import STOPPED, TraceReader, TraceWriter
path = sys.argv[1]
writer = TraceWriter(path, {"format": 1})
writer.records.extend((0, 0, 0, None, i) for i in range(10))
writer.flush()
whole = os.path.getsize(path)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (whole + 1000, whole + 1000))
writer.records.extend((0, 0, 0, None, "x" * 100) for i in range(100))
writer.flush()
print(writer.failure)
print(os.path.getsize(path) == whole)
writer.records.append((0, 0, 0, None, "lost"))
writer.records.append((0, STOPPED, 110, None, "it stopped"))
writer.close()
reader = TraceReader(path)
print([items for _offset, items in reader.blocks()], reader.truncated_at)
"""


def test_a_failed_write_leaves_whole_frames_and_the_stop_marker(tmp_path):
    path = tmp_path / "trace.bin"
    done = subprocess.run([sys.executable, "-c", WRITER_UNDER_LIMIT, str(path)],
                          capture_output=True, text=True, env=_env(None), timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines() == [
        f"{path}: File too large",
        "True",  # the torn frame was taken back
        str([[v for i in range(10) for v in (0, 0, 0, None, i)], [0, -4, 110, None, "it stopped"]])
        + " None",
    ]


AT_EXIT_UNDER_LIMIT = """
import os, resource, signal, sys
from pathlib import Path
from retrace import runtime, session
from retrace.boundary import Boundary
directory = Path(sys.argv[1])
s = session.begin_recording(directory, {"kind": "code", "code": ""}, ["x"], None)
s.recorder.flush()
size = os.path.getsize(directory / "trace.bin")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 200, size + 200))
thing = Boundary("thirdparty.thing")
for i in range(20):
    assert runtime.call(thing, lambda: "y" * 50) == "y" * 50
s.end(0)
print("program went on")
"""


def test_a_write_failing_at_exit_marks_the_recording_incomplete(tmp_path):
    directory = tmp_path / "rec"
    done = subprocess.run([sys.executable, "-c", AT_EXIT_UNDER_LIMIT, str(directory)],
                          capture_output=True, text=True, env=_env(None), timeout=60)
    trace = directory / "trace.bin"
    assert (done.returncode, done.stdout) == (0, "program went on\n"), done.stderr
    assert done.stderr == (f"retrace: the recording in {directory} is incomplete: "
                           f"{trace}: File too large\n")
    info = json.loads(run_retrace(["inspect", "--json", str(directory)]).stdout)
    assert info["state"] == (f"incomplete (recording stopped: writing the trace failed: "
                             f"{trace}: File too large)")


# -- the recording directory deleted mid-run ----------------------------------------------------

DELETER = """\
import shutil
import sys
import time

total = 0.0
for i in range(60_000):
    total += time.time()
    if i == 100:
        shutil.rmtree(sys.argv[1])
print("sum is positive:", total > 0)
sys.exit(4)
"""


def test_a_recording_directory_deleted_mid_run_stops_the_recording_not_the_program(tmp_path):
    program = tmp_path / "deleter.py"
    program.write_text(DELETER)
    directory = tmp_path / "rec"
    done = subprocess.run(
        [sys.executable, "-m", "retrace", "record", "-o", str(directory), str(program),
         str(directory)],
        capture_output=True, text=True, env=_env(None), cwd=tmp_path, timeout=120,
    )
    assert (done.returncode, done.stdout) == (4, "sum is positive: True\n"), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("retrace: "), lines
    assert str(directory) in lines[0] and "Traceback" not in done.stderr, lines


# -- a crash inside an adapter ---------------------------------------------------------------


def _crashing_encoder(value, instance, args, kwargs):
    raise RuntimeError("adapter bug in encode")


@pytest.mark.parametrize("ordered", [None, "after"])
def test_a_crashing_adapter_encoder_leaves_the_program_its_library_behaviour(
        tmp_path, capsys, ordered):
    """The program gets what the library returned; the recording stops, marked incomplete."""
    directory = tmp_path / "rec"
    crashy = Boundary("thirdparty.crashy", encode=_crashing_encoder, ordered=ordered)
    s = session.begin_recording(directory, {"kind": "code", "code": ""}, ["x"], None)
    try:
        if ordered:
            results = [runtime.ordered(crashy, None, lambda n=n: n * 2) for n in range(3)]
        else:
            results = [runtime.call(crashy, lambda n=n: n * 2) for n in range(3)]
        assert time.time() > 0
    finally:
        s.end(0)
    assert results == [0, 2, 4]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "adapter bug in encode" in err[0], err
    assert err[0].startswith("retrace: recording stopped, the program goes on unrecorded: "), err
    info = json.loads(run_retrace(["inspect", "--json", str(directory)]).stdout)
    assert info["state"].startswith("incomplete (recording stopped: "), info["state"]
