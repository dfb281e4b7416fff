"""A session: one recording or one replay of one program, from start to end.

It ties the parts together in a fixed order: plugins and redaction rules,
adapters (selected, version-checked, codecs registered), the trace, patches,
the mode switch, then the program; and at the end the footer or the
consumption check, then everything removed in reverse.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pluggy

from . import __version__, layout, processes, runtime, serial, trace
from .arrivals import ImportWatch
from .codecs import CodecRegistry
from .compat import check_compatible
from .cursor import Cursor
from .errors import UsageError
from .flusher import Flusher
from .gc_callbacks import QuietCallbacks
from .output import OutputCheck
from .patching import Patcher
from .progress import replay_reader
from .redaction import RedactionRules
from .registry import (
    AdapterEntry,
    discover_adapters,
    plugin_manager,
    register_adapters,
    select_adapters,
)
from .snapshot import Snapshot

_wall_clock = time.time  # taken before any patch: retrace's own timestamps are not events


def warn(message: str) -> None:
    """One line on stderr, the way retrace talks to a user during a run.

    Written as retrace's own work (``busy``), so it is never an output event:
    a warning only a replay prints must not look like a divergence.
    """
    local = runtime.LOCAL
    busy, local.busy = local.busy, True
    try:
        sys.stderr.write(f"retrace: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    finally:
        local.busy = busy


class Session:
    """The state of one record or replay run; adapters receive it in ``start``."""

    def __init__(
        self,
        mode: str,
        directory: Path,
        header: dict[str, Any],
        pm: pluggy.PluginManager,
        adapters: list[AdapterEntry],
        codecs: CodecRegistry,
        redaction: RedactionRules,
    ) -> None:
        self.mode = mode
        self.directory = directory
        self.header = header
        self.pm = pm
        self.adapters = adapters
        self.codecs = codecs
        self.redaction = redaction
        self.patcher = Patcher(warn)
        self.output = OutputCheck(redaction)
        self.gc_callbacks = QuietCallbacks()
        #: The adapters installed so far, in order: those with ``imports`` arrive when
        #: the program imports their library (:mod:`retrace.arrivals`).
        self.installed: list[AdapterEntry] = []
        self.arrivals = ImportWatch()
        self.active = False
        self.recorder: runtime.Recorder | None = None
        #: Writes the recorder's buffered events while the program runs (see :mod:`retrace.flusher`).
        self.flusher: Flusher | None = None
        self.cursor: Cursor | None = None
        self.snapshot: Snapshot | None = None
        self.ended = False
        self._mode: runtime.Recorder | runtime.Replayer | None = None

    @property
    def recording(self) -> bool:
        return self.mode == "record"

    @property
    def replaying(self) -> bool:
        return self.mode == "replay"

    def _install(self, mode: runtime.Recorder | runtime.Replayer, defer: bool = False) -> None:
        self._mode = mode
        # An adapter whose library is already loaded is installed with the rest, in
        # order and in one sweep of the loaded modules, as if it did not wait.
        waiting = [entry for entry in self.adapters if entry.adapter.imports
                   and not any(name in sys.modules for name in entry.adapter.imports)]
        self._add([entry for entry in self.adapters if entry not in waiting])
        for entry in waiting:
            self.arrivals.watch(entry.adapter.imports, partial(self._arrive, entry))
        if not defer:
            self.activate()

    def _add(self, entries: list[AdapterEntry]) -> None:
        """Install ``entries``: codecs, then patches (each applies when its module is imported)."""
        for entry in entries:
            entry.adapter.register_codecs(self.codecs)
        self.patcher.install([
            (patch, patch.make_wrapper()) for entry in entries for patch in entry.adapter.patches()
        ])
        self.installed.extend(entries)

    def _arrive(self, entry: AdapterEntry) -> None:
        """The program is importing ``entry``'s library: install the adapter first.

        This runs inside the program's ``import``; a failure must not become
        the program's: it is reported and the library runs unrecorded.
        """
        if self.ended:
            return
        try:
            with runtime.in_flight():  # the adapter's own imports and set-up are not events
                self._add([entry])
                if self.active:
                    entry.adapter.start(self)
        except Exception as exc:
            warn(f"adapter {entry.name!r} could not be installed, {entry.name} calls are not "
                 f"recorded: {exc}")

    def activate(self) -> None:
        """Switch patched calls to this session; the program's first line comes next."""
        assert self._mode is not None
        runtime.set_mode(self._mode)
        self.output.install()
        self.gc_callbacks.install()
        self.active = True
        try:
            self.start_flusher()
            self.start_adapters()
            self.pm.hook.retrace_session_start(session=self)
        except BaseException:
            # An adapter refusing to start (a malformed recording, say) must leave nothing
            # behind: with the checked streams still in place, its own message would be
            # taken for the program's output and reported as a divergence.
            self.end(None, check=False)
            raise

    def start_flusher(self) -> None:
        """Start writing the recorder's events from a thread of retrace's own (when recording)."""
        if self.recorder is None:
            return
        flusher = Flusher(self.recorder)
        try:
            flusher.start()
        except RuntimeError as exc:
            warn(f"events are written only every {trace.FLUSH_RECORDS} events and at the end: "
                 f"no thread could be started to write them sooner ({exc})")
            return
        self.flusher = flusher

    def start_adapters(self) -> None:
        for entry in list(self.installed):
            entry.adapter.start(self)

    def stop_adapters(self) -> None:
        for entry in reversed(self.installed):
            entry.adapter.stop(self)

    def end(self, exit_status: int | None, check: bool = True) -> None:
        """Finish the trace (or check it was used up) and remove every patch.

        ``check=False`` skips the replay's end-of-trace checks (a scoped
        replay whose block already failed must not hide that failure).
        """
        if self.ended:
            return
        self.ended = True
        try:
            if self.recorder is not None:
                self._finish_recording(exit_status)
            elif self.cursor is not None and check:
                self.cursor.finish(exit_status)
            self.pm.hook.retrace_session_end(session=self, exit_status=exit_status)
        finally:
            self._teardown()

    def _teardown(self) -> None:
        """Undo everything ``activate`` and ``_install`` did, whatever fails on the way.

        Every step runs even when one before it raises (an adapter's ``stop``
        hitting a divergence, say): a scoped session that left its mode or
        its patches behind would turn the rest of the host process, the rest
        of a test suite, into a broken replay. The first failure is raised
        once all steps have run.
        """
        steps: list[Callable[[], object]] = [
            self.arrivals.close,
            *(partial(entry.adapter.stop, self) for entry in reversed(self.installed)),
            self.output.uninstall,
            self.gc_callbacks.uninstall,
            partial(runtime.set_mode, runtime.Passthrough()),
        ]
        if isinstance(self.recorder, serial.SerialRecorder):
            steps.append(partial(self.recorder.pause, record=False))  # baton waiters run on
        steps.append(self.patcher.uninstall)
        failure: BaseException | None = None
        for step in steps:
            try:
                step()
            except BaseException as error:  # re-raised below, after the rest
                failure = failure or error
        if failure is not None:
            raise failure

    def _before_fork(self) -> None:
        """No thread of retrace's runs across a fork: the child would inherit its locks
        mid-write, and Python 3.12+ warns the program that forks a multi-threaded process."""
        if self.flusher is not None:
            self.flusher.stop()

    def _after_fork_in_parent(self) -> None:
        if self.flusher is not None:
            try:
                self.flusher.start()
            except RuntimeError:
                self.flusher = None  # the parent goes on with the writes by size and at the end

    def _forked(self) -> None:
        """A forked child must not write into its parent's trace.

        It runs on unrecorded, unless the fork went through the ``children``
        adapter, which then goes on recording it into a trace of its own
        (:func:`retrace.forking.record_child`).
        """
        if self.ended or self.recorder is None:
            return
        self.ended = True
        self.flusher = None  # its thread is the parent's: a fork keeps only the forking thread
        self.recorder.writer.detach()
        runtime.set_mode(runtime.Passthrough())

    def _finish_recording(self, exit_status: int | None) -> None:
        recorder = self.recorder
        assert recorder is not None
        if self.flusher is not None:
            self.flusher.stop()
            self.flusher = None
        if self.snapshot is not None:
            self.snapshot.unwatch_imports()
            self.snapshot.add_loaded_modules()
        footer = {
            "events": recorder.events,
            "exit_status": exit_status,
            "complete": recorder.stopped is None,
            "end_time": _wall_clock(),
        }
        if recorder.stopped is None:
            recorder.writer.records.append((0, trace.FOOTER, recorder.events, None, footer))
        recorder.writer.flush()
        if recorder.writer.failure and recorder.stopped is None:  # the footer did not make it
            recorder.writer.records.append((0, trace.STOPPED, recorder.events, None,
                                            f"writing the trace failed: {recorder.writer.failure}"))
        recorder.writer.close()
        runtime.LOCAL.later = None  # this thread's events made later: written (or lost) by now
        if recorder.writer.failure and recorder.stopped is None:
            warn(f"the recording in {self.directory} is incomplete: {recorder.writer.failure}")


