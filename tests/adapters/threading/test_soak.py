"""Concurrency soak: 16 threads x 1,000 boundary events each, recorded once, replayed 20 times.

Every thread reads the clock and the random generator and takes one shared
lock, so the interleaving decides both the order of the log and every value
hashed into it; a replay that strayed anywhere prints a different line.
"""

from __future__ import annotations

from pathlib import Path

import thread_programs as programs
from test_threads import _assert_identical, _record, _replays

from retrace import trace


def test_16_threads_1000_events_each_replay_identically_20_times(tmp_path: Path) -> None:
    rec, recorded = _record(tmp_path, programs.SOAK, "16", "1000")
    assert recorded.stdout.startswith("4016 ")  # 16 threads x 250 rounds, plus 16 digests
    reader = trace.TraceReader(str(rec / "trace.bin"))
    try:
        events = sum(1 for _offset, items in reader.blocks()
                     for i in range(0, len(items), trace.RECORD_WIDTH) if items[i + 1] >= 0)
    finally:
        reader.close()
    assert events >= 16 * 1000, events
    _assert_identical(recorded, _replays(rec))
