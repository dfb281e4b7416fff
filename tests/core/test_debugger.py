"""A replay under pdb: the debugger's own boundary calls run for real and take no events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from retrace.session import read_header
from retrace.testing import record

APP = "import time\n\nstamp = time.time()\nprint('stamp', repr(stamp))\n"


def test_pdb_console_reads_the_real_clock_and_the_replay_goes_on(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(APP)
    rec = tmp_path / "rec"
    recorded = record(program, rec, cwd=tmp_path)
    stamp = recorded.stdout.split()[1]
    seed = read_header(rec)["hash_seed"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env.update(PYTHONHASHSEED=seed, RETRACE_HASHSEED_SET="1")
    commands = f"b {rec.resolve() / 'run' / 'app.py'}:4\nc\np stamp\np time.time()\nc\n"
    # `replay ..`, not `--recording ..`: Python 3.13's pdb reads options after -m MODULE as its own
    done = subprocess.run([sys.executable, "-m", "pdb", "-m", "retrace", "replay", ".."],
                          input=commands, capture_output=True, text=True, env=env,
                          cwd=rec / "run", timeout=60)
    out = done.stdout
    assert "diverged" not in out + done.stderr, out + done.stderr
    printed = [line for line in out.splitlines() if line.startswith("(Pdb) ")]
    values = [line.removeprefix("(Pdb) ") for line in printed if line[6:7].isdigit()]
    assert values[0] == stamp  # the recorded value, at the breakpoint
    assert float(values[1]) > float(stamp)  # the console's own clock read was real
    assert f"stamp {stamp}" in out  # and the program went on with its recorded events
    assert "The program exited via sys.exit(). Exit status: 0" in out
