"""In-process: one recording of a racy asyncio program, replayed 20 times in the same process.

The subprocess tests prove replay with the services gone; this one is the
fast check that the loop's order is the same on every replay, with nothing
but the standard library (tasks, timers, timeouts, cancellation, a
``TaskGroup`` where available).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

import retrace


async def _worker(i: int, out: list[str]) -> int:
    await asyncio.sleep(random.random() / 100)
    out.append(f"worker {i} at {asyncio.get_running_loop().time():.6f}")
    return i


async def _slow(out: list[str]) -> None:
    try:
        await asyncio.sleep(random.random() / 50)
        out.append("slow finished")
    except asyncio.CancelledError:
        out.append("slow cancelled")
        raise


async def _program(out: list[str]) -> None:
    done = [await f for f in asyncio.as_completed([_worker(i, out) for i in range(20)])]
    out.append(f"as_completed {done}")
    for _ in range(20):
        try:
            await asyncio.wait_for(_slow(out), timeout=0.01)
        except asyncio.TimeoutError:
            out.append("timed out")
    tasks = [asyncio.create_task(_worker(i, out)) for i in range(5)]
    first, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    out.append(f"first {[t.result() for t in first]}")
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sys.version_info >= (3, 11):
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(4):
                    group.create_task(_slow(out))
                group.create_task(asyncio.sleep(0.005, result=None))
                group.create_task(_fail())
        except Exception as errors:  # an ExceptionGroup
            out.append(f"group {errors!r}")


async def _fail() -> None:
    await asyncio.sleep(0.008)
    raise ValueError("boom")


def _run() -> list[str]:
    out: list[str] = []
    asyncio.run(_program(out))
    return out


def test_twenty_replays_in_process_match_the_recording(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    with retrace.recording(rec):
        recorded = _run()
    assert "timed out" in recorded and "slow finished" in recorded, recorded
    started = time.monotonic()
    for _ in range(20):
        with retrace.replaying(rec):
            assert _run() == recorded
    assert time.monotonic() - started < 10
