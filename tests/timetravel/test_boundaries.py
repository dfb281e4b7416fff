"""Values that crossed a boundary are the recorded ones wherever the debugger goes back to."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from timetravel_kit import debug

from retrace.testing import record

redis = pytest.importorskip("redis")

PROGRAM = """\
import sys

import redis

client = redis.Redis(host="127.0.0.1", port=6379)
prefix = sys.argv[1]
for i in range(4):
    client.incrby(prefix + "counter", 10 + i)
    value = int(client.get(prefix + "counter"))
    print("read", i, value)
client.delete(prefix + "counter")
"""


def test_a_value_read_from_redis_is_the_recorded_one_after_stepping_back(
    tmp_path: Path, redis_service: tuple[str, int]
) -> None:
    prefix = f"retrace-timetravel:{uuid.uuid4().hex[:12]}:"
    client = redis.Redis(host=redis_service[0], port=redis_service[1])
    client.set(prefix + "counter", 1000)
    (tmp_path / "app.py").write_text(PROGRAM)
    try:
        recorded = record(tmp_path / "app.py", tmp_path / "rec", prefix, cwd=tmp_path)
    finally:
        client.delete(prefix + "counter")
    assert recorded.status == 0, recorded.stderr
    assert "read 3 1046" in recorded.stdout
    client.set(prefix + "counter", -1)  # what the server holds now must not matter
    try:
        run = debug(
            tmp_path / "rec",
            [
                "b 10",
                "c",
                "c",
                "c",
                "p value",
                "rc",
                "p value",
                "rstep",
                "rstep",
                "p value",
                "n",
                "n",
                "p value",
                "rc",
                "p i, value",
                "c",
                "c",
                "c",
                "c",
            ],
        )
        assert client.get(prefix + "counter") == b"-1"  # replay touched nothing
    finally:
        client.delete(prefix + "counter")
    answers = run.answers
    assert answers[5].strip() == "1033"  # 1000 + 10 + 11 + 12
    assert answers[7].strip() == "1021"  # the previous hit
    assert answers[10].strip() == "1010"  # stepped back into iteration 0
    assert answers[13].strip() == "1021"  # and forward again: the recorded read
    assert answers[15].strip() == "(0, 1010)"
    assert run.stdout.count("read ") == 4
    assert "read 3 1046" in run.stdout
    assert run.status == 0, run.stderr
