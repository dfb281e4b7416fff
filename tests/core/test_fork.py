"""A process that forks while recording: the parent's trace stays whole."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay

FORKING = textwrap.dedent(
    """
    import os, time
    before = time.time()
    pid = os.fork()
    if pid == 0:
        for _ in range(1000):
            time.time()
        os._exit(0)
    os.waitpid(pid, 0)
    print("parent", before, time.monotonic())
    """
)


def test_a_forked_child_does_not_write_into_the_parents_trace(tmp_path: Path) -> None:
    program = tmp_path / "forking.py"
    program.write_text(FORKING)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert recorded.stdout.startswith("parent ")
