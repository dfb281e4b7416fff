"""The clock replays byte-identically, through every spelling a program uses."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from retrace.testing import record, record_and_replay, replay

CLOCK_PROGRAM = textwrap.dedent(
    """
    import datetime, threading, time
    from time import time as alias_time, perf_counter as alias_perf

    readings = [
        time.time(), time.time_ns(), time.monotonic(), time.monotonic_ns(),
        time.perf_counter(), time.perf_counter_ns(), time.process_time(),
        time.process_time_ns(), time.thread_time(), time.thread_time_ns(),
        alias_time(), alias_perf(),
    ]
    print("readings", readings)
    print("localtime", time.localtime())
    print("gmtime", time.gmtime())
    print("ctime", time.ctime(), "asctime", time.asctime())
    print("strftime", time.strftime("%Y-%m-%d %H:%M:%S"))
    print("pure", time.localtime(0).tm_year, time.strftime("%Y", time.gmtime(0)))
    now = datetime.datetime.now()
    utc = datetime.datetime.now(datetime.timezone.utc)
    print("now", repr(now), repr(utc), repr(datetime.datetime.utcnow()))
    print("today", repr(datetime.date.today()), repr(datetime.datetime.today()))
    print("types", type(now) is datetime.datetime, isinstance(now, datetime.datetime),
          type(datetime.date.today()) is datetime.date)
    c = threading.Condition()
    with c:
        c.wait(0.01)  # threading's private alias of time.monotonic
    print("after wait", time.monotonic())
    """
)


def test_every_clock_reading_replays_identically(tmp_path: Path) -> None:
    program = tmp_path / "clock.py"
    program.write_text(CLOCK_PROGRAM)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=3)
    assert recorded.status == 0
    assert "types True True True" in recorded.stdout
    assert "readings [" in recorded.stdout


def test_sleep_returns_at_once_on_replay_unless_asked(tmp_path: Path) -> None:
    """Compared with a replay that really sleeps, so machine load cannot fake a pass."""
    program = tmp_path / "sleepy.py"
    program.write_text("import time\nstart = time.monotonic()\ntime.sleep(3)\n"
                       "print(round(time.monotonic() - start))\n")
    recorded = record(program, tmp_path / "rec")
    assert recorded.stdout == "3\n"
    started = time.monotonic()
    fast = replay(tmp_path / "rec")
    fast_took = time.monotonic() - started
    started = time.monotonic()
    real = replay(tmp_path / "rec", env={"RETRACE_REAL_SLEEP": "1"})
    real_took = time.monotonic() - started
    assert fast.observable() == recorded.observable() == real.observable()
    assert real_took - fast_took > 2.0