def _platform_name() -> str:
    """Where the recording was made, for people (``inspect``), like ``platform.platform()``.

    Not ``platform.platform()`` itself: it fills the ``platform`` module's
    caches before the program runs, so a program asking ``platform.processor()``
    got a cached answer when recorded but ran ``uname -p`` (a subprocess the
    trace does not have) on replay, where the header is read instead.
    """
    name = os.uname()
    return f"{name.sysname}-{name.release}-{name.machine}"


def _base(directory: Path) -> tuple[pluggy.PluginManager, RedactionRules]:
    pm = plugin_manager()
    rules = RedactionRules()
    pm.hook.retrace_configure_redaction(rules=rules)
    return pm, rules


def begin_recording(
    directory: Path,
    main: dict[str, Any],
    argv: list[str],
    hash_seed: str | None,
    overwrite: bool = False,
    defer: bool = False,
    snapshot: bool = True,
    process: tuple[str, str] | None = None,
) -> Session:
    """Create the recording, install adapters in record mode; the program runs next.

    With ``defer`` the patches are in place but calls pass through until
    :meth:`Session.activate` (the autoenable hook activates at the program's
    first line, after the interpreter's own start-up). Without ``snapshot``
    no sources are copied into ``run/`` (a scoped replay runs the live code).
    ``process`` is ``(ID, how it started)`` for a child process of a recorded
    program, which writes its own trace into the program's recording.
    """
    pm, rules = _base(directory)
    adapters = select_adapters(discover_adapters())
    register_adapters(pm, adapters)
    codecs = CodecRegistry()  # adapters add theirs as they are installed
    cwd = os.getcwd()
    header: dict[str, Any] = {
        "format": trace.FORMAT_VERSION,
        "retrace": __version__,
        "python": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "platform": _platform_name(),
        "argv": list(argv),
        "cwd": cwd,
        "main": main,
        "sys_path": [p for p in sys.path if isinstance(p, str)],
        "adapters": [entry.describe() for entry in adapters],
        "hash_seed": hash_seed,
        "start_time": _wall_clock(),
        "pid": os.getpid(),
        "timings": os.environ.get("RETRACE_TIMINGS") == "1",
        "serial": os.environ.get("RETRACE_SERIAL") == "1",
    }
    if process is not None:
        header["process"] = processes.describe(*process)
    pm.hook.retrace_recording_header(header=header)
    folder = directory
    if process is None:
        layout.create(directory, overwrite=overwrite)
    else:
        processes.identity.reset(process[0])
        folder = processes.directory_of(directory, process[0])
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    writer = trace.TraceWriter(str(layout.trace_path(folder)), header)
    writer.limit = max_bytes()
    session = Session("record", directory, header, pm, adapters, codecs, rules)
    recorder_class: type[runtime.Recorder]
    if header["serial"]:
        recorder_class = serial.SerialRecorder
    elif header["timings"]:
        recorder_class = runtime.TimingRecorder
    else:
        recorder_class = runtime.Recorder
    session.recorder = recorder_class(writer, codecs, on_stop=_warn_stopped(directory))
    session.recorder.redaction = rules
    if snapshot:
        session.snapshot = Snapshot(layout.run_path(directory), cwd)
        if main.get("path"):
            session.snapshot.add(main["path"])
        session.snapshot.watch_imports()
    session._install(session.recorder, defer=defer)
    os.register_at_fork(before=session._before_fork,
                        after_in_parent=session._after_fork_in_parent,
                        after_in_child=session._forked)
    return session


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def max_bytes() -> int | None:
    """``RETRACE_MAX_BYTES`` (``500000``, ``200M``, ``1G``), or None when unset or invalid."""
    raw = os.environ.get("RETRACE_MAX_BYTES", "").strip().upper().removesuffix("B")
    if not raw:
        return None
    unit = raw[-1] if raw[-1] in "KMG" else ""
    number = raw[: len(raw) - len(unit)]
    if not number.isdigit():
        warn(f"RETRACE_MAX_BYTES={os.environ['RETRACE_MAX_BYTES']!r} is not a size "
             "(like 200M); recording without a limit")
        return None
    return int(number) * _UNITS[unit]


