"""Recording and replaying part of a process: ``with retrace.recording(path):``.

For test suites (the pytest plugin) and for code that wants to capture one
request, one job, one test. The rest of the process is untouched: patches
are installed on entry and removed on exit.

Three things differ from recording a whole program: no sources are copied
into ``run/`` (a scoped replay runs the code as it is now), the hash seed cannot be
chosen for a running interpreter (so set iteration order is not part of a
scoped replay unless ``PYTHONHASHSEED`` was fixed for the process), and a
divergence raises :class:`retrace.errors.Divergence` (or
:class:`~retrace.errors.RecordingEnds`) in the thread that diverged instead of
ending the process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import layout
from .errors import UsageError
from .session import Session, begin_recording, begin_replay


def _raise(error: Exception) -> None:
    """Divergences propagate as exceptions in a scoped replay."""


@contextmanager
def recording(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Session]:
    """Record every boundary call made inside the block into ``path``."""
    directory = Path(path).expanduser().resolve()
    seed = os.environ.get("PYTHONHASHSEED")
    main = {"kind": "scope", "name": _caller()}
    session = begin_recording(directory, main, list(sys.argv), seed, overwrite=overwrite,
                              snapshot=False)
    status = 0
    try:
        yield session
    except BaseException:
        status = 1
        raise
    finally:
        session.end(status)


@contextmanager
def replaying(
    path: str | os.PathLike[str], on_divergence: Callable[[Exception], None] = _raise
) -> Iterator[Session]:
    """Answer every boundary call made inside the block from the recording at ``path``.

    ``on_divergence`` sees every divergence before it is raised, so a caller
    learns of one even when the code in the block catches it (the pytest
    plugin's ``new_episodes`` mode records the test again then).
    """
    directory = layout.locate(path)
    session = begin_replay(directory, on_divergence=on_divergence)
    if session.header.get("main", {}).get("kind") != "scope":
        session.end(None)
        raise UsageError(f"{directory} records a whole program; replay it with `retrace replay`")
    try:
        yield session
    except BaseException:
        session.end(None, check=False)
        raise
    session.end(0)


def _caller() -> str:
    frame = sys._getframe(3)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
