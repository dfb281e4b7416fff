"""VS Code files for every recording: open ``replay.code-workspace``, press F5, debug the replay.

Two ways into a recording are covered, because users take both:

- ``code DIR/replay.code-workspace`` opens ``run/`` (the recorded sources,
  where breakpoints belong) and carries its own launch configuration;
- ``code DIR`` opens the recording folder, and ``DIR/.vscode/launch.json``
  holds the same configuration.

Both run ``python -m retrace --recording ..`` from ``run/`` under debugpy,
and both offer a second configuration, *time travel*, which debugs through
``retrace dap`` (started by a background task in ``tasks.json`` or the
workspace's ``tasks``) and can step backwards.
Two details make that work under a debugger:

- the recorded hash seed is passed in ``env``, so the replay does not have to
  re-execute the interpreter to set it (a re-exec would leave the debugger
  attached to a process that is gone);
- ``justMyCode`` hides the standard library and site-packages, and debugpy
  ``rules`` mark retrace as library code too: the ``retrace`` modules by
  name, and retrace's folders by path (``python -m retrace`` runs as
  ``__main__``, which no module rule matches; an editable install's folders
  are not in site-packages). The paths are this machine's; on another machine
  they match nothing and the module rule still applies.

The files are written when the recording starts, so a process that is
killed still leaves a recording that opens in VS Code; they are owner-only
like the rest of the recording. Scoped recordings (``retrace.recording()``)
are parts of a test, not programs, and get no files.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrace.hashseed import MARKER
from retrace.hookspecs import hookimpl
from retrace.layout import RUN

if TYPE_CHECKING:
    from retrace.session import Session

WORKSPACE = "replay.code-workspace"
LAUNCH = Path(".vscode") / "launch.json"
TASKS = Path(".vscode") / "tasks.json"
CONFIGURATION_NAME = "retrace: replay this recording"
TIME_TRAVEL_NAME = "retrace: time travel (step back)"
TIME_TRAVEL_TASK = "retrace: time-travel server"


def configuration(header: dict[str, Any], cwd: str) -> dict[str, Any]:
    """The debugpy launch configuration that replays a recording from ``run/``.

    ``cwd`` is ``run/`` as VS Code spells it in the file at hand.
    """
    env = {}
    seed = header.get("hash_seed")
    if seed:
        env = {"PYTHONHASHSEED": str(seed), MARKER: "1"}
    return {
        "name": CONFIGURATION_NAME,
        "type": "debugpy",
        "request": "launch",
        "module": "retrace",
        "args": ["--recording", ".."],
        "cwd": cwd,
        "env": env,
        "console": "integratedTerminal",
        "justMyCode": True,
        "rules": [{"module": "retrace", "include": False}, *_own_folders()],
    }


def _own_folders() -> list[dict[str, Any]]:
    import retrace
    import retrace.adapters
    import retrace.plugins

    folders = sorted({str(Path(m.__file__ or "").resolve().parent)
                      for m in (retrace, retrace.adapters, retrace.plugins)})
    return [{"path": os.path.join(folder, "**"), "include": False} for folder in folders]


def dap_port(directory: Path) -> int:
    """The port of a recording's time-travel server: fixed per recording, rarely shared."""
    return 20000 + zlib.crc32(str(directory).encode()) % 20000


def time_travel_configuration(directory: Path, cwd: str) -> dict[str, Any]:
    """The launch configuration that debugs with ``retrace dap``, which can step back.

    VS Code connects to the adapter's port (``debugServer``, which takes
    precedence over the adapter of ``type``) once the task
    :data:`TIME_TRAVEL_TASK` has started the server. ``module`` is there for
    the Python extension's checks of a debugpy configuration; the adapter
    does not read it.
    """
    return {
        "name": TIME_TRAVEL_NAME,
        "type": "debugpy",
        "request": "launch",
        "module": "retrace",
        "debugServer": dap_port(directory),
        "preLaunchTask": TIME_TRAVEL_TASK,
        "recording": str(directory),
        "cwd": cwd,
    }


def tasks(directory: Path) -> dict[str, Any]:
    """The background task that starts ``retrace dap`` for one session, ready when it listens."""
    ready = "^retrace dap: listening on"
    return {
        "version": "2.0.0",
        "tasks": [{
            "label": TIME_TRAVEL_TASK,
            "type": "process",
            "command": sys.executable,
            "args": ["-m", "retrace", "dap", "--port", str(dap_port(directory)), str(directory)],
            "isBackground": True,
            "problemMatcher": {
                "owner": "retrace",
                "pattern": {"regexp": "^retrace dap: error: (.*)$", "message": 1},
                "background": {"activeBegins": True, "beginsPattern": ready, "endsPattern": ready},
            },
        }],
    }


def workspace(header: dict[str, Any], directory: Path) -> dict[str, Any]:
    """``replay.code-workspace``: the ``run/`` folder and the replay configurations."""
    cwd = "${workspaceFolder:" + RUN + "}"
    return {
        "folders": [{"path": RUN, "name": RUN}],
        "settings": {"python.defaultInterpreterPath": sys.executable},
        "launch": {
            "version": "0.2.0",
            "configurations": [configuration(header, cwd),
                               time_travel_configuration(directory, cwd)],
        },
        "tasks": tasks(directory),
    }


def launch(header: dict[str, Any], directory: Path) -> dict[str, Any]:
    """``.vscode/launch.json`` for the recording folder opened as is."""
    cwd = "${workspaceFolder}/" + RUN
    return {
        "version": "0.2.0",
        "configurations": [configuration(header, cwd), time_travel_configuration(directory, cwd)],
    }


def _write_private(path: Path, data: dict[str, Any]) -> None:
    import json  # a replay, which writes none of these files, does not import it

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.chmod(path, 0o600)


def write_files(directory: Path, header: dict[str, Any]) -> None:
    """Write the workspace, launch and task files into the recording ``directory``."""
    _write_private(directory / WORKSPACE, workspace(header, directory))
    _write_private(directory / LAUNCH, launch(header, directory))
    _write_private(directory / TASKS, tasks(directory))


@hookimpl
def retrace_session_start(session: Session) -> None:
    if not session.recording or session.header.get("main", {}).get("kind") == "scope":
        return
    if "process" in session.header:  # a child process: the program's files stand for the recording
        return
    try:
        write_files(session.directory, session.header)
    except OSError as exc:
        from retrace.session import warn

        warn(f"could not write the VS Code files into {session.directory}: {exc.strerror or exc}")