def _warn_stopped(directory: Path) -> Callable[[str], None]:
    def stopped(reason: str) -> None:
        if not directory.is_dir():
            warn(f"recording stopped, the program goes on unrecorded: {reason}")
            return
        warn(f"recording stopped, the program goes on unrecorded: {reason} "
             f"(the recording in {directory} is incomplete; it replays up to this point)")
        runtime.set_mode(runtime.Passthrough())

    return stopped


def read_header(directory: Path) -> dict[str, Any]:
    reader = trace.TraceReader(str(layout.trace_path(directory)))
    try:
        return reader.header
    finally:
        reader.close()


def begin_replay(
    directory: Path, on_divergence: Callable[[Exception], None], progress: str | None = None,
    process: str = processes.ROOT,
) -> Session:
    """Open the recording (``process``'s trace in it), install its adapters in replay mode.

    With ``progress`` (a label), a long replay shows how far it has read on
    stderr when that is a terminal (:mod:`retrace.progress`).
    """
    path = layout.trace_path(processes.directory_of(directory, process))
    reader = replay_reader(str(path), progress) if progress else trace.TraceReader(str(path))
    check_compatible(reader.header, path)
    pm, rules = _base(directory)
    recorded = {a["name"]: a for a in reader.header.get("adapters", [])}
    available = {e.name: e for e in discover_adapters()}
    missing = sorted(set(recorded) - set(available))
    if missing:
        raise UsageError(
            f"{path} was recorded with adapter(s) {', '.join(missing)}, which are not installed "
            "here; install them (e.g. pip install 'retrace[all]') to replay"
        )
    adapters = [available[name] for name in sorted(recorded)]
    for entry in adapters:
        events = recorded[entry.name].get("events", 1)
        if events != entry.adapter.events and events not in entry.adapter.replays:
            raise UsageError(
                f"{path} was recorded by a {entry.name} adapter whose events are version "
                f"{events!r}; the one installed here ({entry.provided_by}) writes version "
                f"{entry.adapter.events}. Replay it with the retrace that recorded it "
                f"({reader.header.get('retrace')}), or record it again"
            )
        was = recorded[entry.name].get("version")
        if was and entry.library_version and was != entry.library_version:
            warn(f"{entry.adapter.distribution} was {was} when recorded and is "
                 f"{entry.library_version} here; replay may diverge")
    register_adapters(pm, adapters)
    codecs = CodecRegistry()  # adapters add theirs as they are installed
    session = Session("replay", directory, reader.header, pm, adapters, codecs, rules)
    processes.identity.reset(process)
    session.cursor = Cursor(reader, codecs, on_divergence)
    replayer_class = serial.SerialReplayer if reader.header.get("serial") else runtime.Replayer
    session._install(replayer_class(session.cursor, codecs))
    return session
