"""The hot path: every patched call comes here and goes to the active mode.

Three modes share one signature, ``call(boundary, wrapped, instance, args,
kwargs)``:

- :class:`Passthrough` calls the target (nothing is recording);
- :class:`Recorder` calls it, appends one event with the outcome, and hands the
  real outcome back unchanged;
- :class:`Replayer` does not call it: it takes the next event of this thread,
  checks it is the same boundary with the same argument fingerprint, and
  returns or raises the recorded outcome.

While one boundary call is in flight on a thread, boundaries it reaches pass
through, so nothing is recorded twice. Per event the recorder allocates one
tuple and appends to a flat list; encoding and writing happen per block.
"""

from __future__ import annotations

import sys
import threading
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cbor2

from . import trace
from .boundary import Args, Boundary, Kwargs
from .callsite import CallSites
from .codecs import SCALARS, CodecRegistry, Unencodable

if TYPE_CHECKING:
    from .cursor import Cursor

MAX_SUMMARY = 160


class _Local(threading.local):
    busy = False


def digest(codecs: CodecRegistry, data: Any) -> int:
    """A stable 32-bit digest of plain data (the argument fingerprint)."""
    return zlib.crc32(cbor2.dumps(codecs.to_plain(data)))


def summarize(boundary: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> str | None:
    if boundary.summary is None:
        return None
    try:
        text = boundary.summary(instance, args, kwargs)
    except Exception as exc:
        text = f"<summary failed: {exc!r}>"
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


class Passthrough:
    """Nothing is recording or replaying: call the target."""

    name = "passthrough"

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        return wrapped(*args, **kwargs)


class Recorder:
    """Calls through and appends an event per boundary call."""

    name = "record"

    def __init__(self, writer: trace.TraceWriter, codecs: CodecRegistry,
                 on_stop: Callable[[str], None]) -> None:
        self.writer = writer
        self.codecs = codecs
        self.events = 0
        self._on_stop = on_stop
        self._local = _Local()
        self._lock = threading.Lock()
        self._boundary_ids: dict[Boundary, int] = {}
        self._site_ids: dict[tuple[str, int], int] = {}
        self._summary_ids: dict[str, int] = {}
        self._threads: dict[int, int] = {}
        self._sites = CallSites()
        self.stopped: str | None = None

    def thread_key(self) -> int:
        ident = threading.get_ident()
        key = self._threads.get(ident)
        if key is None:
            key = self._threads[ident] = len(self._threads)
        return key

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        local = self._local
        if local.busy or (b.passthrough is not None and b.passthrough(instance, args, kwargs)):
            return wrapped(*args, **kwargs)
        fp: Any = None
        if b.fingerprint is not None:
            fp = self._fingerprint(b, instance, args, kwargs)
        if b.blocking:
            with self._lock:
                self.writer.flush()
        local.busy = True
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            local.busy = False
            self._event(b, fp, 1, exc, sys._getframe(1), instance, args, kwargs)
            raise
        local.busy = False
        self._event(b, fp, 0, result, sys._getframe(1), instance, args, kwargs)
        return result

    def _fingerprint(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        try:
            fp: Any = digest(self.codecs, b.fingerprint(instance, args, kwargs))  # type: ignore[misc]
        except Exception as exc:
            fp = zlib.crc32(repr(exc).encode())
        text = summarize(b, instance, args, kwargs)
        if text is not None:
            fp = [fp, self._intern_summary(text)]
        return fp

    def _intern_summary(self, text: str) -> Any:
        known = self._summary_ids.get(text)
        if known is not None:
            return known
        if len(self._summary_ids) >= 65536:
            return text
        with self._lock:
            new = self._summary_ids[text] = len(self._summary_ids)
            self.writer.items += (0, trace.DEF_SUMMARY, new, None, text)
        return new

    def _event(self, b: Boundary, fp: Any, raised: int, outcome: Any, frame: Any,
               instance: Any, args: Args, kwargs: Kwargs) -> None:
        if self.stopped is not None:
            return
        try:
            if raised:
                value = self.codecs.to_plain(outcome)
                if b.encode_error is not None:
                    value = b.encode_error(value, instance, args, kwargs)
            else:
                if b.encode is not None:
                    outcome = b.encode(outcome, instance, args, kwargs)
                value = outcome if type(outcome) in SCALARS else self.codecs.to_plain(outcome)
        except Unencodable as exc:
            self.stop(f"{b.name} returned a value retrace cannot record: {exc}")
            return
        except Exception as exc:
            self.stop(f"encoding the outcome of {b.name} failed: {exc!r}")
            return
        site = self._sites.find(frame, b.library)
        with self._lock:
            writer = self.writer
            items = writer.items
            bid = self._boundary_ids.get(b)
            if bid is None:
                bid = self._boundary_ids[b] = len(self._boundary_ids)
                items += (0, trace.DEF_BOUNDARY, bid, None, b.name)
            sid = self._site_ids.get(site)
            if sid is None:
                sid = self._site_ids[site] = len(self._site_ids)
                items += (0, trace.DEF_SITE, sid, None, [site[0], site[1]])
            items += (self.thread_key(), bid * 2 + raised, sid, fp, value)
            self.events += 1
            if writer.due():
                writer.flush()
                if writer.failure is not None:
                    self._stop_locked(f"writing the trace failed: {writer.failure}")

    def stop(self, reason: str) -> None:
        """Stop recording for good: the trace ends here, marked incomplete."""
        with self._lock:
            self._stop_locked(reason)

    def _stop_locked(self, reason: str) -> None:
        if self.stopped is not None:
            return
        self.stopped = reason
        self.writer.items += (0, trace.STOPPED, self.events, None, reason)
        self.writer.flush()
        self._on_stop(reason)

    def flush(self) -> None:
        with self._lock:
            self.writer.flush()


class Replayer:
    """Serves every boundary call from the recording."""

    name = "replay"

    def __init__(self, cursor: Cursor, codecs: CodecRegistry) -> None:
        self.cursor = cursor
        self.codecs = codecs
        self._local = _Local()

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        local = self._local
        if local.busy or (b.passthrough is not None and b.passthrough(instance, args, kwargs)):
            return wrapped(*args, **kwargs)
        raised, value = self.cursor.take(b, instance, args, kwargs, sys._getframe(1))
        local.busy = True
        try:
            if b.on_replay is not None:
                b.on_replay(instance, args, kwargs)
            if type(value) not in SCALARS:
                value = self.codecs.materialize(value)
            if not raised and b.decode is not None:
                value = b.decode(value, instance, args, kwargs)
        finally:
            local.busy = False
        if raised:
            raise value
        return value


_mode: Passthrough | Recorder | Replayer = Passthrough()


def active() -> Passthrough | Recorder | Replayer:
    """The mode every patched call goes to now."""
    return _mode


def set_mode(mode: Passthrough | Recorder | Replayer) -> None:
    global _mode
    _mode = mode


def wrapper_for(boundary: Boundary) -> Callable[[Any, Any, Args, Kwargs], Any]:
    """The wrapt wrapper that sends calls of ``boundary`` to the active mode."""

    def retrace_boundary(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        return _mode.call(boundary, wrapped, instance, args, kwargs)

    return retrace_boundary


def call(boundary: Boundary, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function(*args, **kwargs)`` as a call of ``boundary`` in the active mode.

    For adapters whose boundary is not a patched callable: a seed drawn at
    start-up, a value computed from several library calls.
    """
    return _mode.call(boundary, function, None, args, kwargs)
