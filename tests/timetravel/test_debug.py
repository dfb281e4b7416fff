"""``retrace debug`` driven through its command interface, on recorded programs."""

from __future__ import annotations

import re
from ast import literal_eval
from pathlib import Path

import pytest
from timetravel_kit import debug

from retrace.testing import record

LOOP = """\
import random
import time


def square(x):
    y = x * x
    return y


total = 0
for i in range(5):
    stamp = time.time()
    r = random.random()
    total += square(i)
    print("iteration", i, stamp, r, total)
print("done", total)
"""


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("loop")
    (base / "app.py").write_text(LOOP)
    recorded = record(base / "app.py", base / "rec", cwd=base)
    assert recorded.status == 0, recorded.stderr
    return base / "rec", recorded.stdout


def iterations(stdout: str) -> dict[int, tuple[str, str]]:
    """Iteration number -> (stamp, random value), from the program's printed lines."""
    found = {}
    for i, stamp, r in re.findall(r"iteration (\d+) (\S+) (\S+) \d+\n", stdout):
        assert int(i) not in found, f"iteration {i} printed twice:\n{stdout}"
        found[int(i)] = (stamp, r)
    return found


def test_stepping_back_shows_the_same_lines_and_values_as_stepping_forward(loop: tuple[Path, str]) -> None:
    rec, _ = loop
    forward = 24
    look = "p (i, total, square.__name__) if 'i' in dir() else None"
    commands = ["n"] * 5 + [c for _ in range(forward) for c in ("s", look)]
    commands += [c for _ in range(forward) for c in ("rstep", look)]
    run = debug(rec, commands)
    answers = run.answers
    assert run.status == 0, run.stderr
    start = 6  # the answer to the first "s"
    stops = [(run.where(start + 2 * k), answers[start + 2 * k + 1]) for k in range(forward)]
    back = start + 2 * forward
    stops_back = [(run.where(back + 2 * k), answers[back + 2 * k + 1]) for k in range(forward)]
    # rstep k lands where step forward - 1 - k did, with the same values
    assert stops_back[:-1] == stops[-2::-1]
    assert all(where is not None for where, _ in stops)
    assert ("app.py", 6, "square") in [where for where, _ in stops]  # it went into calls
    assert "Traceback" not in run.stdout + run.stderr


def test_a_clock_value_after_stepping_back_is_the_recorded_one(loop: tuple[Path, str]) -> None:
    rec, recorded = loop
    stamps = {i: stamp for i, (stamp, _r) in iterations(recorded).items()}
    run = debug(
        rec,
        [
            "b 15",
            "c",
            "c",
            "c",
            "p repr(stamp)",
            "rstep",
            "rstep",
            "rstep",
            "p repr(stamp)",
            "rc",
            "p repr(stamp)",
            "p i",
        ],
    )
    answers = run.answers
    assert answers[5].strip() == repr(stamps[2])
    assert answers[9].strip() == repr(stamps[2])  # back in the same iteration: same value
    assert answers[11].strip() == repr(stamps[1])  # the previous hit: iteration 1's value
    assert answers[12].strip() == "1"


def test_reverse_continue_finds_the_previous_hit_of_a_breakpoint_in_a_loop(loop: tuple[Path, str]) -> None:
    rec, _ = loop
    run = debug(
        rec, ["b 15, i % 2 == 0", "c", "c", "c", "p i", "rc", "p i", "rc", "p i", "rc", "p i", "c", "p i"]
    )
    answers = run.answers
    values = [answers[k].strip() for k in (5, 7, 9, 11, 13)]
    assert values == ["4", "2", "0", "0", "2"]
    assert "no earlier breakpoint hit" in answers[10]
    assert run.where(10) is None  # it stayed where it was


