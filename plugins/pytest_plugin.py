"""The pytest plugin: record a test's boundary calls once, replay them on every later run.

Mark a test with ``@pytest.mark.retrace`` (or pass ``--retrace`` for every
test). Its recording lives next to the test, in
``<tests dir>/recordings/<module>/<test>/``, so it is committed with the
test and each test (and each pytest-xdist worker) writes only its own
directory. ``--retrace-mode`` chooses what happens:

- ``once`` (default): replay the recording if there is one, else record;
- ``none``: replay only; a missing recording fails the test;
- ``all``: record again, replacing the recording;
- ``rewrite``: like ``all``, and at the end delete the recordings of tests
  that no longer exist in the modules that ran (skipped under xdist, where
  no process sees every test);
- ``new_episodes``: replay the recording while the test's calls match it;
  if the test goes past its end, calls something else, or leaves part of it
  unused, run the test again in record mode and let that recording replace
  the old one (see :func:`_new_episodes` for why it cannot be spliced).

A recording is kept only when the test passed, so the next run records
again instead of replaying a broken interaction. Only the test function's
call is recorded (the ``pytest_runtest_call``
phase, innermost of all wrappers): fixtures run for real, and pytest's own
clock reads are never part of a recording. A divergence fails the test with
the divergence report. ``--retrace-block-network`` makes any real connection
attempt during a replay fail the test with the host and port it tried.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from retrace import layout
from retrace.runtime import in_flight
from retrace.scoped import recording, replaying

MODES = ("once", "new_episodes", "none", "all", "rewrite")
RECORDINGS = "recordings"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("retrace", "record and replay boundary calls (retrace)")
    group.addoption("--retrace", action="store_true",
                    help="record/replay every test, not only those marked retrace")
    group.addoption("--retrace-mode", choices=MODES, default="once",
                    help="once (default): replay if recorded, else record; none: replay only; "
                         "new_episodes: replay, and record again when the test calls beyond "
                         "or past its recording; all: re-record; "
                         "rewrite: re-record and delete unused recordings")
    group.addoption("--retrace-block-network", action="store_true",
                    help="fail a replayed test that tries to open a real connection")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "retrace: record this test's boundary calls once, "
                                       "then replay them (see --retrace-mode)")
    config.stash[_STATE] = _State()


class _State:
    """What this pytest process recorded, and every test it collected."""

    def __init__(self) -> None:
        self.collected: set[Path] = set()
        self.recorded_modules: set[Path] = set()
        self.extended: list[tuple[str, str]] = []


_STATE = pytest.StashKey[_State]()


def recording_dir(item: pytest.Item) -> Path:
    """``<tests dir>/recordings/<module>/<test>/`` for ``item``."""
    parts = item.nodeid.split("::")[1:]
    name = _UNSAFE.sub("_", ".".join(parts)) or "test"
    return item.path.parent / RECORDINGS / item.path.stem / name


def _wanted(item: pytest.Item) -> bool:
    return bool(item.config.getoption("retrace")) or item.get_closest_marker("retrace") is not None


def pytest_itemcollected(item: pytest.Item) -> None:
    if _wanted(item):
        item.config.stash[_STATE].collected.add(recording_dir(item))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if not _wanted(item):
        return (yield)
    with _explanations_unrecorded():
        return (yield from _retraced_call(item))


def _retraced_call(item: pytest.Item) -> Generator[None, None, None]:
    config = item.config
    mode = config.getoption("retrace_mode")
    directory = recording_dir(item)
    exists = layout.holds_recording(directory)
    if mode == "none" and not exists:
        pytest.fail(f"retrace: no recording for this test at {directory} "
                    "(--retrace-mode=none replays only; record with --retrace-mode=once)",
                    pytrace=False)
    if (mode == "once" and exists) or mode == "none":
        blocked: list[str] = []
        with _guard(config, blocked), replaying(directory):
            outcome = yield
        _check_blocked(blocked)
        return outcome
    if mode == "new_episodes" and exists:
        return (yield from _new_episodes(item, directory))
    config.stash[_STATE].recorded_modules.add(directory.parent)
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        with recording(directory, overwrite=True):
            return (yield)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # keep only what a passing test did
        raise


def _new_episodes(item: pytest.Item, directory: Path) -> Generator[None, None, None]:
    """Replay; on the first mismatch, record the whole test again and replace the recording.

    A trace is one sequence of events, each answered in turn, so new calls
    cannot be appended after the old ones the way vcrpy adds new episodes to
    a cassette of independent request/response pairs. Nor can a replay turn
    into a recording halfway: the replayed calls never reached the world,
    so at the switch the program would hold connections that were never
    opened, and the services would lack the rows, keys and requests the
    replayed prefix claimed to have made. So the test runs again, from its
    first line, against the real services; that recording holds the old
    calls and the new ones, and replaces the old recording if the test
    passes. A mismatch is noticed even when the test catches the divergence
    (``on_divergence``), and a recording the test no longer uses to the end
    counts as one, so the suite replays exactly afterwards (``--retrace-mode=none``).
    """
    mismatches: list[Exception] = []
    blocked: list[str] = []
    try:
        with _guard(item.config, blocked), replaying(directory, on_divergence=mismatches.append):
            outcome = yield
    except KeyboardInterrupt:
        raise
    except BaseException:
        if not mismatches:
            raise  # the test failed on replayed answers: a failure, not a new episode
    else:
        if not mismatches:
            _check_blocked(blocked)
            return outcome
    fresh = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        with recording(fresh, overwrite=True):
            item.runtest()
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)  # the old recording stays
        raise
    shutil.rmtree(directory)
    os.replace(fresh, directory)
    item.config.stash[_STATE].extended.append((item.nodeid, _reason(mismatches[0])))
    return None


def _reason(error: Exception) -> str:
    """One line for the summary: where the replay stopped matching, and the report's hint."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    head = lines[0].removeprefix("retrace: ")
    hint = next((line.removeprefix("hint: ") for line in lines if line.startswith("hint: ")), "")
    gist = re.split(r"[.:] ", hint, maxsplit=1)[0]
    return f"{head}: {gist}" if gist else head


