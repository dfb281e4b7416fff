"""The recording directory: where it is, what is in it, and who may read it.

::

    DIR/trace.bin     the CBOR stream
    DIR/run/          the program's own source files as executed
    DIR/processes/    a trace per recorded child process (see retrace.processes)

Everything is created owner-only (0700 directories, 0600 files). An existing
recording is never overwritten unless asked, so no run silently destroys an
earlier one.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import BadRecording, UsageError

TRACE = "trace.bin"
RUN = "run"


def trace_path(directory: Path) -> Path:
    return directory / TRACE


def run_path(directory: Path) -> Path:
    return directory / RUN


def holds_recording(directory: Path) -> bool:
    return trace_path(directory).exists()


def create(directory: Path, overwrite: bool = False) -> None:
    """Make a fresh recording directory (owner-only); refuse to clobber one."""
    if holds_recording(directory):
        if not overwrite:
            raise UsageError(
                f"{directory} already holds a recording; choose another directory with -o, "
                "or pass --overwrite to replace it"
            )
        trace_path(directory).unlink()
        import shutil

        shutil.rmtree(run_path(directory), ignore_errors=True)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    run_path(directory).mkdir(mode=0o700, exist_ok=True)


def free_sibling(directory: Path) -> Path:
    """``directory`` itself if it holds no recording, else the first free ``directory-N``."""
    if not holds_recording(directory):
        return directory
    n = 2
    while holds_recording(directory.with_name(f"{directory.name}-{n}")):
        n += 1
    return directory.with_name(f"{directory.name}-{n}")


def locate(path: str | os.PathLike[str]) -> Path:
    """The recording directory named by a user, checked to exist."""
    directory = Path(path).expanduser().resolve()
    if directory.is_file() and directory.name == TRACE:
        directory = directory.parent
    if not directory.exists():
        raise BadRecording(f"{directory}: no such recording directory")
    if not holds_recording(directory):
        raise BadRecording(
            f"{directory}: not a recording (no {TRACE}); record one with `retrace record`"
        )
    return directory
