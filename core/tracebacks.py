"""The part of a printed traceback that a replay reproduces: the program's frames and messages.

A library's error reaches a replayed program as the adapter rebuilds it at
the boundary: the frames *below* the boundary (urllib3 opening a socket,
psycopg reading a result) never run, and the exceptions a library chained
inside itself (``ConnectionRefusedError`` caused ``NewConnectionError``
caused ``MaxRetryError``) are not there. A crash printed on replay therefore
has the same program frames, the same final exception and the same message,
but fewer library lines, and program files named by their copies in
``run/``. Output verification compares a traceback by the view computed
here (program frames under their recorded names, and the messages), so the
crash the user is chasing replays instead of stopping at its own traceback
as an output divergence; the text printed is still the whole traceback.
"""

from __future__ import annotations

import os
import re

from .snapshot import is_program_file

HEADER = "Traceback (most recent call last):"
_path_map: tuple[str, str] | None = None


def show_paths_as(replay_root: str, recorded_root: str) -> None:
    """On replay, name files under ``replay_root`` (run/) as under ``recorded_root``."""
    global _path_map
    _path_map = (replay_root.rstrip(os.sep) + os.sep, recorded_root.rstrip(os.sep) + os.sep)


def recorded_name(filename: str) -> str:
    """The name a program file had when recorded (its copy in run/ runs on replay)."""
    if _path_map is not None and filename.startswith(_path_map[0]):
        return _path_map[1] + filename[len(_path_map[0]):]
    return filename


_CHAINS = re.compile(
    r"\n(?:The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)\n\n"
)
_FRAME = re.compile(r'^[\s|+]*File "([^"]+)", line \d+')


def program_view(text: str) -> str:
    """``text`` with library frames and library-only chained exceptions left out.

    Each chained part keeps its unindented lines (the header and the
    exception's message) and the ``File`` lines of program files; a part
    with no program frame is dropped unless it is the last one, the
    exception the program saw.
    """
    head, _, rest = text.partition(HEADER)
    parts = _CHAINS.split(HEADER + rest)
    kept = []
    for number, part in enumerate(parts, 1):
        lines = []
        program = False
        for line in part.splitlines():
            frame = _FRAME.match(line)
            if frame is not None:
                name = recorded_name(frame.group(1))
                if is_program_file(name):
                    lines.append(line.strip().replace(frame.group(1), name, 1))
                    program = True
            elif line and not line[0].isspace():
                lines.append(line)
        if program or number == len(parts):
            kept.append("\n".join(lines))
    return head + "\n".join(kept)
