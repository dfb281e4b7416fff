"""The ``retrace`` command: record, replay, inspect, adapters.

Every error a user can cause ends here as one message and a documented exit
status (see :mod:`retrace.errors`); a traceback from retrace itself is a bug.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import SimpleNamespace

from . import __version__, hashseed
from .errors import EXIT_USAGE, Divergence, RetraceError, UsageError

TYPE_CHECKING = False  # the first process of `retrace record` imports only what it uses
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path
    from types import ModuleType

#: Subcommands that live in their own module, with ``NAME``, ``add_parser(sub)`` and ``run(options)``.
#: Imported only when the command line asks for one of them (or for help), so
#: that ``retrace record`` and ``retrace replay`` start fast.
TOOLS = ("doctor", "stats", "diff", "prune", "scan", "pack", "timetravel.command", "timetravel.dap")
RUNS_A_PROGRAM = ("record", "replay")


def _tools() -> dict[str, ModuleType]:
    modules = [importlib.import_module(f".{name}", __package__) for name in TOOLS]
    return {module.NAME: module for module in modules}


def _parser(tools: dict[str, ModuleType]) -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="retrace", description="Deterministic record and replay for Python programs."
    )
    parser.add_argument("--version", action="version", version=f"retrace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rec = sub.add_parser("record", help="run a program and record it",
                         usage="retrace record [-o DIR] [--overwrite] (SCRIPT | -m MODULE) [ARGS...]")
    rec.add_argument("-o", "--output", default="recording", metavar="DIR",
                     help="recording directory (default: ./recording)")
    rec.add_argument("--overwrite", action="store_true",
                     help="replace a recording already in DIR")
    rec.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m")
    rec.add_argument("args", nargs=argparse.REMAINDER, help="the script and its arguments")

    rep = sub.add_parser("replay", help="replay a recording (or a `retrace pack` file), offline")
    rep.add_argument("recording", nargs="?", default="recording", metavar="DIR")
    rep.add_argument("--process", default="0", metavar="ID",
                     help="replay this child process of the recording (see `retrace inspect`)")

    ins = sub.add_parser("inspect", help="show a recording's header and events")
    ins.add_argument("recording", metavar="DIR")
    ins.add_argument("--json", action="store_true", help="machine-readable output")

    ada = sub.add_parser("adapters", help="list installed adapters and their libraries")
    ada.add_argument("--json", action="store_true", help="machine-readable output")
    for module in tools.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        os.getcwd()
    except FileNotFoundError:  # every relative path, the recording's included, would fail later
        print("retrace: the current directory no longer exists (removed while the shell was "
              "in it); change to a directory that exists and run again", file=sys.stderr)
        return EXIT_USAGE
    if args[:1] == ["record"]:
        # The hash seed first: this process may start again with it, so it should
        # have imported next to nothing (argparse, pathlib) by then.
        hashseed.ensure(hashseed.choose())
    if args[:1] == ["--recording"] or (args and args[0].startswith("--recording=")):
        return replay_main(args)
    options: argparse.Namespace | SimpleNamespace | None = plain_options(args)
    if options is None:
        tools = {} if args[:1] and args[0] in RUNS_A_PROGRAM else _tools()
        parser = _parser(tools)
        options = parser.parse_args(args)
    try:
        if options.command == "record":
            return _record(options)
        if options.command == "replay":
            return _replay(options.recording, options.process)
        if options.command == "inspect":
            from pathlib import Path

            from .summary import inspect_recording

            return inspect_recording(Path(options.recording), as_json=options.json)
        if options.command == "adapters":
            return _adapters(options.json)
        if options.command in tools:
            return int(tools[options.command].run(options))
        parser.print_help()
        return EXIT_USAGE
    except RetraceError as exc:
        print(f"retrace: {exc}" if not str(exc).startswith("retrace:") else str(exc),
              file=sys.stderr)
        return exc.exit_status


def plain_options(args: list[str]) -> SimpleNamespace | None:
    """``record`` and ``replay`` options read without argparse, when they are spelled plainly.

    argparse read the command line in the process that runs the program, and
    for replay in the first one too (before it runs again for the hash seed):
    ~15 M instructions each, importing it and building the parser. What this does not recognise exactly (help,
    an abbreviated or attached option, ``--``, an option before the replay
    directory) gives None, and argparse parses as before, with its messages;
    tests/core/test_cli.py checks that both read every plain spelling alike.
    """
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "record":
        found: dict[str, object] = {"output": "recording", "overwrite": False, "module": None, "args": []}
        valued = {"-o": "output", "--output": "output", "-m": "module"}
    elif command == "replay":
        found = {"recording": "recording", "process": "0"}
        valued = {"--process": "process"}
        if rest[:1] and not rest[0].startswith("-"):
            found["recording"] = rest[0]
            rest = rest[1:]
    else:
        return None
    index = 0
    while index < len(rest):
        token = rest[index]
        if command == "record" and not token.startswith("-"):
            found["args"] = rest[index:]  # the script and its own arguments, options or not
            break
        if command == "record" and token == "--overwrite":
            found["overwrite"] = True
            index += 1
        elif token in valued and index + 1 < len(rest) and not rest[index + 1].startswith("-"):
            found[valued[token]] = rest[index + 1]
            index += 2
        else:
            return None
    return SimpleNamespace(command=command, **found)


def replay_main(args: list[str]) -> int:
    """``python -m retrace --recording DIR``: the seed's spelling of ``retrace replay DIR``."""
    if len(args) == 2 and args[0] == "--recording" and not args[1].startswith("-"):
        recording = args[1]
    else:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m retrace")
        parser.add_argument("--recording", required=True, metavar="DIR")
        recording = parser.parse_args(args).recording
    try:
        return _replay(recording)
    except RetraceError as exc:
        print(f"retrace: {exc}" if not str(exc).startswith("retrace:") else str(exc),
              file=sys.stderr)
        return exc.exit_status


