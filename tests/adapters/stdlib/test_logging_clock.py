"""``logging``'s ``%(relativeCreated)d`` replays: the log's start time is recorded."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay


def test_relative_created_in_log_lines_replays(tmp_path: Path) -> None:
    program = tmp_path / "rel.py"
    program.write_text(textwrap.dedent(
        """
        import logging, sys, time
        logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                            format="%(relativeCreated)d %(message)s")
        time.sleep(0.3)
        logging.info("after a pause")
        """
    ))
    recorded, replayed = record_and_replay(program, tmp_path / "rec", times=2)
    elapsed, message = recorded.stdout.split(" ", 1)
    assert int(elapsed) >= 300 and message == "after a pause\n"
    assert replayed.observable() == recorded.observable()