def _guard(config: pytest.Config, blocked: list[str]) -> AbstractContextManager[None]:
    return _block_network(blocked) if config.getoption("retrace_block_network") else nullcontext()


def _check_blocked(blocked: list[str]) -> None:
    if blocked:
        pytest.fail("retrace: --retrace-block-network: the test tried to connect to "
                    f"{', '.join(blocked)} during replay", pytrace=False)


@contextmanager
def _explanations_unrecorded() -> Iterator[None]:
    """pytest's explanation of a failed ``assert`` is not one of the test's boundary calls.

    It runs inside the test's call (and reads ``os.environ``, for one): in a
    replay it would take the test's next event, and the user would see a
    divergence instead of their assertion's diff. pytest has no public hook
    around it; ``_reprcompare`` is the function its rewritten asserts call,
    set for each test by pytest's assertion plugin.
    """
    try:
        from _pytest.assertion import util
    except ImportError:  # a pytest that moved it: explanations run as the test's own calls
        yield
        return
    original = getattr(util, "_reprcompare", None)
    if original is None:
        yield
        return

    def explain(op: str, left: object, right: object) -> str | None:
        with in_flight():
            return original(op, left, right)

    util._reprcompare = explain
    try:
        yield
    finally:
        util._reprcompare = original


class NetworkBlocked(ConnectionRefusedError):
    """A replayed test tried to open a real connection."""


@contextmanager
def _block_network(attempts: list[str]) -> Iterator[None]:
    """Refuse every ``socket.connect``/``connect_ex`` while the block runs."""
    originals = socket.socket.connect, socket.socket.connect_ex

    def refuse(sock: socket.socket, address: Any) -> Any:
        where = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
        attempts.append(where)
        raise NetworkBlocked(f"retrace: --retrace-block-network refused a connection to {where}")

    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = originals  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if config.getoption("retrace_mode") != "rewrite" or hasattr(config, "workerinput"):
        return
    state = config.stash[_STATE]
    for module_dir in state.recorded_modules:
        for stale in module_dir.iterdir():
            if stale.is_dir() and stale not in state.collected and layout.holds_recording(stale):
                shutil.rmtree(stale)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    extended = terminalreporter.config.stash[_STATE].extended
    if not extended:
        return
    terminalreporter.write_sep("-", f"retrace: {len(extended)} recording(s) recorded again "
                                     "(--retrace-mode=new_episodes)")
    for nodeid, reason in extended:
        terminalreporter.write_line(f"{nodeid}: {reason}")