def test_rnext_goes_over_calls_and_rreturn_goes_to_the_caller(loop: tuple[Path, str]) -> None:
    rec, _ = loop
    run = debug(
        rec,
        ["b square", "c", "c", "n", "where", "rreturn", "p i", "rnext", "rnext", "rnext", "p i", "rreturn"],
    )
    assert run.where(4) == ("app.py", 7, "square")
    assert run.where(6) == ("app.py", 14, "<module>")  # the line that called square
    assert run.answers[7].strip() == "1"
    assert [run.where(k) for k in (8, 9, 10)] == [
        ("app.py", 13, "<module>"),
        ("app.py", 12, "<module>"),
        ("app.py", 11, "<module>"),
    ]
    assert run.answers[11].strip() == "0"  # the for line, before i takes its next value
    assert "no caller in the program" in run.answers[12]


def test_program_output_is_printed_once_however_often_the_debugger_goes_back(loop: tuple[Path, str]) -> None:
    rec, recorded = loop
    run = debug(
        rec,
        ["b 15", "c", "c", "c", "rc", "rc", "c", "c", "c", "rc", "c", "c", "c", "c", "rstep", "rstep", "c"],
    )
    assert iterations(run.stdout) == iterations(recorded)
    assert run.stdout.count("done 30") == 1
    assert run.status == 0


def test_goto_a_boundary_event_backwards_and_forwards(loop: tuple[Path, str]) -> None:
    rec, recorded = loop
    stamps = {i: stamp for i, (stamp, _r) in iterations(recorded).items()}
    first = debug(rec, ["b 13", "c", "c", "c", "when"])  # after iteration 2's clock read
    served = int(re.search(r"boundary events served: (\d+)", first.answers[5])[1])  # type: ignore[index]
    run = debug(
        rec,
        [
            "b 13",
            "c",
            "c",
            "c",
            "c",
            "c",
            "c",
            f"goto {served}",
            "when",
            "p repr(stamp)",
            "goto @4",
            "when",
            f"goto {served}",
            "p repr(stamp)",
            "goto x",
        ],
    )
    answers = run.answers
    assert "The program finished" in answers[7]
    assert f"boundary events served: {served}" in answers[9]  # back from the end
    assert run.where(8) == ("app.py", 13, "<module>")
    assert answers[10].strip() == repr(stamps[2])
    assert "step 4," in answers[12]
    assert answers[14].strip() == repr(stamps[2])  # and forwards to the same place
    assert "usage: goto" in answers[15]
    assert iterations(run.stdout) == iterations(recorded)


def test_going_back_from_the_end_of_the_program(loop: tuple[Path, str]) -> None:
    rec, recorded = loop
    run = debug(
        rec, ["b 15", "c", "c", "c", "c", "c", "c", "p i", "rc", "p i", "c", "x = 1", "rstep", "when"]
    )
    answers = run.answers
    assert "The program finished with exit status 0" in answers[7]
    assert "the program has finished" in answers[8]  # pdb's commands need a frame
    assert run.where(9) == ("app.py", 15, "<module>")
    assert answers[10].strip() == "4"
    assert "The program finished with exit status 0" in answers[11]
    assert "the program has finished" in answers[12]
    assert "--Return--" in answers[13] and run.where(13) == ("app.py", 16, "<module>")
    assert "step" in answers[14]
    assert iterations(run.stdout) == iterations(recorded)
    assert run.status == 0


def test_breakpoints_set_after_a_checkpoint_follow_the_debugger_back(loop: tuple[Path, str]) -> None:
    rec, _ = loop
    run = debug(rec, ["b 14", "c", "c", "c", "p i", "b 15", "disable 1", "rc", "p i", "rc", "p i", "break"])
    answers = run.answers
    assert answers[5].strip() == "2"
    assert run.where(8) == ("app.py", 15, "<module>")
    assert answers[9].strip() == "1"
    assert answers[11].strip() == "0"
    assert re.search(r"^1 +breakpoint +keep +no ", answers[12], re.MULTILINE)  # still disabled
    assert re.search(r"^2 +breakpoint +keep +yes ", answers[12], re.MULTILINE)