def _record(options: argparse.Namespace | SimpleNamespace) -> int:
    from pathlib import Path

    from . import layout

    rest = list(options.args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if options.module:
        main = {"kind": "module", "name": options.module}
        argv = [options.module, *rest]
    elif rest:
        script = rest[0]
        if not os.path.isfile(script):
            raise UsageError(f"{script}: no such script")
        main = {"kind": "path", "path": script}
        argv = rest
    else:
        raise UsageError("nothing to record: give a script or -m MODULE")
    directory = Path(options.output).expanduser().resolve()
    if layout.holds_recording(directory) and not options.overwrite:
        raise UsageError(
            f"{directory} already holds a recording; choose another directory with -o, "
            "or pass --overwrite to replace it"
        )
    seed = hashseed.choose()
    hashseed.ensure(seed)
    hashseed.forget_ours()
    if main["kind"] == "path":
        sys.path[0] = os.path.dirname(os.path.abspath(main["path"]))
    else:
        sys.path[0] = os.getcwd()
    from . import launcher
    from .session import begin_recording  # after the re-exec: the first process imports little

    session = begin_recording(directory, main, argv, seed, overwrite=options.overwrite)
    status = launcher.run(main, argv)
    session.end(status)
    return status


def _replay(path: str, process: str = "0") -> int:
    directory, main, argv = prepare_replay(path, process)
    from . import forking, launcher  # after the re-exec: the first process imports little
    from .session import begin_replay

    session = begin_replay(directory, on_divergence=stop_replay, progress=f"replay {directory.name}",
                           process=forking.start)
    status = launcher.run(main, argv)
    if forking.targets:
        stop_replay(Divergence(f"retrace: the replay ended without reaching the fork that started "
                               f"process {forking.targets[0]}"))
    try:
        session.end(status)
    except RetraceError as exc:
        stop_replay(exc)
    return status


def prepare_replay(path: str, process: str = "0") -> tuple[Path, dict, list[str]]:
    """Everything a replay does before its session starts: the recording, hash seed, cwd, paths.

    Returns the recording directory, the program's ``main`` and its argv. For
    a child ``process``, that of the process its replay starts from
    (``forking.start``; the forks to follow down to it are ``forking.targets``).
    """
    from . import layout, processes

    directory = layout.locate(_unpacked(path))
    start, targets = processes.replay_plan(directory, process)
    header = processes.header_of(directory, start)
    if hashseed.valid(header.get("hash_seed")):
        hashseed.ensure(header["hash_seed"])  # before anything heavy: this may start us again
    hashseed.forget_ours()
    from . import forking, tracebacks
    from .compat import check_compatible

    check_compatible(header, layout.trace_path(processes.directory_of(directory, start)))
    forking.start, forking.targets[:] = start, targets
    run_dir = layout.run_path(directory)
    main = dict(header["main"])
    cwd = header["cwd"]
    from .snapshot import relative_place

    if main["kind"] == "path":
        recorded, place = main["path"], relative_place(main["path"], cwd)
        script = run_dir / place
        if not script.is_file():
            raise UsageError(f"{script}: the recorded script is missing from run/")
        # A script named relative to the recorded working directory is named the same way from
        # run/ (the replay's working directory), so its __file__ and the file name in its
        # tracebacks are the ones the program saw when recorded.
        same_name = not os.path.isabs(recorded) and os.path.normpath(recorded) == place
        main["path"] = recorded if same_name else str(script)
    os.chdir(run_dir)
    _replay_sys_path(header, str(run_dir), main)
    tracebacks.show_paths_as(str(run_dir), cwd)
    return directory, main, list(header["argv"])


def _unpacked(path: str) -> str | Path:
    """``path``, or where the ``retrace pack`` archive it names was unpacked."""
    if not os.path.isfile(path):
        return path  # a recording directory (the common case): tarfile is not imported
    from pathlib import Path

    from . import pack

    return pack.unpack(Path(path)) if pack.is_archive(path) else path


def _replay_sys_path(header: dict, run_dir: str, main: dict) -> None:
    from .snapshot import is_program_file, relative_place

    cwd = header["cwd"]
    recorded = header.get("sys_path", [])
    mapped = []
    for entry in recorded[1:]:
        probe = os.path.join(entry or cwd, "__probe__.py")
        if is_program_file(probe):
            mapped.append(os.path.join(run_dir, os.path.dirname(relative_place(probe, cwd))))
    first = os.path.dirname(os.path.abspath(main["path"])) if main["kind"] == "path" else run_dir
    keep = [p for p in sys.path[1:] if not is_program_file(os.path.join(p or ".", "__probe__.py"))]
    sys.path[:] = [first, *mapped, *keep]


def stop_replay(error: Exception) -> None:
    """Stop at once: print the report and leave, whatever the program would catch."""
    from .progress import erase

    erase()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    text = str(error)
    stream = sys.__stderr__ or sys.stderr
    stream.write(text if text.startswith("retrace:") else f"retrace: {text}")
    stream.write("\n")
    stream.flush()
    os._exit(getattr(error, "exit_status", EXIT_USAGE))


def _adapters(as_json: bool) -> int:
    from .registry import discover_adapters

    entries = discover_adapters()
    if as_json:
        import json

        print(json.dumps([dict(e.describe(), status=e.status) for e in entries], indent=2))
        return 0
    for e in entries:
        lib = e.adapter.distribution or "stdlib"
        version = e.library_version or ("-" if e.adapter.distribution is None else "missing")
        supported = e.adapter.supported or ""
        print(f"{e.name:<12} {lib:<12} {version:<10} {supported:<14} {e.status:<14} {e.provided_by}")
    return 0
