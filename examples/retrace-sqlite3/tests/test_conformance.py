"""retrace-sqlite3's conformance tests, built on ``retrace.testing`` as any adapter's would be.

Record a program against a real SQLite database, delete the database, and
replay: same output, same exceptions, same exit status, and no database file
created again by the replay.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from retrace.testing import record, record_and_replay, replay, run_retrace

PROGRAM = textwrap.dedent(
    """
    import sqlite3, sys, time

    db = sqlite3.connect(sys.argv[1])
    db.execute("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, at REAL, who TEXT UNIQUE)")
    with db:
        db.executemany("INSERT INTO visits (at, who) VALUES (?, ?)",
                       [(time.time(), "ada"), (time.time(), "grace")])
    cursor = db.execute("SELECT id, at, who FROM visits WHERE who != ? ORDER BY id", ("nobody",))
    print([d[0] for d in cursor.description])
    print(cursor.fetchone())
    print(cursor.fetchall())
    try:
        db.execute("INSERT INTO visits (at, who) VALUES (?, ?)", (0, "ada"))
    except sqlite3.IntegrityError as exc:
        print("refused:", type(exc).__name__, exc)
    db.close()
    """
).lstrip()


def test_queries_replay_without_the_database(tmp_path: Path) -> None:
    program = tmp_path / "visits.py"
    program.write_text(PROGRAM)
    database = tmp_path / "visits.db"
    recorded, _ = record_and_replay(program, tmp_path / "rec", str(database),
                                    between=database.unlink, times=2)
    assert "['id', 'at', 'who']" in recorded.stdout
    assert "'grace')]" in recorded.stdout
    assert "refused: IntegrityError UNIQUE constraint failed: visits.who" in recorded.stdout
    assert not database.exists(), "replay must not open (and so create) the database"


def test_changed_sql_diverges_with_the_statement_in_the_report(tmp_path: Path) -> None:
    program = tmp_path / "visits.py"
    program.write_text(PROGRAM)
    record(program, tmp_path / "rec", str(tmp_path / "visits.db"), cwd=tmp_path)
    copy = tmp_path / "rec" / "run" / "visits.py"
    copy.write_text(PROGRAM.replace("ORDER BY id", "ORDER BY who"))
    run = replay(tmp_path / "rec")
    assert run.status == 86
    assert "arguments: SELECT id, at, who FROM visits WHERE who != ? ORDER BY id" in run.stderr
    assert "arguments: SELECT id, at, who FROM visits WHERE who != ? ORDER BY who" in run.stderr


def test_registered_through_the_entry_point() -> None:
    listed = {a["name"]: a for a in json.loads(run_retrace(["adapters", "--json"]).stdout)}
    assert listed["sqlite3"]["provided_by"].startswith("retrace-sqlite3 ")
    assert listed["sqlite3"]["status"] == "ok"
