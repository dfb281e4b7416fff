"""``os.kill`` replays without signalling the recorded run's processes, and a self-signal runs its handler."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from retrace.testing import record, record_and_replay, replay

VICTIM = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGUSR1, lambda *a: print("signalled", flush=True))
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_replay_sends_no_signal_to_the_process_the_recording_signalled(tmp_path: Path) -> None:
    program = tmp_path / "notify.py"
    program.write_text(textwrap.dedent(
        """
        import os, signal
        os.kill(int(os.environ["VICTIM_PID"]), signal.SIGUSR1)
        try:
            os.killpg(999999999, signal.SIGTERM)
        except OSError as exc:
            print("killpg", type(exc).__name__)
        print("sent")
        """
    ))
    victim = subprocess.Popen([sys.executable, "-c", VICTIM], stdout=subprocess.PIPE, text=True)
    try:
        assert victim.stdout is not None
        assert victim.stdout.readline() == "ready\n"
        recorded = record(program, tmp_path / "rec", env={"VICTIM_PID": str(victim.pid)})
        assert recorded.stdout == "killpg ProcessLookupError\nsent\n", recorded.stderr
        assert victim.stdout.readline() == "signalled\n"
        replayed = replay(tmp_path / "rec")
        assert replayed.observable() == recorded.observable()
    finally:
        victim.send_signal(signal.SIGKILL)
    output, _ = victim.communicate()
    assert output == "", "the replay signalled the recorded run's process again"


def test_killing_a_child_by_pid_replays_after_it_is_gone(tmp_path: Path) -> None:
    program = tmp_path / "stop.py"
    program.write_text(textwrap.dedent(
        """
        import os, signal, subprocess
        child = subprocess.Popen(["sleep", "30"])
        os.kill(child.pid, signal.SIGTERM)
        print("status", child.wait())
        """
    ))
    recorded, replayed = record_and_replay(program, tmp_path / "rec")
    assert recorded.stdout == "status -15\n"
    assert replayed.observable() == recorded.observable()


def test_a_signal_sent_to_itself_runs_its_handler_on_replay(tmp_path: Path) -> None:
    program = tmp_path / "self.py"
    program.write_text(textwrap.dedent(
        """
        import os, signal
        signal.signal(signal.SIGUSR1, lambda s, f: print("handled", s))
        os.kill(os.getpid(), signal.SIGUSR1)
        print("after", os.getpid() > 0)
        """
    ))
    recorded, replayed = record_and_replay(program, tmp_path / "rec")
    assert recorded.stdout == "handled 10\nafter True\n"
    assert replayed.observable() == recorded.observable()
