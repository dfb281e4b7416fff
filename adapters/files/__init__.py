"""Files: reads of the program's data files, their metadata, and changes to the filesystem.

Reads are boundaries (``open()`` in every mode, so ``pathlib``'s
``read_text``/``read_bytes``/``open`` too; ``os.stat``/``lstat``, hence
``os.path.exists/isfile/isdir/getsize/getmtime`` and ``Path.exists``;
``os.listdir``, ``os.scandir``, hence ``os.walk`` and ``Path.glob``;
``glob.glob``/``iglob``; ``os.readlink``; ``os.path.realpath``, hence
``Path.resolve``; ``os.access``, hence ``shutil.which``). Contents go to the recording's
content-addressed ``blobs/``. Changes (``os.remove``, ``rename``,
``mkdir``, ``makedirs``, ``chmod``..., ``shutil`` copies, moves and
``rmtree``, ``Path.touch``) are boundaries too, and so is ``os.open`` of a
data file (its descriptor replays as an in-memory file): on replay they do not touch
the disk and return what they returned. A file the program writes is, on
replay, written to memory; reading it back later is a read like any other,
answered from the trace. docs/adapters/files.md has every decision.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from retrace import Adapter, Patch
from retrace.errors import BadRecording
from retrace.hookspecs import hookimpl

from . import descriptors, state, tempnames, workdir
from .blobs import BlobStore
from .boundaries import (
    ACCESS,
    CHANGES,
    LISTDIR,
    LSTAT,
    OS_CHANGES,
    READLINK,
    REALPATH,
    SHUTIL_CHANGES,
    STAT,
    TOUCH,
)
from .policy import FilePolicy, project_globs
from .wrappers import glob_wrapper, open_wrapper, paths_wrapper, scandir_wrapper, touch_wrapper

_getcwd = os.getcwd


class FilesAdapter(Adapter):
    name = "files"
    modules = ("os", "posixpath", "genericpath", "pathlib", "shutil", "glob", "io")

    def patches(self) -> list[Patch]:
        found = [
            Patch("builtins", "open", wrapper=open_wrapper),
            Patch("os", "stat", wrapper=paths_wrapper(STAT, 1)),
            Patch("os", "lstat", wrapper=paths_wrapper(LSTAT, 1)),
            Patch("os", "listdir", wrapper=paths_wrapper(LISTDIR, 1, default=".")),
            Patch("os", "scandir", wrapper=scandir_wrapper),
            Patch("os", "readlink", wrapper=paths_wrapper(READLINK, 1)),
            Patch("os", "access", wrapper=paths_wrapper(ACCESS, 1, options=("mode",
                                                                              "effective_ids"))),
            Patch("posixpath", "realpath", wrapper=paths_wrapper(REALPATH, 1)),
            Patch("glob", "glob", wrapper=glob_wrapper(lazy=False)),
            Patch("glob", "iglob", wrapper=glob_wrapper(lazy=True)),
            Patch("pathlib", "Path.touch", wrapper=touch_wrapper),
            Patch("os", "open", wrapper=tempnames.reusing_files(descriptors.open_wrapper)),
            Patch("os", "fstat", wrapper=descriptors.fstat_wrapper),
            Patch("os", "close", wrapper=descriptors.close_wrapper),
            Patch("os", "getcwd", wrapper=workdir.getcwd_wrapper),
            Patch("os", "getcwdb", wrapper=workdir.getcwdb_wrapper),
            Patch("os", "chdir", wrapper=workdir.chdir_wrapper),
        ]
        found += [Patch("os", name, wrapper=paths_wrapper(CHANGES[f"os.{name}"], count))
                  for name, count in OS_CHANGES if hasattr(os, name) and name != "mkdir"]
        found.append(Patch("os", "mkdir", wrapper=tempnames.reusing_directories(
            paths_wrapper(CHANGES["os.mkdir"], 1))))
        found += [Patch("shutil", name, wrapper=paths_wrapper(CHANGES[f"shutil.{name}"], count))
                  for name, count in SHUTIL_CHANGES]
        return found + self._private_references()

    def _private_references(self) -> list[Patch]:
        """Class attributes that took their own reference to an ``os`` function at import.

        On 3.10 ``pathlib`` reaches the filesystem through ``_NormalAccessor``;
        on 3.13 ``Path.glob`` lists folders through ``glob._StringGlobber.scandir``.
        """
        if sys.version_info >= (3, 13):
            return [Patch("glob", "_StringGlobber.scandir", wrapper=scandir_wrapper)]
        if sys.version_info >= (3, 11):
            return []
        accessor = {"stat": paths_wrapper(STAT, 1), "open": open_wrapper,
                    "listdir": paths_wrapper(LISTDIR, 1), "scandir": scandir_wrapper,
                    "readlink": paths_wrapper(READLINK, 1), "realpath": paths_wrapper(REALPATH, 1),
                    "touch": paths_wrapper(TOUCH, 1), "getcwd": workdir.getcwd_wrapper}
        accessor.update({name: paths_wrapper(CHANGES[f"os.{name}"], count)
                         for name, count in OS_CHANGES
                         if name in ("chmod", "mkdir", "unlink", "link", "rmdir", "rename",
                                     "replace", "symlink")})
        return [Patch("pathlib", f"_NormalAccessor.{name}", wrapper=wrapper)
                for name, wrapper in accessor.items()]

    @hookimpl
    def retrace_recording_header(self, header: dict[str, Any]) -> None:
        """The globs decide which paths are events, so replay must use the recorded ones
        (the pyproject.toml they came from need not exist where the replay runs)."""
        include, exclude = project_globs(_getcwd())
        header["files"] = {"include": include, "exclude": exclude}

    def start(self, session: Any) -> None:
        cwd = _getcwd()
        run_dir = recorded_cwd = None
        if session.mode == "replay":
            run_dir = os.path.realpath(session.directory / "run")
            recorded_cwd = session.header.get("cwd")
            if cwd == run_dir or cwd.startswith(run_dir + os.sep):
                cwd = recorded_cwd or cwd
        include, exclude = (_recorded_globs(session.header.get("files"), session.directory)
                            or project_globs(cwd))
        policy = FilePolicy(Path(session.directory), include, exclude, run_dir, recorded_cwd)
        state.current = state.FilesState(policy, BlobStore(Path(session.directory)), session)

    def stop(self, session: Any) -> None:
        state.current = None


def _recorded_globs(recorded: Any, directory: Path) -> tuple[list[str], list[str]] | None:
    """The globs a recording's header holds (recordings made before they did hold none)."""
    if not isinstance(recorded, dict):
        return None
    globs = recorded.get("include"), recorded.get("exclude")
    if not all(isinstance(g, list) and all(isinstance(p, str) for p in g) for g in globs):
        raise BadRecording(f"{directory}: the header's 'files' globs are malformed; "
                           "record the program again")
    return list(globs[0]), list(globs[1])  # type: ignore[arg-type]


adapter = FilesAdapter()
