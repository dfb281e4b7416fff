"""A thread of retrace's own that writes buffered events, so no program call waits for a write.

The recorder appends every event to the writer's buffer and writes it
itself only when :data:`retrace.trace.FLUSH_RECORDS` have piled up. The
rest is this thread's work: it wakes every :data:`INTERVAL` and writes
whatever is buffered. What that guarantees after a SIGKILL:

- a call that has been waiting for :data:`GUARANTEED` or more has every event
  recorded before it on disk, whatever it waits in (a socket, a sleep, a
  lock, or a C call retrace does not intercept);
- a CPU-bound stretch loses at most about its last :data:`INTERVAL` of events.

The program's threads pay nothing for it per call: no write before each
blocking call (eight per request in ``bench/bench_service.py``), no clock
read per event. Ten milliseconds is the "last moment" the design allows
to be lost; a wake-up costs a few microseconds, so a hundred a second are
noise even in an idle process, and a shorter interval would only move writes
off waits too short to matter (a 60 µs query, a 2 ms API call).

The thread is invisible to the program. It is started with
``_thread.start_new_thread``, so ``threading`` never learns of it (not in
``threading.enumerate()``; no ``Thread`` for the threading adapter to name
or record), and it never asks ``threading.current_thread()`` (which would
register it). It sleeps on a raw lock, blocks every signal, and runs with
the busy flag set, so nothing it causes is recorded, a finalizer the
garbage collector runs on it included.
"""

from __future__ import annotations

import _thread
import signal

from . import runtime

#: How often buffered events are written (seconds).
INTERVAL = 0.010
#: How long a call must have been waiting to have everything before it on disk: the interval
#: plus the interpreter's switch interval (5 ms), which the flusher may wait for to run.
GUARANTEED = 0.020
#: How long ending a session waits for the thread to finish a write in progress.
_STOP_TIMEOUT = 5.0


class Flusher:
    """Writes a recorder's buffered events every :data:`INTERVAL` until stopped.

    The session stops it before a fork and starts it again after, in the
    parent (:meth:`stop` leaves it ready to :meth:`start` again); a child the
    ``children`` adapter records gets a flusher of its own. The thread also
    ends by itself once the recording stops, since nothing is written after
    that.
    """

    def __init__(self, recorder: runtime.Recorder, interval: float = INTERVAL) -> None:
        self._recorder = recorder
        self._interval = interval
        self._stopping = _thread.allocate_lock()
        self._stopping.acquire()
        self._ended = _thread.allocate_lock()
        self._ended.acquire()
        self._running = False

    def start(self) -> None:
        """Start the thread (``RuntimeError`` if the system has none to give).

        It starts with every signal blocked: a signal the program blocks and
        waits for (``sigwait``) would otherwise be delivered to this thread,
        the one thread not blocking it, and its default action end the process.
        """
        before = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            _thread.start_new_thread(self._run, ())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        self._running = True

    def stop(self) -> None:
        """End the thread; on return no write of it is in progress (the final flush is next)."""
        if not self._running:
            return
        self._running = False
        self._stopping.release()
        self._ended.acquire(True, _STOP_TIMEOUT)

    def _run(self) -> None:
        runtime.LOCAL.busy = True
        recorder = self._recorder
        writer = recorder.writer
        try:
            while not self._stopping.acquire(True, self._interval) and recorder.stopped is None:
                if writer.records:
                    self._write()
        finally:
            self._ended.release()

    def _write(self) -> None:
        recorder = self._recorder
        try:
            recorder.flush()
        except Exception as exc:  # never a traceback from retrace's own thread
            recorder.stop(f"writing the trace failed: {exc!r}")

