"""``--retrace-mode=new_episodes`` against a real HTTP server on 127.0.0.1.

The server runs in a process of its own and logs every request it serves,
so each test can say exactly which requests reached the network: none while
a recording is replayed, all of them (old and new) when the test is recorded
again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

pytest.importorskip("requests")
pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")
HERE = Path(__file__).parent


@attrs.define
class HitServer:
    process: subprocess.Popen[str]
    port: int
    log: Path

    def hits(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HitServer]:
    log = tmp_path / "hits.log"
    process = subprocess.Popen([sys.executable, str(HERE / "hitserver.py"), str(log)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    running = HitServer(process, int(process.stdout.readline()), log)
    try:
        yield running
    finally:
        if process.poll() is None:
            running.stop()


def _module(port: int, body: str) -> str:
    """A test module whose one marked test runs ``body`` with ``get(name)`` at hand."""
    return textwrap.dedent(
        """
        import os
        import pytest
        import requests
        from retrace.runtime import in_flight

        def get(name):
            text = requests.get("http://127.0.0.1:{port}/" + name, timeout=5).text
            # The harness's own channel: outside retrace, so replay writes it too.
            with in_flight(), open(os.path.join(os.path.dirname(__file__), "seen.txt"), "a") as out:
                out.write(text + "\\n")
            return text

        @pytest.mark.retrace
        def test_api():
        {body}
        """
    ).format(port=port, body=textwrap.indent(textwrap.dedent(body).strip(), "    "))


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, *args)


def _seen(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "seen.txt"
    lines = path.read_text().splitlines()
    path.unlink()
    return lines


def _trace(pytester: pytest.Pytester) -> bytes:
    return (pytester.path / "recordings" / "test_api" / "test_api" / "trace.bin").read_bytes()


def test_new_calls_record_the_test_again_and_the_result_replays(
    pytester: pytest.Pytester, server: HitServer
) -> None:
    pytester.makepyfile(test_api=_module(server.port, 'get("users")'))
    _run(pytester).assert_outcomes(passed=1)
    assert server.hits() == ["users"]
    assert _seen(pytester) == ["users #1"]

    pytester.makepyfile(test_api=_module(server.port, 'get("users")\nget("orders")'))
    result = _run(pytester, "--retrace-mode=new_episodes")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*retrace: 1 recording(s) recorded again*",
        "test_api.py::test_api: replay diverged at event #*: the program made a call the recording*",
    ])
    # The replayed prefix answered from the recording; the test then ran again for real.
    assert _seen(pytester) == ["users #1", "users #2", "orders #3"]
    assert server.hits() == ["users", "users", "orders"]

    server.stop()
    _run(pytester, "--retrace-mode=none").assert_outcomes(passed=1)
    assert _seen(pytester) == ["users #2", "orders #3"]


def test_a_test_that_still_matches_replays_and_keeps_its_recording(
    pytester: pytest.Pytester, server: HitServer
) -> None:
    pytester.makepyfile(test_api=_module(server.port, 'get("users")'))
    _run(pytester).assert_outcomes(passed=1)
    recorded = _trace(pytester)
    result = _run(pytester, "--retrace-mode=new_episodes")
    result.assert_outcomes(passed=1)
    assert "recorded again" not in result.stdout.str()
    assert server.hits() == ["users"]
    assert _trace(pytester) == recorded
    assert _seen(pytester) == ["users #1", "users #1"]


def test_a_caught_divergence_and_an_unused_tail_both_record_again(
    pytester: pytest.Pytester, server: HitServer
) -> None:
    pytester.makepyfile(test_api=_module(server.port, 'get("users")\nget("orders")'))
    _run(pytester).assert_outcomes(passed=1)
    swallowing = """
        try:
            get("invoices")
        except Exception:
            pass  # the code under test hides the divergence; the plugin still sees it
    """
    pytester.makepyfile(test_api=_module(server.port, swallowing))
    _run(pytester, "--retrace-mode=new_episodes").assert_outcomes(passed=1)
    assert server.hits() == ["users", "orders", "invoices"]

    pytester.makepyfile(test_api=_module(server.port, "pass"))  # uses none of its recording
    result = _run(pytester, "--retrace-mode=new_episodes")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*: the program finished before using every recorded event"])
    server.stop()
    _run(pytester, "--retrace-mode=none").assert_outcomes(passed=1)


def test_failures_keep_the_old_recording(pytester: pytest.Pytester, server: HitServer) -> None:
    pytester.makepyfile(test_api=_module(server.port, 'get("users")'))
    _run(pytester).assert_outcomes(passed=1)
    recorded = _trace(pytester)

    # A test that fails on replayed answers fails; it is not a new episode.
    pytester.makepyfile(test_api=_module(server.port, 'assert get("users") == "nobody"'))
    _run(pytester, "--retrace-mode=new_episodes").assert_outcomes(failed=1)
    assert server.hits() == ["users"]

    # A test that needs recording again but fails when recorded keeps the old one too.
    pytester.makepyfile(test_api=_module(server.port, 'get("users")\nassert get("orders") == "x"'))
    _run(pytester, "--retrace-mode=new_episodes").assert_outcomes(failed=1)
    assert server.hits() == ["users", "users", "orders"]
    assert _trace(pytester) == recorded
    module = pytester.path / "recordings" / "test_api"
    assert [p.name for p in module.iterdir()] == ["test_api"]
