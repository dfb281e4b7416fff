"""Events made later (``Recorder.later``) are the events ``call`` would have made at once.

An adapter records a round trip's place in the trace when it returns and
has its fingerprint and outcome made when the thread next waits
(``runtime.settle``) or when the trace is written. The trace must not tell
the two apart, whichever made them, with other events in between, and a
replay must serve them like any other.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from retrace import later, runtime, trace
from retrace.boundary import Boundary
from retrace.events import read_events
from retrace.session import begin_recording, begin_replay

# A library and its adapter, as far as call sites go: frames of module "fakedb".
fakedb = types.ModuleType("fakedb")
exec(
    "def query(sql, value):\n"
    "    mode = runtime.active()\n"
    "    if mode.name == 'replay':\n"
    "        return runtime.call(QUERY, unreachable, sql, value)\n"
    "    rows = [sql, value, {'rows': [value, value * 2]}]\n"
    "    if mode.name == 'record' and deferred['on']:\n"
    "        def make():\n"
    "            made.append(value)\n"
    "            if value == 'boom':\n"
    "                raise ValueError('cannot make this one')\n"
    "            return rows\n"
    "        if mode.later(QUERY, (sql, value), make) is not None:\n"
    "            return rows\n"
    "    return runtime.call(QUERY, lambda *_: rows, sql, value)\n"
    "def tick():\n"
    "    return runtime.call(TICK, lambda: next(ticks[0]))\n",
    fakedb.__dict__,
)

QUERY = Boundary("fakedb.query", fingerprint=lambda i, a, k: [a[0], a[1]],
                 summary=lambda i, a, k: f"query {a[0]!r}", summary_key=lambda i, a, k: a[0],
                 library=("fakedb",))
TICK = Boundary("fakedb.tick", library=("fakedb",))
made: list[Any] = []
#: True: the fake adapter records with ``later``; False: with ``call``, at once.
deferred = {"on": True}
ticks = [iter(range(10**6))]


def _unreachable(*_: Any) -> Any:
    raise AssertionError("replay reached the real round trip")


fakedb.__dict__.update(runtime=runtime, QUERY=QUERY, TICK=TICK, made=made, deferred=deferred,
                       ticks=ticks, unreachable=_unreachable)


def program(settle_every: int) -> list[Any]:
    """Queries with other events in between, settled now and then (0: never, by the writer)."""
    seen = []
    for i in range(12):
        seen.append(fakedb.query("SELECT %s", i))  # site: query
        seen.append(fakedb.tick())
        if settle_every and i % settle_every == 0:
            runtime.settle()
    thread = threading.Thread(target=lambda: seen.append(fakedb.query("in a thread", -1)))
    thread.start()
    thread.join()
    seen.append(fakedb.query("SELECT %s", 1.5))  # left to the writer: never settled here
    return seen


def _records(directory: Path) -> list[tuple[Any, ...]]:
    """The trace's definitions, markers and fakedb events, in order (thread paths left out:
    they count threads; other events, the random seed's, differ between two runs)."""
    reader = trace.TraceReader(str(directory / "trace.bin"))
    names: dict[int, str] = {}
    found = []
    try:
        for _offset, items in reader.blocks():
            for t, code, ident, fp, value in trace.records_of(items):
                if code == trace.DEF_BOUNDARY:
                    names[ident] = value
                if code < 0 or names[code >> 1].startswith("fakedb."):
                    found.append((t, code, ident, fp,
                                  None if code in (trace.DEF_THREAD, trace.FOOTER) else value))
    finally:
        reader.close()
    return found


def _record(directory: Path, settle_every: int) -> tuple[list[Any], list[tuple[Any, ...]]]:
    ticks[0] = iter(range(10**6))
    session = begin_recording(directory, {"kind": "code", "code": ""}, ["test"], None)
    try:
        seen = program(settle_every)
    finally:
        session.end(0)
    events = [(e.thread, e.boundary, e.site, e.fingerprint, e.summary, e.raised, e.value)
              for e in read_events(directory) if e.boundary.startswith("fakedb.")]
    return seen, events


@pytest.mark.parametrize("settle_every", [1, 3, 0])
def test_later_events_are_the_events_made_at_once_and_replay(tmp_path: Path,
                                                             settle_every: int) -> None:
    deferred["on"] = False
    eager_seen, eager = _record(tmp_path / "eager", settle_every)
    deferred["on"] = True
    made.clear()
    seen, events = _record(tmp_path / "later", settle_every)

    assert seen == eager_seen
    assert events == eager
    assert _records(tmp_path / "later") == _records(tmp_path / "eager")
    assert sorted(made, key=repr) == sorted([*range(12), -1, 1.5], key=repr)  # each made once
    sites = {e[2] for e in events if e[1] == "fakedb.query"}
    assert sites == {(__file__, _line("# site: query")), (__file__, _line("in a thread")),
                     (__file__, _line("never settled here"))}

    session = begin_replay(tmp_path / "later", on_divergence=pytest.fail)
    try:
        replayed = program(settle_every)
    finally:
        session.end(0)
    assert replayed == seen


