"""``Cursor.upcoming``: what a scheduler sees of the next event before deciding what to run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import retrace


def test_upcoming_names_this_threads_next_event_without_taking_it(tmp_path: Path) -> None:
    with retrace.recording(tmp_path / "rec"):
        time.time()
        time.monotonic()
    with retrace.replaying(tmp_path / "rec") as session:
        cursor = session.cursor
        assert cursor is not None
        assert cursor.upcoming() == "time.time"
        assert cursor.upcoming() == "time.time"  # peeking takes nothing
        time.time()
        assert cursor.upcoming() == "time.monotonic"
        time.monotonic()
        assert cursor.upcoming() is None  # the trace has ended


def test_upcoming_can_wait_for_this_threads_turn(tmp_path: Path) -> None:
    def other() -> None:
        time.time()

    with retrace.recording(tmp_path / "rec"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        time.monotonic()
    with retrace.replaying(tmp_path / "rec") as session:
        cursor = session.cursor
        assert cursor is not None
        thread = threading.Thread(target=other)
        thread.start()
        waited = cursor.upcoming(retrace.Boundary("test.wait"))  # the other thread goes first
        thread.join()
        assert waited is not None and waited != "time.time"
        time.monotonic()
