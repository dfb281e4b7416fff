"""The flusher: retrace's own thread that writes buffered events while the program waits.

It must be invisible to the program (no thread in ``threading``, no events), end with the
session, and survive a fork on both sides. What it guarantees after a SIGKILL is in
test_faults.py.
"""

from __future__ import annotations

import _thread
import signal
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

from retrace import flusher, processes, session
from retrace.testing import record_and_replay, replay, run_retrace
from retrace.trace import TraceReader


def _events(trace: Path) -> list[int]:
    reader = TraceReader(str(trace))
    try:
        return [code for _offset, items in reader.blocks() for code in items[1::5] if code >= 0]
    finally:
        reader.close()


def _wait_unseen(seconds: float) -> None:
    """Wait the way a C call retrace does not intercept would: a raw lock, no boundary."""
    gate = _thread.allocate_lock()
    gate.acquire()
    gate.acquire(True, seconds)


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            return False
        _wait_unseen(0.001)
    return True


def test_events_reach_the_file_while_the_program_waits_and_the_thread_ends_with_the_session(
        tmp_path: Path) -> None:
    threads, running = threading.enumerate(), _thread._count()
    s = session.begin_recording(tmp_path / "rec", {"kind": "code", "code": ""}, ["x"], None)
    try:
        assert _eventually(lambda: _thread._count() == running + 1)  # counted once it runs
        assert threading.enumerate() == threads
        stamps = [time.time() for _ in range(5)]
        _wait_unseen(flusher.GUARANTEED + 0.5)
        assert len(_events(tmp_path / "rec" / "trace.bin")) == s.recorder.events >= len(stamps)
    finally:
        s.end(0)
    assert _eventually(lambda: _thread._count() == running)


THREADS = textwrap.dedent(
    """
    import threading, time
    start = time.time()
    time.sleep(0.05)
    print(threading.active_count(), [t.name for t in threading.enumerate()], time.time() > start)
    worker = threading.Thread(target=time.time)
    worker.start()
    worker.join()
    print(threading.active_count(), [t.name for t in threading.enumerate()])
    """
)


def test_the_program_sees_no_thread_of_retraces_and_the_trace_names_none(tmp_path: Path) -> None:
    program = tmp_path / "threads.py"
    program.write_text(THREADS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert recorded.stdout == "1 ['MainThread'] True\n1 ['MainThread']\n"
    inspected = run_retrace(["inspect", str(tmp_path / "rec")])
    assert "2 thread(s)" in inspected.stdout, inspected.stdout  # the main thread and the worker


SIGWAIT = textwrap.dedent(
    """
    import os, signal, time
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    time.sleep(0.05)  # the flusher has woken up a few times
    os.kill(os.getpid(), signal.SIGUSR1)  # to the process: any thread not blocking it takes it
    print(signal.sigwait({signal.SIGUSR1}) == signal.SIGUSR1)
    """
)


def test_a_signal_the_program_blocks_and_waits_for_is_not_taken_by_retraces_thread(
        tmp_path: Path) -> None:
    program = tmp_path / "sigwait.py"
    program.write_text(SIGWAIT)
    recorded, _ = record_and_replay(program, tmp_path / "rec")
    assert recorded.observable() == (0, "True\n", "")


FORK_AND_WAIT = textwrap.dedent(
    """
    import _thread, os, signal, sys, time

    def wait_unseen(seconds):
        gate = _thread.allocate_lock()
        gate.acquire()
        gate.acquire(True, seconds)

    print("before", time.time(), flush=True)
    pid = os.fork()
    if pid == 0:
        print("child", time.time(), flush=True)
        wait_unseen(float(sys.argv[1]))
        os._exit(0)  # no final flush: what the child's trace holds, its flusher wrote
    print("parent", time.time(), flush=True)
    wait_unseen(float(sys.argv[1]))
    os.kill(os.getpid(), signal.SIGKILL)  # no final flush either
    """
)


def test_after_a_fork_parent_and_child_each_write_while_they_wait(tmp_path: Path) -> None:
    program = tmp_path / "fork_and_wait.py"
    program.write_text(FORK_AND_WAIT)
    directory = tmp_path / "rec"
    done = run_retrace(["record", "-o", str(directory), str(program),
                        str(flusher.GUARANTEED + 0.5)], cwd=tmp_path)
    assert done.status == -signal.SIGKILL, done
    lines = done.stdout.splitlines()
    assert sorted(line.split()[0] for line in lines) == ["before", "child", "parent"], lines

    parent = replay(directory)
    assert parent.stdout.splitlines() == [line for line in lines if not line.startswith("child")]
    assert "the recorded process died" in parent.stderr, parent.stderr
    child = processes.directory_of(directory, "0.1") / "trace.bin"
    assert len(_events(child)) >= 2  # its clock reading and its line, at least