def test_an_outcome_that_cannot_be_made_ends_the_trace_in_its_place(tmp_path: Path) -> None:
    deferred["on"] = True
    session = begin_recording(tmp_path / "rec", {"kind": "code", "code": ""}, ["test"], None)
    try:
        answers = [fakedb.query("SELECT %s", v) for v in (1, "boom", 3)]  # made by the writer
    finally:
        session.end(0)
    assert [row[1] for row in answers] == [1, "boom", 3]  # the program got its answers

    kinds = [(code, value) for _t, code, _i, _fp, value in _records(tmp_path / "rec")
             if code >= 0 or code == trace.STOPPED]
    # query 1, a stop marker in the place of "boom" (where a replay ends), then what was
    # buffered after it, and the marker the recorder adds when it stops
    assert [code for code, _value in kinds] == [2, trace.STOPPED, 2, trace.STOPPED]
    assert kinds[0][1] == ["SELECT %s", 1, {"rows": [1, 2]}]
    assert "encoding the outcome of fakedb.query failed" in kinds[1][1]
    assert "cannot make this one" in kinds[1][1]


def test_a_thread_that_never_sends_leaves_at_most_max_later_events_to_make(
        tmp_path: Path) -> None:
    deferred["on"] = True
    made.clear()
    session = begin_recording(tmp_path / "rec", {"kind": "code", "code": ""}, ["test"], None)
    try:
        longest = 0
        assert runtime.LOCAL.later is None  # the sessions before let go of theirs
        for i in range(3 * runtime.MAX_LATER):
            fakedb.query("FETCH", i)
            longest = max(longest, len(runtime.LOCAL.later or ()))
        made_before_the_end = len(made)
    finally:
        session.end(0)
    assert longest == runtime.MAX_LATER - 1
    assert made_before_the_end == 3 * runtime.MAX_LATER
    assert runtime.LOCAL.later is None  # the session's end let go of them


def _line(fragment: str) -> int:
    source = Path(__file__).read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if fragment in line and "_line(" not in line)


def test_a_signal_handler_interrupting_a_make_can_make_and_write_events(tmp_path: Path) -> None:
    """The handler runs on the thread that holds the lock events are made under."""
    deferred["on"] = True
    interrupted = {"sent": False, "handled": []}

    def handler(signum: int, frame: Any) -> None:
        interrupted["handled"].append(fakedb.query("SELECT %s", "from the handler"))
        runtime.settle()  # makes the one this thread was making, inside its making
        session.recorder.flush()  # type: ignore[union-attr]

    def signalling() -> Any:
        if not interrupted["sent"]:
            interrupted["sent"] = True
            os.kill(os.getpid(), signal.SIGUSR1)  # handled at the next bytecode, mid-make
        return "made"

    previous = signal.signal(signal.SIGUSR1, handler)
    faulthandler.dump_traceback_later(60, exit=True)  # a deadlock fails the run, loudly
    session = begin_recording(tmp_path / "rec", {"kind": "code", "code": ""}, ["test"], None)
    try:
        recorder = runtime.active()
        fakedb.query("SELECT %s", 1)
        assert isinstance(recorder, runtime.Recorder)
        recorder.later(QUERY, ("SELECT %s", 2), signalling)
        done = threading.Event()
        threading.Thread(target=lambda: (runtime.settle(), done.set()), daemon=True).start()
        runtime.settle()
        assert done.wait(10), "another thread could not make events"
    finally:
        session.end(0)
        signal.signal(signal.SIGUSR1, previous)
        faulthandler.cancel_dump_traceback_later()
    assert interrupted["handled"], "the signal was not handled"
    values = [e.value for e in read_events(tmp_path / "rec") if e.boundary == "fakedb.query"]
    assert "made" in values and len(values) == 3


def test_a_fork_while_another_thread_makes_an_event_leaves_the_child_free(
        tmp_path: Path) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with later.making():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert holding.wait(10)
    pid = os.fork()
    if pid == 0:  # the child: its parent's thread, which held the lock, is gone
        try:
            with later.making():
                os._exit(0 if runtime.LOCAL.later is None else 2)
        finally:
            os._exit(3)
    release.set()
    thread.join()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the child waited for a lock its parent's thread held")


def test_an_exception_while_events_are_made_for_a_write_loses_none_of_them(
        tmp_path: Path) -> None:
    deferred["on"] = True
    raised = {"once": False}

    def interrupted() -> Any:
        if not raised["once"]:
            raised["once"] = True
            raise KeyboardInterrupt  # what a signal handler raises in the middle of a make
        return "made on the second try"

    session = begin_recording(tmp_path / "rec", {"kind": "code", "code": ""}, ["test"], None)
    try:
        recorder = runtime.active()
        assert isinstance(recorder, runtime.Recorder)
        fakedb.query("SELECT %s", 1)
        recorder.later(QUERY, ("SELECT %s", 2), interrupted)
        with pytest.raises(KeyboardInterrupt):
            recorder.flush()
        fakedb.query("SELECT %s", 3)
    finally:
        session.end(0)
    values = [e.value for e in read_events(tmp_path / "rec") if e.boundary == "fakedb.query"]
    assert values[1] == "made on the second try" and len(values) == 3
