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
- ``new_episodes`` is not supported yet: a trace is one sequence, and
  appending to it needs the core to switch from replay to record mid-run.

A recording is kept only when the test passed, so the next run records
again instead of replaying a broken interaction. Only the test function's
call is recorded (the ``pytest_runtest_call``
phase, innermost of all wrappers): fixtures run for real, and pytest's own
clock reads are never part of a recording. A divergence fails the test with
the divergence report. ``--retrace-block-network`` makes any real connection
attempt during a replay fail the test with the host and port it tried.
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Generator, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from retrace import layout
from retrace.scoped import recording, replaying

MODES = ("once", "new_episodes", "none", "all", "rewrite")
NOT_YET = {"new_episodes": "appending to a recording needs replay to switch to record mid-run"}
RECORDINGS = "recordings"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("retrace", "record and replay boundary calls (retrace)")
    group.addoption("--retrace", action="store_true",
                    help="record/replay every test, not only those marked retrace")
    group.addoption("--retrace-mode", choices=MODES, default="once",
                    help="once (default): replay if recorded, else record; none: replay only; "
                         "all: re-record; rewrite: re-record and delete unused recordings")
    group.addoption("--retrace-block-network", action="store_true",
                    help="fail a replayed test that tries to open a real connection")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "retrace: record this test's boundary calls once, "
                                       "then replay them (see --retrace-mode)")
    mode = config.getoption("retrace_mode")
    if mode in NOT_YET:
        raise pytest.UsageError(f"--retrace-mode={mode} is not supported yet: {NOT_YET[mode]}")
    config.stash[_STATE] = _State()


class _State:
    """What this pytest process recorded, and every test it collected."""

    def __init__(self) -> None:
        self.collected: set[Path] = set()
        self.recorded_modules: set[Path] = set()


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
        guard = _block_network(blocked) if config.getoption("retrace_block_network") else nullcontext()
        with guard, replaying(directory):
            outcome = yield
        if blocked:
            pytest.fail("retrace: --retrace-block-network: the test tried to connect to "
                        f"{', '.join(blocked)} during replay", pytrace=False)
        return outcome
    config.stash[_STATE].recorded_modules.add(directory.parent)
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        with recording(directory, overwrite=True):
            return (yield)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # keep only what a passing test did
        raise


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
