"""``os.fork`` and ``os._exit``: a forked child records into a trace of its own.

Recording, the parent's event is ``[pid, child ID]``; the child leaves the
parent's trace (see :mod:`retrace.forking`) and goes on in its own. On
replay no process is forked: the parent gets the recorded pid, except on a
``retrace replay --process`` of that child, where the fork returns 0 and the
replay goes on as the child. A fork inside a call that runs for real (a
``multiprocessing.Pool`` starting its workers) is not an event of its own:
the call records the IDs of the children it started.

``os._exit`` ends the process without ``atexit``, so it ends the session
first: the trace gets its footer with the exit status (multiprocessing's
forked workers end this way), and a replay checks it.
"""

from __future__ import annotations

import itertools
import os
import sys
from typing import Any

from retrace import Boundary, forking, patchforms, processes, runtime
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import LOCAL, call

LIBRARY = ("os", "multiprocessing", "concurrent")
FORK = Boundary("os.fork", blocking=True, library=LIBRARY)
#: pids given to children forked for real on a replay but never run (above any real pid).
_UNREAL_PIDS = itertools.count(1 << 22)


class State:
    session: Any = None


state = State()


def _forked_child() -> None:
    """In a new child: the parent's recorder, copied by the fork, must record nothing more."""
    session = state.session
    recorder = getattr(session, "recorder", None)
    if recorder is not None and recorder.stopped is None:
        recorder.stopped = "forked"


os.register_at_fork(after_in_child=_forked_child)


def fork_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    session = state.session
    mode = runtime.active().name
    if session is None or mode == "passthrough":
        return wrapped(*args, **kwargs)
    if mode == "replay":
        return _replayed_fork(session)
    child = processes.identity.next_child()
    if LOCAL.busy:
        pid = wrapped(*args, **kwargs)
    else:
        pid = _outcome(call(FORK, lambda *_: [wrapped(*args, **kwargs), child]))[0]
    if pid == 0:
        forking.record_child(session, child, "fork")
    return pid


def _outcome(value: Any) -> list[Any]:
    if type(value) is int:  # recorded before children had IDs
        return [value, None]
    if type(value) is list and len(value) == 2 and type(value[0]) is int:
        return value
    raise BadRecording("an os.fork event in the trace is malformed")


def _replayed_fork(session: Any) -> int:
    if LOCAL.busy:  # run for real on a --process replay, inside a recorded call
        child = processes.identity.next_child()
        pid = next(_UNREAL_PIDS)
    else:
        pid, child = _outcome(call(FORK, lambda *_: None))
    if forking.targets and child == forking.targets[0]:
        forking.targets.pop(0)
        forking.replay_child(session, child)
        return 0
    return int(pid)


def exit_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    session = state.session
    frame = patchforms.caller(sys._getframe(1))
    caller = (frame.f_globals.get("__name__") or "") if frame is not None else ""
    if session is not None and not caller.startswith("retrace"):
        status = args[0] if args else kwargs.get("n", 0)
        try:
            session.end(status & 0xFF if isinstance(status, int) else 1)
        except Exception as exc:
            cursor = getattr(session, "cursor", None)
            if cursor is not None:
                cursor.on_divergence(exc)
    return wrapped(*args, **kwargs)
