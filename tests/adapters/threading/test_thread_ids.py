"""Thread ids the program (or ``logging``'s ``%(thread)d``) sees replay as recorded."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay

PROGRAM = textwrap.dedent(
    """
    import logging, sys, threading
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(thread)d %(threadName)s %(message)s")
    log = logging.getLogger("app")
    log.info("main starts")
    seen = {}

    def work(n):
        log.info("worker %d", n)
        seen[n] = threading.get_ident()

    workers = [threading.Thread(target=work, args=(n,), name=f"w{n}") for n in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print("main", threading.get_ident(), threading.current_thread().ident)
    print("same", threading.current_thread().ident == threading.get_ident())
    print("workers", [t.ident for t in workers], [seen[n] for n in range(3)])
    """
)


def test_thread_ids_in_log_lines_and_prints_replay(tmp_path: Path) -> None:
    program = tmp_path / "ids.py"
    program.write_text(PROGRAM)
    recorded, replayed = record_and_replay(program, tmp_path / "rec", times=2)
    assert "same True" in recorded.stdout
    assert recorded.stderr.count(" worker ") == 3 and "MainThread main starts" in recorded.stderr
    assert replayed.observable() == recorded.observable()
