"""``with retrace.recording(path)`` / ``with retrace.replaying(path)`` inside one process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import retrace
from retrace import runtime
from retrace.errors import Divergence, RecordingEnds


def _observe() -> list[object]:
    return [time.time(), random.random(), uuid.uuid4(), os.environ.get("HOME"), os.urandom(4)]


def test_a_block_replays_the_values_it_recorded(tmp_path: Path) -> None:
    with retrace.recording(tmp_path / "rec"):
        recorded = _observe()
    with retrace.replaying(tmp_path / "rec"):
        replayed = _observe()
    assert replayed == recorded
    assert _observe() != recorded  # patches are gone after the block


def test_a_scoped_divergence_raises(tmp_path: Path) -> None:
    with retrace.recording(tmp_path / "rec"):
        time.time()
    with pytest.raises(Divergence, match=r"boundary:  time\.monotonic"), \
            retrace.replaying(tmp_path / "rec"):
        time.monotonic()


def test_a_call_past_the_end_of_a_scoped_recording_raises(tmp_path: Path) -> None:
    with retrace.recording(tmp_path / "rec"):
        time.time()
    with pytest.raises(Divergence, match="does not have"), retrace.replaying(tmp_path / "rec"):
        time.time()
        time.time()


def test_recording_ends_is_an_error_type() -> None:
    assert issubclass(RecordingEnds, retrace.errors.RetraceError)


FRESH_KEYS = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import retrace
from retrace import runtime
from retrace.summary import summarize_recording

here = Path(sys.argv[1])
with ThreadPoolExecutor(max_workers=1) as pool:
    with retrace.recording(here / "a"):
        pool.submit(time.time).result()
    with retrace.recording(here / "b"):
        time.time()
        pool.submit(time.time).result()
    with retrace.replaying(here / "b"):
        time.time()
        pool.submit(time.time).result()
print(summarize_recording(here / "b")["threads"])
"""


def test_threads_get_fresh_keys_in_each_session(tmp_path: Path) -> None:
    """A worker made in one session is named afresh in the next (by the order of its first
    event, since it was not made in that session). In a process of its own: a stray thread
    of the test runner's reading the clock would take that name first."""
    script = tmp_path / "sessions.py"
    script.write_text(FRESH_KEYS)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "2\n", "")


def test_a_future_of_the_programs_executor_has_a_recorded_condition(tmp_path: Path) -> None:
    """A future's condition is its submitter's, not the threads adapter's wrapper's, so its
    acquisitions are events: ``result()`` reached before the worker is done on replay, but
    after it when recording, waits for its turn instead of holding a real lock that the
    worker needs (the replay of the sessions program above stalled now and then)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:  # made before the session, as above
        pool.submit(int).result()  # its worker too
        with retrace.recording(tmp_path / "rec"):
            future = pool.submit(time.time)
            recorded = future.result()
            assert type(future._condition._lock).__name__ == "RecordedRLock"
        with retrace.replaying(tmp_path / "rec"):
            assert pool.submit(time.time).result() == recorded


def test_a_failing_fingerprint_warns_once_and_replays_alike(tmp_path: Path, capsys) -> None:
    from retrace import Boundary
    from retrace.runtime import call

    def broken(instance: object, args: tuple, kwargs: dict) -> object:
        raise ValueError("adapter bug")

    flaky = Boundary("thirdparty.flaky", fingerprint=broken)
    with retrace.recording(tmp_path / "rec"):
        first = [call(flaky, int, n) for n in range(3)]
    assert capsys.readouterr().err.count("the fingerprint of thirdparty.flaky failed") == 1
    with retrace.replaying(tmp_path / "rec"):
        again = [call(flaky, int, -1) for _ in range(3)]
    assert again == first == [0, 1, 2]


def test_garbage_collector_callbacks_are_never_events(tmp_path: Path) -> None:
    """A gc callback reading the clock (as hypothesis installs one) runs when the collector
    decides, which differs between a recording and its replay."""
    import gc

    timings: list[float] = []

    def timed_collection(phase: str, info: dict) -> None:
        timings.append(time.perf_counter())

    gc.callbacks.append(timed_collection)
    try:
        with retrace.recording(tmp_path / "rec"):
            first = time.time()
            gc.collect()
            gc.collect()
        with retrace.replaying(tmp_path / "rec"):
            again = time.time()
            gc.collect()
    finally:
        gc.callbacks.remove(timed_collection)
    assert again == first
    assert len(timings) >= 6  # each collection calls back at its start and its stop


def test_a_redacted_secret_passed_on_to_a_boundary_replays(tmp_path: Path, monkeypatch) -> None:
    """The token is recorded as the placeholder; replay passes the placeholder on, so the
    recording digests the call's arguments with the token replaced the same way."""
    import os

    from retrace import Boundary
    from retrace.runtime import call

    monkeypatch.setenv("BILLING_API_TOKEN", "tok-5f1e9a0c7b2d")
    send = Boundary("thirdparty.send", fingerprint=lambda i, a, k: list(a))
    with retrace.recording(tmp_path / "rec"):
        token = os.environ["BILLING_API_TOKEN"]
        sent = call(send, lambda header, n: f"sent {n}", f"Bearer {token}", 1)
    monkeypatch.delenv("BILLING_API_TOKEN")
    with retrace.replaying(tmp_path / "rec"):
        token = os.environ["BILLING_API_TOKEN"]
        again = call(send, lambda header, n: "unreachable", f"Bearer {token}", 1)
    assert token == "<retrace:redacted>"
    assert again == sent == "sent 1"
    trace_bytes = (tmp_path / "rec" / "trace.bin").read_bytes()
    assert b"tok-5f1e9a0c7b2d" not in trace_bytes


def test_a_gc_callback_added_during_the_session_is_not_an_event_either(tmp_path: Path) -> None:
    import gc

    def timed_collection(phase: str, info: dict) -> None:
        time.perf_counter()

    try:
        with retrace.recording(tmp_path / "rec"):
            gc.callbacks.append(timed_collection)
            first = time.time()
            gc.collect()
        with retrace.replaying(tmp_path / "rec"):
            again = time.time()
            gc.collect()
            gc.collect()
        assert timed_collection in gc.callbacks  # the program's own callback is left in place
    finally:
        gc.callbacks.remove(timed_collection)
    assert again == first
    assert not any("quiet" in getattr(c, "__name__", "") for c in gc.callbacks)


def test_a_failing_adapter_stop_still_ends_the_session(tmp_path: Path) -> None:
    """One adapter failing to stop must not leave the mode and the other patches behind."""
    with retrace.recording(tmp_path / "rec"):
        recorded = _observe()

    class StopFailed(Exception):
        pass

    def broken_stop(session: object) -> None:
        raise StopFailed

    with pytest.raises(StopFailed), retrace.replaying(tmp_path / "rec") as session:
        assert _observe() == recorded
        first = session.adapters[-1].adapter
        first.stop = broken_stop  # the first adapter to be stopped fails
    del first.stop
    assert isinstance(runtime.active(), runtime.Passthrough)
    assert _observe() != recorded  # the patches of every adapter are gone