THREADS = """\
import threading
import time


def work(n, out):
    acc = 0
    for k in range(3):
        acc += k * n
        stamp = time.time()
    out.append((n, acc, stamp))


results = []
for n in range(1, 4):
    worker = threading.Thread(target=work, args=(n, results), name=f"worker-{n}")
    worker.start()
    worker.join()
print(results)
"""


def test_stepping_back_within_one_thread(tmp_path: Path) -> None:
    """Threads joined in order (what replay enforces without the threading adapter)."""
    (tmp_path / "app.py").write_text(THREADS)
    recorded = record(tmp_path / "app.py", tmp_path / "rec", cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    run = debug(
        tmp_path / "rec",
        [
            "b 9",
            "c",
            "c",
            "c",
            "c",
            "when",
            "p n, k, acc",
            "rstep",
            "when",
            "p n, k, acc",
            "rc",
            "when",
            "n",
            "p n, k, acc, repr(stamp)",
        ],
    )
    answers = run.answers
    assert "thread worker-2, step 5" in answers[6]
    assert answers[7].strip() == "(2, 0, 0)"
    assert run.where(8) == ("app.py", 8, "work")
    assert "thread worker-2, step 4" in answers[9]  # back one step in worker-2
    assert answers[10].strip() == "(2, 0, 0)"
    assert "thread worker-1" in answers[12]  # the previous hit was in the thread before
    n, k, acc, stamp = literal_eval(answers[14])
    assert (n, k, acc) == (1, 2, 3)
    assert stamp == repr(literal_eval(recorded.stdout)[0][2])


def test_a_watch_stops_continue_where_it_changes_and_rcontinue_goes_back_to_that(
    loop: tuple[Path, str],
) -> None:
    rec, _ = loop
    run = debug(
        rec,
        [
            "n",
            "n",
            "n",
            "n",
            "watch total",
            "c",
            "p i, total",
            "c",
            "p i, total",
            "rc",
            "p i, total",
            "rc",
            "rc",
            "c",
            "p i, total",
            "unwatch 1",
            "c",
        ],
    )
    answers = run.answers
    assert "Watch 1: total = 0" in answers[5]
    assert "Old value: 0\nNew value: 1" in answers[6]  # iteration 0 adds 0: no change
    assert answers[7].strip() == "(1, 1)"
    assert "Old value: 1\nNew value: 5" in answers[8]
    assert answers[9].strip() == "(2, 5)"
    assert answers[11].strip() == "(1, 1)"  # back where it last changed
    assert "no earlier breakpoint hit or watch change" in answers[13]
    assert "Old value: 0\nNew value: 1" in answers[14]  # forward again: the same change
    assert answers[15].strip() == "(1, 1)"
    assert "The program finished with exit status 0" in answers[17]


def test_restart_goes_back_to_the_first_line_and_jump_is_refused(loop: tuple[Path, str]) -> None:
    rec, recorded = loop
    run = debug(rec, ["n", "n", "j 1", "restart", "when", "c", "run", "when", "c"])
    answers = run.answers
    assert "jump would make the program do what the recording did not" in answers[3]
    assert run.where(4) == ("app.py", 1, "<module>") and "step 2," in answers[5]
    assert "The program finished" in answers[6]
    assert run.where(7) == ("app.py", 1, "<module>") and "step 2," in answers[8]
    assert iterations(run.stdout) == iterations(recorded)


def test_breakpoint_commands_follow_the_debugger_back(loop: tuple[Path, str]) -> None:
    rec, _ = loop
    run = debug(rec, ["b 15", "commands 1", "p i * 10", "end", "c", "c", "rc", "c"])
    # the commands print i * 10 at each hit: 0, 10, then (after going back to i = 0) 10 again
    shown = [re.split(r"\(rdb\) |\(com\) ", line)[-1] for line in run.stdout.splitlines()]
    assert [line for line in shown if line in ("0", "10")] == ["0", "10", "10"]
    assert "Traceback" not in run.stdout + run.stderr
    assert run.status == 0
