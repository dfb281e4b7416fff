"""Signals: handlers run where they ran, and timers armed while recording do not go off on replay.

A Python signal handler runs wherever the program was when the signal
arrived: often inside a boundary call (``signal.alarm`` going off during
``time.sleep`` or a socket read), where everything it did used to pass
through unrecorded, and the exception it raised came out of a call whose
replay knew nothing of it. Every handler the program installs with
``signal.signal`` (and the ones already installed when the session starts,
such as Python's ``SIGINT`` handler that raises ``KeyboardInterrupt``) is
run through a trampoline, so each arrival is an interruption (see
:mod:`retrace.interruptions`): recorded where it happened, with what the
handler does recorded as the program's own calls, and performed on replay
at the same event, the handler's exception coming out of the same call.
``signal.getsignal`` and the value ``signal.signal`` returns still name the
program's own handlers.

On replay no signal is needed: ``signal.alarm``, ``setitimer`` and
``getitimer`` are boundaries that arm nothing and answer what they answered;
``signal.pause`` and ``signal.sigwait`` return when the recording says; a
signal the program sends itself (``os.kill(os.getpid(), ...)``,
``signal.raise_signal``) reaches the trampoline, which leaves it to the
recording. The one signal a replay still obeys is ``SIGINT``: Ctrl-C stops a
replay as it would stop the program.

Handlers that asyncio installs for ``loop.add_signal_handler`` are left
alone (the loop wakes through its own pipe; see docs/adapters/asyncio.md),
and so are retrace's own.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

from retrace import Adapter, Boundary, Patch, interruptions, patchforms, runtime
from retrace.boundary import Args, Kwargs
from retrace.callsite import CallSites
from retrace.errors import BadRecording, Divergence

ARRIVAL = Boundary("signal.arrival")
_VALID = frozenset(int(s) for s in signal.valid_signals())
_SITES = CallSites()
#: Callers whose handlers are their own business (the event loop's self-pipe, retrace's tools).
_UNTOUCHED = ("retrace", "asyncio", "pdb", "bdb", "_pytest.debugging")


def _numbers(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Signal numbers, seconds and signal sets (``sigwait``'s) as plain data."""
    return [sorted(int(s) for s in a) if isinstance(a, (set, frozenset, list, tuple))
            else a if type(a) is float else int(a) for a in (*args, *kwargs.values())]


def _timer_encode(value: Any, *_: Any) -> Any:
    return list(value)


def _timer_decode(plain: Any, *_: Any) -> Any:
    return tuple(plain)


def _signal_encode(value: Any, *_: Any) -> Any:
    return int(value)


def _signal_decode(plain: Any, *_: Any) -> Any:
    return signal.Signals(plain)


ALARM = Boundary("signal.alarm", fingerprint=_numbers)
SETITIMER = Boundary("signal.setitimer", fingerprint=_numbers, encode=_timer_encode,
                     decode=_timer_decode)
GETITIMER = Boundary("signal.getitimer", fingerprint=_numbers, encode=_timer_encode,
                     decode=_timer_decode)
PAUSE = Boundary("signal.pause", blocking=True)
SIGWAIT = Boundary("signal.sigwait", fingerprint=_numbers, blocking=True,
                   encode=_signal_encode, decode=_signal_decode)


class _Trampoline:
    """Stands in the signal table for the program's handler, which it runs as an interruption."""

    __slots__ = ("handler",)

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def __call__(self, signum: int, frame: FrameType | None) -> Any:
        mode = runtime.active()
        if mode.name == "record":
            return interruptions.record(ARRIVAL, int(signum), lambda: self.handler(signum, frame))
        if mode.name == "replay" and signum != signal.SIGINT:
            return None  # the recording says where this handler runs; a real arrival is not it
        return self.handler(signum, frame)


def _untouched(frame: FrameType | None) -> bool:
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module.startswith(_UNTOUCHED)


def _signal(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    handler = args[1] if len(args) > 1 else kwargs.get("handler")
    if callable(handler) and not _untouched(patchforms.caller(sys._getframe(1))):
        args = (args[0], _Trampoline(handler))
        kwargs = {}
    return _program_handler(wrapped(*args, **kwargs))


def _getsignal(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return _program_handler(wrapped(*args, **kwargs))


def _program_handler(handler: Any) -> Any:
    return handler.handler if type(handler) is _Trampoline else handler


def _perform(payload: Any) -> None:
    """Replay: run the handler the program has installed now for the recorded signal."""
    if type(payload) is not int or payload not in _VALID:
        raise BadRecording(f"a signal arrival in the recording names signal {payload!r}, "
                           "which is not one; record the program again")
    handler = _program_handler(signal.getsignal(payload))
    if not callable(handler):
        raise Divergence(f"retrace: replay diverged: signal {payload} arrived here when recorded, "
                         f"and the program has no handler for it now ({handler!r}); the program "
                         "took a different path (was the code in run/ edited?)")
    # Python passes a handler a plain int and the frame it interrupted: the program's.
    handler(payload, _SITES.first_outside(sys._getframe(1), ()))


def _swap_installed(wrap: bool) -> None:
    """Put trampolines around the handlers installed before the session (or take them off)."""
    if threading.current_thread() is not threading.main_thread():
        return  # the signal table can only be changed from the main thread
    real_signal = getattr(signal.signal, "__wrapped__", signal.signal)
    real_getsignal = getattr(signal.getsignal, "__wrapped__", signal.getsignal)
    for signum in signal.valid_signals():
        try:
            current = real_getsignal(signum)
        except (OSError, ValueError):
            continue
        if wrap and callable(current) and type(current) is not _Trampoline and not (
                getattr(current, "__module__", "") or "").startswith(_UNTOUCHED):
            real_signal(signum, _Trampoline(current))
        elif not wrap and type(current) is _Trampoline:
            real_signal(signum, current.handler)


class SignalsAdapter(Adapter):
    name = "signals"

    def patches(self) -> list[Patch]:
        return [
            Patch("signal", "signal", wrapper=_signal),
            Patch("signal", "getsignal", wrapper=_getsignal),
            Patch("signal", "alarm", ALARM),
            Patch("signal", "setitimer", SETITIMER),
            Patch("signal", "getitimer", GETITIMER),
            Patch("signal", "pause", PAUSE),
            Patch("signal", "sigwait", SIGWAIT),
        ]

    def start(self, session: Any) -> None:
        if session.replaying and session.cursor is not None:
            session.cursor.on_interruption(ARRIVAL.name, _perform)
        _swap_installed(wrap=True)

    def stop(self, session: Any) -> None:
        _swap_installed(wrap=False)


adapter = SignalsAdapter()
