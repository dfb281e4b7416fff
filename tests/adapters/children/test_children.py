"""Child processes: each records into its own trace; the parent replays with none started."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from retrace.testing import record, record_and_replay, replay, run_retrace

# Workers append to MARKER as they work: after the recording the file is put
# aside, so a replay that started any worker would bring it back.
POOL = textwrap.dedent(
    """
    import multiprocessing as mp, os, random, sys, time

    MARKER = sys.argv[2]

    def work(x):
        with open(MARKER, "a") as out:
            out.write("worked\\n")
        return x, random.random(), random.getrandbits(64)

    def boom(x):
        raise ValueError(f"no {x}")

    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        print("parent", random.random())
        with ctx.Pool(2) as pool:
            print(pool.map(work, range(8)))
            print(pool.apply(work, (10,)))
            print(sorted(pool.imap_unordered(work, range(3))))
            try:
                pool.apply(boom, (1,))
            except ValueError as exc:
                print("raised", exc)
            # Leaving the block terminates the workers (SIGTERM): what a worker recorded is on
            # disk once it has waited for work for retrace.flusher.GUARANTEED (20 ms).
            time.sleep(0.3)
        print("done", random.random())
    """
)

EXECUTOR = textwrap.dedent(
    """
    import concurrent.futures as cf, multiprocessing as mp, random, sys

    MARKER = sys.argv[1]

    def work(x):
        with open(MARKER, "a") as out:
            out.write("worked\\n")
        return x, random.random()

    if __name__ == "__main__":
        with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
            print(list(ex.map(work, range(6))))
            futures = [ex.submit(work, n) for n in (7, 8)]
            print([f.result() for f in futures])
        print("done", random.random())
    """
)

FORKS = textwrap.dedent(
    """
    import os, random, sys
    print("parent before", random.random(), flush=True)
    pid = os.fork()
    if pid == 0:
        print("child", random.random(), flush=True)
        inner = os.fork()
        if inner == 0:
            print("grandchild", random.random(), flush=True)
            os._exit(3)
        print("child saw", os.waitstatus_to_exitcode(os.waitpid(inner, 0)[1]), flush=True)
        os._exit(7)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print("parent after", status, random.random())
    """
)


# The child holds a lock until the thread has put, so while recording the thread's put goes
# first; on replay there is no child, and the main thread reaches the queue's write lock first.
TWO_PUTTERS = textwrap.dedent(
    """
    import multiprocessing as mp, threading

    def hold(held, writer, put):
        with held:
            writer.send("holding")
            put.wait(60)

    def put_b(q, go, put):
        go.wait()
        q.put("b")
        put.set()

    if __name__ == "__main__":
        ctx = mp.get_context("fork")
        q, held, put = ctx.SimpleQueue(), ctx.Lock(), ctx.Event()
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=hold, args=(held, writer, put))
        child.start()
        print(reader.recv())
        go = threading.Event()
        thread = threading.Thread(target=put_b, args=(q, go, put))
        thread.start()
        go.set()
        with held:
            pass
        q.put("a")
        thread.join()
        print(q.get(), q.get())
        child.join()
    """
)

# Spawned workers that print what they work on. The program first holds some files open, or
# not: a worker's pipes reach it as the descriptor numbers its parent passed it. The pool ends
# with close() (its workers exit) or terminate() (it kills those still waiting for work, long
# enough for their traces to hold all they did).
SPAWN_POOL = textwrap.dedent(
    """
    import multiprocessing as mp, sys, time

    def work(x):
        for stream, name in ((sys.stdout, "out"), (sys.stderr, "err")):
            stream.write(f"worker {name} {x}\\n")  # one write: two workers' lines never mix
            stream.flush()
        return x * x

    if __name__ == "__main__":
        held = [open(__file__) for _ in range(int(sys.argv[1]))]
        pool = mp.get_context("spawn").Pool(2)
        print("parent", pool.map(work, range(4)), flush=True)
        if sys.argv[2] == "terminate":
            time.sleep(0.2)
            pool.terminate()
        else:
            pool.close()
        pool.join()
    """
)

#: How the replay of a process whose recording ends early (killed) says so.
ENDS = "retrace: the recording ends here"


def _moved_aside(marker: Path) -> str:
    text = marker.read_text()
    marker.unlink()
    return text


def _parents_lines(stdout: str, prefixes: tuple[str, ...]) -> str:
    return "".join(line for line in stdout.splitlines(keepends=True) if line.startswith(prefixes))


def test_a_pool_replays_its_results_and_starts_no_worker(tmp_path: Path) -> None:
    program = tmp_path / "pool.py"
    program.write_text(POOL)
    marker = tmp_path.parent / f"{tmp_path.name}-pool-marker.txt"
    seen: dict[str, str] = {}
    recorded, _ = record_and_replay(program, tmp_path / "rec", "fork", str(marker),
                                    between=lambda: seen.update(text=_moved_aside(marker)), times=2)
    assert seen["text"].count("worked") == 12
    assert not marker.exists(), "a worker ran during replay"
    assert "raised no 1" in recorded.stdout and recorded.stdout.count("(") >= 12
    info = json.loads(run_retrace(["inspect", "--json", str(tmp_path / "rec")]).stdout)
    workers = [row for row in info["processes"] if row["id"] != "0"]
    assert [row["id"] for row in workers] == ["0.1", "0.2"]
    assert {row["start"] for row in workers} == {"fork"}
    assert sum(row["events"] for row in workers) > 12


def test_a_process_pool_executor_replays_without_workers(tmp_path: Path) -> None:
    program = tmp_path / "executor.py"
    program.write_text(EXECUTOR)
    marker = tmp_path.parent / f"{tmp_path.name}-executor-marker.txt"
    seen: dict[str, str] = {}
    recorded, _ = record_and_replay(program, tmp_path / "rec", str(marker),
                                    between=lambda: seen.update(text=_moved_aside(marker)), times=2)
    assert seen["text"].count("worked") == 8
    assert not marker.exists(), "a worker ran during replay"
    assert recorded.stdout.startswith("[(0, 0.")


def test_two_threads_putting_to_one_queue_replay_in_the_recorded_order(tmp_path: Path) -> None:
    """A queue's write lock is not a second order on replay (a pool's task handler and
    ``terminate()`` both put to its result queue): the trace's order of the sends is the one."""
    program = tmp_path / "putters.py"
    program.write_text(TWO_PUTTERS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert recorded.stdout == "holding\nb a\n"


def test_a_forked_child_replays_from_its_own_trace(tmp_path: Path) -> None:
    program = tmp_path / "forks.py"
    program.write_text(FORKS)
    rec = tmp_path / "rec"
    recorded = record(program, rec, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    lines = recorded.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["parent", "child", "grandchild", "child", "parent"]
    assert "parent after 7" in recorded.stdout

    parent = replay(rec)
    assert parent.stdout == _parents_lines(recorded.stdout, ("parent",)), parent.stderr
    child = run_retrace(["replay", str(rec), "--process", "0.1"])
    assert child.status == 7, child.stderr
    assert child.stdout == _parents_lines(recorded.stdout, ("parent before", "child"))
    grandchild = run_retrace(["replay", str(rec), "--process", "0.1.1"])
    assert grandchild.status == 3, grandchild.stderr
    assert grandchild.stdout == _parents_lines(recorded.stdout,
                                               ("parent before", "child 0.", "grandchild"))

    tree = run_retrace(["inspect", str(rec)]).stdout
    assert "0.1            fork" in tree and "└ 0.1.1" in tree
    assert "complete, exit status 7" in tree and "complete, exit status 3" in tree


def test_a_python_subprocess_and_a_spawned_worker_record_their_own_traces(tmp_path: Path) -> None:
    """The one slow test (spawn starts an interpreter per worker)."""
    (tmp_path / "kid.py").write_text(
        "import random, sys\nprint('kid', sys.argv[1:], random.random())\nsys.exit(4)\n"
    )
    program = tmp_path / "spawning.py"
    program.write_text(textwrap.dedent(
        """
        import multiprocessing as mp, random, subprocess, sys

        def work(x):
            return x * x, random.random()

        if __name__ == "__main__":
            out = subprocess.run([sys.executable, "kid.py", "a"], capture_output=True, text=True)
            print("kid said", out.stdout.strip(), out.returncode)
            with mp.get_context("spawn").Pool(1) as pool:
                print(pool.map(work, range(4)))
        """
    ))
    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec)
    assert "kid said kid ['a']" in recorded.stdout and " 4\n" in recorded.stdout
    info = json.loads(run_retrace(["inspect", "--json", str(rec)]).stdout)
    assert [(row["id"], row["start"]) for row in info["processes"]] == [
        ("0", None), ("0.1", "exec"), ("0.2", "spawn")]

    kid_line = recorded.stdout.splitlines()[0].removeprefix("kid said ").rsplit(" ", 1)[0]
    kid = run_retrace(["replay", str(rec), "--process", "0.1"])
    assert (kid.status, kid.stdout) == (4, kid_line + "\n"), kid.stderr
    worker = run_retrace(["replay", str(rec), "--process", "0.2"])
    assert worker.status in (0, 87), worker.stderr  # 87: the pool's terminate() killed it waiting
    assert worker.stdout == ""
    assert worker.stderr.startswith(ENDS) if worker.status == 87 else worker.stderr == ""


def _sorted_lines(*texts: str) -> list[str]:
    return sorted("".join(texts).splitlines())


@pytest.mark.parametrize(("held", "ending"), [(0, "close"), (6, "close"), (6, "terminate")])
def test_a_spawned_worker_replayed_alone_prints_what_it_printed_and_nothing_else(
    tmp_path: Path, held: int, ending: str
) -> None:
    """Replayed alone, a worker inherited none of its pipes' descriptors. With the recorded
    numbers, the worker's closes hit the replay's own descriptors (and print "Exception ignored
    ... Bad file descriptor" at exit) or, with files held, none (the worker died at its start).
    A worker terminate() killed replays up to where its recording ends, and says so (87)."""
    program = tmp_path / "pool.py"
    program.write_text(SPAWN_POOL)
    rec = tmp_path / "rec"
    recorded = record(program, rec, str(held), ending, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert _parents_lines(recorded.stdout, ("parent",)) == "parent [0, 1, 4, 9]\n"

    assert replay(rec).observable() == (0, "parent [0, 1, 4, 9]\n", "")
    workers = [run_retrace(["replay", str(rec), "--process", p]) for p in ("0.1", "0.2")]
    # terminate() kills a worker that has not yet read the task handler's "no more work"
    statuses = {0, 87} if ending == "terminate" else {0}
    assert {w.status for w in workers} <= statuses, [w.stderr for w in workers]
    printed = [w.stderr.partition(ENDS) for w in workers]
    assert [bool(ends) for _, ends, _ in printed] == [w.status == 87 for w in workers], [
        w.stderr for w in workers]
    assert _sorted_lines(*(w.stdout for w in workers)) == _sorted_lines(
        _parents_lines(recorded.stdout, ("worker",)))
    assert _sorted_lines(*(before for before, _, _ in printed)) == _sorted_lines(recorded.stderr)


def test_a_process_that_is_not_there_gets_one_clear_message(tmp_path: Path) -> None:
    program = tmp_path / "plain.py"
    program.write_text("print('hi')\n")
    rec = tmp_path / "rec"
    assert record(program, rec, cwd=tmp_path).status == 0
    missing = run_retrace(["replay", str(rec), "--process", "0.3"])
    assert missing.status == 88 and "no process 0.3" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = run_retrace(["replay", str(rec), "--process", "3"])
    assert bad.status == 2 and "is not a process ID" in bad.stderr
