"""The cursor reads a block in runs: events straight, definitions and damaged records checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrace import trace
from retrace.boundary import Boundary
from retrace.codecs import CodecRegistry
from retrace.cursor import Cursor
from retrace.errors import BadRecording, Divergence

CLOCK = Boundary("test.clock")
OTHER = Boundary("test.other")


def _event(boundary_id: int, site: int, value: object) -> tuple[object, ...]:
    return (0, boundary_id * 2, site, None, value)


def test_definitions_between_events_are_absorbed_and_a_malformed_record_stops_the_replay(
        tmp_path: Path) -> None:
    path = tmp_path / "trace.bin"
    writer = trace.TraceWriter(str(path), {"format": trace.FORMAT_VERSION})
    writer.records.extend([
        (0, trace.DEF_THREAD, 0, None, "0"),
        (0, trace.DEF_BOUNDARY, 0, None, CLOCK.name),
        (0, trace.DEF_SITE, 0, None, ["program.py", 1]),
        _event(0, 0, 1.0), _event(0, 0, 2.0),
        (0, trace.DEF_SITE, 1, None, ["program.py", 2]),
        _event(0, 1, 3.0),
        (0, trace.DEF_BOUNDARY, 1, None, OTHER.name),
        _event(1, 1, 4.0), _event(0, 0, 5.0),
    ])
    writer.flush()
    writer.records.extend([_event(0, 0, 6.0), (0, 2.0, 0, None, 7.0), _event(0, 0, 8.0)])
    writer.close()
    failures: list[Exception] = []
    cursor = Cursor(trace.TraceReader(str(path)), CodecRegistry(), failures.append)

    served = [cursor.take(CLOCK, None, (), {}) for _ in range(3)]
    assert served == [(0, 1.0), (0, 2.0), (0, 3.0)] and cursor.sites[1] == ("program.py", 2)
    assert cursor.take(OTHER, None, (), {}) == (0, 4.0)
    assert cursor.take(CLOCK, None, (), {}) == (0, 5.0)
    with pytest.raises(BadRecording, match="malformed record in block"):
        cursor.take(CLOCK, None, (), {})  # 6.0, then the next record is read: a float code
    assert len(failures) == 1 and cursor.consumed == 6


def test_the_boundary_is_checked_by_name_once_then_by_identity(tmp_path: Path) -> None:
    path = tmp_path / "trace.bin"
    writer = trace.TraceWriter(str(path), {"format": trace.FORMAT_VERSION})
    writer.records.extend([
        (0, trace.DEF_THREAD, 0, None, "0"),
        (0, trace.DEF_BOUNDARY, 0, None, CLOCK.name),
        (0, trace.DEF_SITE, 0, None, ["program.py", 1]),
        _event(0, 0, 1.0), _event(0, 0, 2.0), _event(0, 0, 3.0),
    ])
    writer.close()
    failures: list[Exception] = []
    cursor = Cursor(trace.TraceReader(str(path)), CodecRegistry(), failures.append)

    assert cursor.take(CLOCK, None, (), {}) == (0, 1.0)
    same_name = Boundary(CLOCK.name)  # another object of the same name: the same boundary
    assert cursor.take(same_name, None, (), {}) == (0, 2.0)
    with pytest.raises(Divergence, match="replay diverged at event #3"):
        cursor.take(OTHER, None, (), {})
    assert len(failures) == 1
