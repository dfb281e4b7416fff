"""The pytest plugin, driven through pytester: record on the first run, replay on later runs."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CLOCK_TEST = textwrap.dedent(
    """
    import os, time
    import pytest
    from retrace.runtime import in_flight

    def _log(value):
        # The harness's own channel: outside retrace, so replay writes it too.
        with in_flight(), open(os.path.join(os.path.dirname(__file__), "seen.txt"), "a") as out:
            out.write(repr(value) + "\\n")

    @pytest.mark.retrace
    def test_clock():
        _log(time.time())

    def test_unmarked():
        _log(("unmarked", time.time()))
    """
)


QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process pytest run without the plugins that only cost time here."""
    return pytester.runpytest(*QUIET, *args)


def _seen(pytester: pytest.Pytester) -> list[str]:
    return (pytester.path / "seen.txt").read_text().splitlines()


def _recording(pytester: pytest.Pytester, module: str, test: str) -> Path:
    return pytester.path / "recordings" / module / test


def test_a_marked_test_records_once_then_replays(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST)
    _run(pytester).assert_outcomes(passed=2)
    rec = _recording(pytester, "test_retraced_clock", "test_clock")
    assert (rec / "trace.bin").is_file()
    assert not _recording(pytester, "test_retraced_clock", "test_unmarked").exists()
    _run(pytester).assert_outcomes(passed=2)
    first_marked, first_unmarked, second_marked, second_unmarked = _seen(pytester)
    assert first_marked == second_marked  # replayed: the recorded clock
    assert first_unmarked != second_unmarked  # not recorded: the real clock


def test_retrace_option_covers_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST)
    _run(pytester, "--retrace").assert_outcomes(passed=2)
    assert (_recording(pytester, "test_retraced_clock", "test_unmarked") / "trace.bin").is_file()
    _run(pytester, "--retrace").assert_outcomes(passed=2)
    lines = _seen(pytester)
    assert lines[:2] == lines[2:]


def test_mode_all_records_again_and_none_needs_a_recording(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST)
    result = _run(pytester, "--retrace-mode=none", "-k", "not unmarked")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*no recording for this test at*recordings/test_retraced_clock/test_clock*"])
    _run(pytester, "-k", "not unmarked").assert_outcomes(passed=1, deselected=1)
    _run(pytester, "--retrace-mode=all", "-k", "not unmarked").assert_outcomes(passed=1,
                                                                                 deselected=1)
    _run(pytester, "--retrace-mode=none", "-k", "not unmarked").assert_outcomes(passed=1,
                                                                                  deselected=1)
    recorded, rerecorded, replayed = _seen(pytester)
    assert recorded != rerecorded
    assert replayed == rerecorded


def test_rewrite_drops_recordings_of_tests_that_are_gone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST)
    _run(pytester, "--retrace").assert_outcomes(passed=2)
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST.replace("def test_unmarked", "def test_renamed"))
    _run(pytester, "--retrace", "--retrace-mode=rewrite").assert_outcomes(passed=2)
    module = pytester.path / "recordings" / "test_retraced_clock"
    assert sorted(p.name for p in module.iterdir()) == ["test_clock", "test_renamed"]


def test_a_divergence_fails_the_test_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST)
    _run(pytester, "-k", "not unmarked").assert_outcomes(passed=1, deselected=1)
    pytester.makepyfile(test_retraced_clock=CLOCK_TEST.replace("_log(time.time())", "_log(time.monotonic())"))
    result = _run(pytester, "-k", "not unmarked")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*replay diverged at event #*", "*boundary:  time.time*",
                                 "*boundary:  time.monotonic*"])


def test_a_failing_test_keeps_no_recording(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retraced_fails="import time, pytest\n@pytest.mark.retrace\n"
                                   "def test_it():\n    assert time.time() < 0\n")
    _run(pytester).assert_outcomes(failed=1)
    assert not _recording(pytester, "test_retraced_fails", "test_it").exists()


def test_block_network_fails_a_replayed_test_that_connects(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the sockets adapter the attempt itself would be replayed from the
    # recording; without it, it is a real connection the plugin must stop.
    monkeypatch.setenv("RETRACE_DISABLE_ADAPTERS", "sockets")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makepyfile(test_retraced_net=textwrap.dedent(
        f"""
        import socket, time
        import pytest

        @pytest.mark.retrace
        def test_calls_out():
            time.time()
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
            except OSError:
                pass  # the code under test swallows errors; the plugin still notices
        """
    ))
    _run(pytester).assert_outcomes(passed=1)
    _run(pytester).assert_outcomes(passed=1)
    result = _run(pytester, "--retrace-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*tried to connect to 127.0.0.1:{port} during replay*"])
    assert socket.socket.connect.__name__ == "connect"  # restored after the test


def test_parallel_workers_record_side_by_side(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    tests = "\n".join(
        f"@pytest.mark.retrace\ndef test_{i}():\n    _log(({i}, time.time()))\n" for i in range(6)
    )
    pytester.makepyfile(test_retraced_many=CLOCK_TEST.split("@pytest.mark.retrace")[0] + tests)
    pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=6)
    module = pytester.path / "recordings" / "test_retraced_many"
    assert sorted(p.name for p in module.iterdir()) == [f"test_{i}" for i in range(6)]
    pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=6)
    lines = _seen(pytester)
    assert sorted(lines[:6]) == sorted(lines[6:])


def test_a_failed_assert_in_a_replay_shows_the_assertion_not_a_divergence(
    pytester: pytest.Pytester,
) -> None:
    # pytest's explanation of a failed assert reads os.environ inside the test's call.
    test = "import time, pytest\n@pytest.mark.retrace\ndef test_it():\n    assert str(time.time()) {} ''\n"
    pytester.makepyfile(test_retraced_assert=test.format("!="))
    _run(pytester).assert_outcomes(passed=1)
    pytester.makepyfile(test_retraced_assert=test.format("=="))
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E*AssertionError: assert '1*' == ''"])
    assert "diverged" not in result.stdout.str()
