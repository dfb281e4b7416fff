"""The clock replays byte-identically, through every spelling a program uses."""

from __future__ import annotations

import textwrap
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


SLEEPY = textwrap.dedent(
    """
    import os, time
    real = time.clock_gettime(time.CLOCK_MONOTONIC)  # not a boundary: the real clock
    start = time.monotonic()
    time.sleep(2)
    print(round(time.monotonic() - start))
    os.write(2, f"slept {time.clock_gettime(time.CLOCK_MONOTONIC) - real:.3f}\\n".encode())
    """
)


def _slept(stderr: str) -> float:
    return float(stderr.split("slept ")[1].split()[0])


def test_sleep_returns_at_once_on_replay_unless_asked(tmp_path: Path) -> None:
    """The program measures its own sleep with a clock retrace does not patch."""
    program = tmp_path / "sleepy.py"
    program.write_text(SLEEPY)
    recorded = record(program, tmp_path / "rec")
    assert recorded.stdout == "2\n"
    assert _slept(recorded.stderr) >= 2.0
    fast = replay(tmp_path / "rec")
    assert fast.stdout == recorded.stdout and fast.status == 0
    assert _slept(fast.stderr) < 1.0
    real = replay(tmp_path / "rec", env={"RETRACE_REAL_SLEEP": "1"})
    assert real.stdout == recorded.stdout and real.status == 0
    assert _slept(real.stderr) >= 2.0
