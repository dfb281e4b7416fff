"""Whether stdout/stderr is a terminal is answered from the recording."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from retrace.testing import _env, replay

COLOURS = textwrap.dedent(
    """
    import sys

    def paint(text, stream):
        return f"\\x1b[32m{text}\\x1b[0m" if stream.isatty() else text

    print(paint("stdout is a terminal?", sys.stdout), sys.stdout.isatty())
    print(paint("stderr is a terminal?", sys.stderr), sys.stderr.isatty(), file=sys.stderr)
    """
).lstrip()


def _record_on_a_terminal(program: Path, rec: Path) -> bytes:
    """``retrace record`` with stdout and stderr on a pseudo-terminal; what it printed."""
    main, other = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "retrace", "record", "-o", str(rec),
                               str(program)], stdin=subprocess.DEVNULL, stdout=other,
                              stderr=other, env=_env(None), cwd=program.parent, timeout=120)
        os.close(other)
        other = -1
        printed = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            printed += chunk
    finally:
        os.close(main)
        if other >= 0:
            os.close(other)
    assert done.returncode == 0, printed
    return printed


def test_recorded_on_a_terminal_replayed_through_a_pipe(tmp_path: Path) -> None:
    program = tmp_path / "colours.py"
    program.write_text(COLOURS)
    rec = tmp_path / "rec"
    printed = _record_on_a_terminal(program, rec)
    assert b"\x1b[32mstdout is a terminal?\x1b[0m True" in printed
    replayed = replay(rec)  # stdout and stderr are pipes now
    assert replayed.status == 0, replayed.stderr
    assert replayed.stdout == "\x1b[32mstdout is a terminal?\x1b[0m True\n"
    assert replayed.stderr == "\x1b[32mstderr is a terminal?\x1b[0m True\n"
