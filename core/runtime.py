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

*Ordered* boundaries (locks, queues, thread start/join, output) go through
``ordered`` instead of ``call``: their real call happens in every mode, and
replay performs it at the thread's recorded turn, so the interleaving of
threads is the recorded one. Threads are named by a path from the spawn tree
(an identity hook a threading adapter installs; by default the order of
their first event), written once per thread as a ``DEF_THREAD`` record.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import cbor2

from . import trace
from .boundary import Args, Boundary, Kwargs
from .callsite import CallSites
from .codecs import SCALARS, CodecRegistry, Unencodable
from .errors import Blocked
from .later import Later, forget_after_fork
from .redaction import RedactionRules, with_placeholders

if TYPE_CHECKING:
    from .cursor import Cursor

MAX_SUMMARY = 160
#: Events a thread may leave to be made later before it makes them itself (see Recorder.later).
MAX_LATER = 64

#: What the recorder knows of a boundary: its id, and the frames its calls came through
#: (all of them, and the program's frames that called it directly): see ``Recorder._site``.
_Known = tuple[int, dict[int, tuple[Any, Any]], dict[int, tuple[Any, Any]]]


class _Local(threading.local):
    """Per-thread flags, present in every thread's own dictionary.

    ``threading.local`` runs ``__init__`` in each thread that first touches
    the object, so the flags are always in the thread's ``__dict__``, and the
    hot path reads them there: one ``LOCAL.__dict__`` and subscripts cost a
    third of attribute reads through ``threading.local`` (each of which looks
    the thread's dictionary up again). Everything else reads attributes.
    """

    busy: bool
    #: This thread was started by a library (see :mod:`retrace.library_threads`).
    library: bool
    #: This thread's recorded events whose contents are still to be made (see :func:`settle`).
    later: list[Later] | None

    def __init__(self) -> None:
        self.busy = False
        self.library = False
        self.later = None


class ThreadKeys(threading.local):
    """A thread's key and path in one session (each mode has its own: a
    thread that outlives a session must not carry its key into the next)."""

    key: int | None = None
    path: str | None = None


#: Per-thread state shared by every mode: ``busy`` is true while a boundary
#: call (or retrace's own waiting) is in flight, so boundaries reached
#: meanwhile pass through.
LOCAL = _Local()

#: ``() -> str | None``: the current thread's stable path in the spawn tree
#: (``"0"``, ``"0.2"``...), installed by the threading adapter; None (or no
#: hook) means the thread is named by the order of its first event.
_identity: Callable[[], str | None] | None = None


def set_identity(hook: Callable[[], str | None] | None) -> None:
    """Install (or remove, with None) the hook that names threads."""
    global _identity
    _identity = hook


def thread_path(fallbacks: itertools.count[int]) -> str:
    """The current thread's path: the identity hook's; else ``"0"`` for the main
    thread (adapters may make events before the hook is installed) and ``~n``
    in order of asking for any other."""
    path = _identity() if _identity is not None else None
    if path is not None:
        return path
    if threading.current_thread() is threading.main_thread():
        return "0"
    return f"~{next(fallbacks)}"


def _head(major: int, length: int) -> bytes:
    """A CBOR item head: major type and length, in the shortest form (as cbor2 writes it)."""
    if length < 24:
        return bytes((major << 5 | length,))
    if length < 0x100:
        return bytes((major << 5 | 24, length))
    if length < 0x10000:
        return bytes((major << 5 | 25,)) + length.to_bytes(2, "big")
    if length < 0x100000000:
        return bytes((major << 5 | 26,)) + length.to_bytes(4, "big")
    return bytes((major << 5 | 27,)) + length.to_bytes(8, "big")


_STR_HEADS = tuple(_head(3, n) for n in range(256))
_BYTES_HEADS = tuple(_head(2, n) for n in range(256))


def _encoded(codecs: CodecRegistry, data: Any) -> bytes:
    """``cbor2.dumps(codecs.to_plain(data))``, byte for byte, without the walk where it is not needed.

    Fingerprints are mostly a string, bytes, or a list of scalars (a redis
    command), some of them lists of scalars in turn (a socket call's
    ``[method, [crc, size]]``): a string's or bytes' encoding is its head and
    its bytes, and such lists are already plain. The bytes must stay exactly
    cbor2's, since recordings made before hold digests of them.
    """
    kind = type(data)
    if kind is str:
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            return cbor2.dumps(data)
        size = len(raw)
        return (_STR_HEADS[size] if size < 256 else _head(3, size)) + raw
    if kind is bytes:
        size = len(data)
        return (_BYTES_HEADS[size] if size < 256 else _head(2, size)) + data
    if kind is list and (SCALARS.issuperset(map(type, data)) or all(
            type(item) in SCALARS or (type(item) is list and SCALARS.issuperset(map(type, item)))
            for item in data)):
        return cbor2.dumps(data)
    return cbor2.dumps(codecs.to_plain(data))


def digest(codecs: CodecRegistry, data: Any) -> int:
    """A stable 32-bit digest of plain data (the argument fingerprint)."""
    return zlib.crc32(_encoded(codecs, data))


#: The secrets known at one moment: their text (longest first) and their UTF-8 bytes.
Secrets = tuple[tuple[str, ...], tuple[bytes, ...]]


def digest_as_replayed(codecs: CodecRegistry, data: Any, rules: RedactionRules) -> int:
    """The digest ``data`` will have on replay, where redacted secrets are the placeholder.

    A program that passes a secret it read (a token from the environment) on
    to a boundary passes ``<retrace:redacted>`` on replay, so the recording
    digests the arguments with the secrets replaced the same way. Checking
    the encoded bytes for a secret costs a substring search; only a call that
    holds one is encoded twice.
    """
    return _digest_with(codecs, data, secrets_of(rules))


def _digest_with(codecs: CodecRegistry, data: Any, secrets: Secrets) -> int:
    encoded = _encoded(codecs, data)
    for secret in secrets[1]:
        if secret in encoded:
            encoded = cbor2.dumps(_as_replayed(codecs.to_plain(data), secrets[0]))
            break
    return zlib.crc32(encoded)


#: The secrets of the rules last asked about: ``(replaced list, its length, secrets)``.
_known_secrets: tuple[Any, int, Secrets] = (None, 0, ((), ()))


def secrets_of(rules: RedactionRules) -> Secrets:
    """``rules.replaced`` now, made again only when a secret was added to it."""
    global _known_secrets
    replaced = rules.replaced
    known = _known_secrets
    if known[0] is replaced and known[1] == len(replaced):
        return known[2]
    texts = tuple(list(replaced))
    secrets = (texts, tuple(secret.encode("utf-8", "surrogateescape") for secret in texts))
    _known_secrets = (replaced, len(texts), secrets)
    return secrets


def _as_replayed(plain: Any, secrets: tuple[str, ...]) -> Any:
    if type(plain) is str:
        return with_placeholders(plain, secrets)
    if type(plain) is bytes:
        return with_placeholders(plain.decode("utf-8", "surrogateescape"), secrets).encode(
            "utf-8", "surrogateescape")
    if type(plain) in (list, tuple):
        return [_as_replayed(item, secrets) for item in plain]
    if type(plain) is dict:
        return {_as_replayed(k, secrets): _as_replayed(v, secrets) for k, v in plain.items()}
    return plain


def fingerprint_of(codecs: CodecRegistry, b: Boundary, instance: Any, args: Args,
                   kwargs: Kwargs, rules: RedactionRules | None = None,
                   secrets: Secrets | None = None) -> tuple[int, str | None]:
    """The argument digest of a call, and the error if the adapter's fingerprint failed.

    Record and replay compute it the same way, so a fingerprint function that
    raises (an adapter bug) gives the same digest on both sides instead of an
    error inside the program; the recorder reports it once. The recorder
    passes the session's redaction ``rules``, or the ``secrets`` they held
    when the call was made (see :func:`digest_as_replayed`).
    """
    try:
        data = b.fingerprint(instance, args, kwargs)  # type: ignore[misc]
        if secrets is not None:
            return _digest_with(codecs, data, secrets), None
        if rules is not None and rules.replaced:
            return digest_as_replayed(codecs, data, rules), None
        return zlib.crc32(_encoded(codecs, data)), None  # digest(), one call less per event
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        return zlib.crc32(text.encode()), text


def summarize(boundary: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> str | None:
    if boundary.summary is None:
        return None
    try:
        text = boundary.summary(instance, args, kwargs)
    except Exception as exc:
        text = f"<summary failed: {exc!r}>"
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def _warn_once(message: str) -> None:
    local = LOCAL
    busy, local.busy = local.busy, True  # writing our message is not the program's output
    try:
        sys.stderr.write(f"retrace: {message}\n")
    except (OSError, ValueError, AttributeError):
        pass
    finally:
        local.busy = busy


class Passthrough:
    """Nothing is recording or replaying: call the target."""

    name = "passthrough"

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        return wrapped(*args, **kwargs)


class Recorder:
    """Calls through and appends an event per boundary call.

    Per boundary the recorder keeps its id and what it learnt about the
    frames its calls come through (see :meth:`_site`), so the common event
    costs a dictionary lookup per frame up to the program's and one deque
    append, with no lock. Definitions (boundaries, call sites, summaries,
    threads) are appended under the lock, before the id they define is
    published, so no thread can use an id whose definition is not already in
    the stream.
    """

    name = "record"
    #: How far above :meth:`call` the program's frame is (past the boundary's wrapper).
    _depth = 2

    def __init__(self, writer: trace.TraceWriter, codecs: CodecRegistry,
                 on_stop: Callable[[str], None]) -> None:
        self.writer = writer
        self.codecs = codecs
        self._on_stop = on_stop
        #: The session's redaction rules: fingerprints are digested as replay will see them.
        self.redaction: RedactionRules | None = None
        self._local = LOCAL
        self._lock = threading.RLock()
        self._counter = itertools.count()
        self._boundaries: dict[Boundary, _Known] = {}
        self._site_ids: dict[tuple[str, int], int] = {}
        self._summary_ids: dict[str, int] = {}
        self._summary_keys: dict[Boundary, dict[Any, int]] = {}
        self._fingerprint_failed: set[Boundary] = set()
        self._keys = ThreadKeys()
        self._threads = 0
        self._fallbacks = itertools.count()
        self.stopped: str | None = None

    @property
    def events(self) -> int:
        """Events recorded so far."""
        return int(repr(self._counter)[6:-1])  # "count(N)": read without advancing

    def thread_key(self) -> int:
        """This thread's key; its path is defined in the trace before its first event."""
        keys = self._keys
        key = keys.key
        if key is None:
            path = thread_path(self._fallbacks)
            with self._lock:
                key = self._threads
                self._threads += 1
                self.writer.records.append((0, trace.DEF_THREAD, key, None, path))
                keys.key, keys.path = key, path
        return key

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        state = LOCAL.__dict__  # this thread's flags (see _Local)
        if state["busy"] or (b.timing and state["library"]) or (
                b.passthrough is not None and b.passthrough(instance, args, kwargs)):
            return wrapped(*args, **kwargs)
        fp: Any = None
        if b.fingerprint is not None:
            fp = self._fingerprint(b, instance, args, kwargs)
        state["busy"] = True
        try:
            result = wrapped(*args, **kwargs) if kwargs else wrapped(*args)  # no copy of {}
        except BaseException as exc:
            state["busy"] = False
            self._event(b, fp, 1, exc, sys._getframe(self._depth - 1), instance, args, kwargs)
            raise
        state["busy"] = False
        # The common case, inlined: a scalar outcome of a known boundary.
        known = self._boundaries.get(b)
        if known is not None and b.encode is None and type(result) in SCALARS and (
                self.stopped is None):
            caller = sys._getframe(self._depth)
            direct = known[2].get(id(caller.f_code))
            sid = direct[1].get(caller.f_lasti) if direct is not None else None
            if sid is None:
                sid = self._site(b, known, sys._getframe(self._depth - 1))
            key = self._keys.key
            if key is None:
                key = self.thread_key()
            records = self.writer.records
            records += (key, known[0] * 2, sid, fp, result)  # see trace.RecordBuffer
            next(self._counter)
            if len(records) >= trace.FLUSH_ITEMS:  # writer.due(), one call less per event
                self.flush()
            return result
        self._event(b, fp, 0, result, sys._getframe(self._depth - 1), instance, args, kwargs)
        return result

    def ordered(self, b: Boundary, fp: Any, wrapped: Callable[..., Any], instance: Any, args: Args,
                kwargs: Kwargs, guard: Any = None) -> Any:
        """Record an ordered call: append before or after the real call (see :class:`Boundary`).

        ``guard`` (a raw lock) makes the append and the call one step for
        calls that do not exclude each other by themselves: two writers, two
        putters on one queue. Without it the trace could hold two writes in
        one order and the stream in the other.
        """
        local = self._local
        if local.busy or self.stopped is not None:
            return wrapped(*args, **kwargs)
        if guard is not None:
            with guard:
                return self._ordered(b, fp, wrapped, instance, args, kwargs, local)
        return self._ordered(b, fp, wrapped, instance, args, kwargs, local)

    def _ordered(self, b: Boundary, fp: Any, wrapped: Callable[..., Any], instance: Any,
                 args: Args, kwargs: Kwargs, local: _Local) -> Any:
        key = self._keys.key
        if key is None:
            key = self.thread_key()
        known = self._boundaries.get(b)
        if known is None:
            known = self._define(b)
        sid = self._site(b, known, sys._getframe(2))
        records = self.writer.records
        if b.ordered == "before":
            records += (key, known[0] * 2, sid, fp, None)
            next(self._counter)
            local.busy = True
            try:
                return wrapped(*args, **kwargs)
            finally:
                local.busy = False
                if self.writer.due():
                    self.flush()
        local.busy = True
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            local.busy = False
            records += (key, known[0] * 2 + 1, sid, fp, type(exc).__name__)
            next(self._counter)
            raise
        local.busy = False
        value = None
        if b.encode is not None:
            try:
                value = b.encode(result, instance, args, kwargs)
            except Exception as exc:  # an adapter bug: the program still gets its result
                self.stop(f"encoding the outcome of {b.name} failed: {exc!r}")
                return result
        records += (key, known[0] * 2, sid, fp, value)
        next(self._counter)
        if self.writer.due():
            self.flush()
        return result

    def later(self, b: Boundary, args: Args, make: Callable[[], Any]) -> Later | None:
        """Record a call that already returned, its fingerprint and outcome to be made later.

        ``args`` are what ``b.fingerprint`` digests and ``make()`` gives the
        outcome; neither may change meanwhile (see :mod:`retrace.later`). The
        site, the thread and the summary are taken now. None means nothing was
        recorded and the caller records the call itself, with :meth:`call`.
        """
        state = LOCAL.__dict__
        if state["busy"] or self.stopped is not None or b.encode is not None or (
                b.timing and state["library"]) or (
                b.passthrough is not None and b.passthrough(None, args, {})):
            return None
        summary = self._summary(b, None, args, {}) if b.summary is not None else None
        known = self._boundaries.get(b)
        if known is None:
            known = self._define(b)
        rules = self.redaction
        secrets = secrets_of(rules) if rules is not None and rules.replaced else None
        later = Later(self, b, args, secrets, summary, make, next(self._counter))
        sid = self._site(b, known, sys._getframe(1))
        key = self._keys.key
        if key is None:
            key = self.thread_key()
        writer = self.writer
        writer.pending = True
        records = writer.records
        records += (key, known[0] * 2, sid, later, later)
        pending = state["later"]
        if pending is None:
            state["later"] = [later]
        else:
            pending.append(later)
            if len(pending) >= MAX_LATER:  # no send comes (a stream of fetches): make them now
                settle()
        if len(records) >= trace.FLUSH_ITEMS:
            self.flush()
        return later

    def digest_later(self, b: Boundary, args: Args, secrets: Secrets | None) -> int:
        """The argument digest of a :meth:`later` call (reported as :meth:`call` reports it),
        with the ``secrets`` known when it was made (see :func:`digest_as_replayed`)."""
        fp, error = fingerprint_of(self.codecs, b, None, args, {}, secrets=secrets)
        if error is not None:
            self._fingerprint_failed_once(b, error)
        return fp

    def _fingerprint_failed_once(self, b: Boundary, error: str) -> None:
        if b not in self._fingerprint_failed:
            self._fingerprint_failed.add(b)
            _warn_once(f"the fingerprint of {b.name} failed ({error}); replay checks its "
                       "arguments less precisely. This is a bug in the adapter.")

    def _define(self, b: Boundary) -> _Known:
        with self._lock:
            known = self._boundaries.get(b)
            if known is None:
                known = (len(self._boundaries), {}, {})
                self.writer.records.append((0, trace.DEF_BOUNDARY, known[0], None, b.name))
                self._boundaries[b] = known
        return known

    def _site(self, b: Boundary, known: _Known, frame: Any) -> int:
        """The site id of the call whose innermost frame above the recorder is ``frame``.

        ``known[1]`` maps ``id(code)`` to ``(code, None)`` for retrace's, the
        adapter's and the library's code, and to ``(code, {offset: site id})``
        for the program's; an entry keeps its code alive, so the id is not
        reused while it is there. Walking up to the program's frame then costs
        one lookup of an int per frame (a code object's hash is computed from
        its contents at every lookup: up to 0.2 µs for a large function); only
        code not seen before is classified. A psycopg query's site is eight
        frames up. The program's frames found right above ``frame`` (direct
        calls: the clock) also go into ``known[2]``, which :meth:`call` looks
        at first.
        """
        frames = known[1]
        start = frame
        while frame is not None:
            code = frame.f_code
            seen = frames.get(id(code))
            if seen is None:
                seen = frames[id(code)] = (code, None if CallSites.internal(frame, b.library)
                                                 else {})
            offsets = seen[1]
            if offsets is not None:
                sid = offsets.get(frame.f_lasti)
                if sid is None:
                    sid = offsets[frame.f_lasti] = self._site_id(CallSites.site_of(frame))
                if frame is start.f_back:
                    known[2][id(code)] = seen
                return sid
            frame = frame.f_back
        return self._site_id(("<unknown>", 0))

    def _site_id(self, site: tuple[str, int]) -> int:
        with self._lock:
            sid = self._site_ids.get(site)
            if sid is None:
                sid = len(self._site_ids)
                self.writer.records.append((0, trace.DEF_SITE, sid, None, [site[0], site[1]]))
                self._site_ids[site] = sid
        return sid

    def _fingerprint(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        fp: Any
        fp, error = fingerprint_of(self.codecs, b, instance, args, kwargs, self.redaction)
        if error is not None:
            self._fingerprint_failed_once(b, error)
        if b.summary is not None:
            fp = trace.with_summary(fp, self._summary(b, instance, args, kwargs))
        return fp

    def _summary(self, b: Boundary, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        """The call's interned summary, made only for a summary key not seen before."""
        if b.summary_key is None:
            return self._intern_summary(summarize(b, instance, args, kwargs) or "")
        by_key = self._summary_keys.get(b)
        if by_key is None:
            by_key = self._summary_keys.setdefault(b, {})
        try:
            key = b.summary_key(instance, args, kwargs)
            known = by_key.get(key) if key is not None else None
        except Exception:  # an unhashable key: an adapter's slip, the summary still comes
            key = known = None
        if known is not None:
            return known
        interned = self._intern_summary(summarize(b, instance, args, kwargs) or "")
        if key is not None and type(interned) is int and len(by_key) < 65536:
            by_key[key] = interned
        return interned

    def _intern_summary(self, text: str) -> Any:
        known = self._summary_ids.get(text)
        if known is not None:
            return known
        if len(self._summary_ids) >= 65536:
            return text
        with self._lock:
            known = self._summary_ids.get(text)
            if known is None:
                known = len(self._summary_ids)
                self.writer.records.append((0, trace.DEF_SUMMARY, known, None, text))
                self._summary_ids[text] = known
        return known

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
        known = self._boundaries.get(b)
        if known is None:
            known = self._define(b)
        sid = self._site(b, known, frame)
        key = self._keys.key
        if key is None:
            key = self.thread_key()
        records = self.writer.records
        records += (key, known[0] * 2 + raised, sid, fp, value)
        next(self._counter)
        if len(records) >= trace.FLUSH_ITEMS:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered; a failed write or the size limit stops the recording."""
        writer = self.writer
        writer.flush()
        if writer.failure is not None:
            self.stop(f"writing the trace failed: {writer.failure}")
        elif writer.limit is not None and writer.written >= writer.limit:
            self.stop(f"the trace reached RETRACE_MAX_BYTES ({writer.limit} bytes)")

    def stop(self, reason: str) -> None:
        """Stop recording for good: the trace ends here, marked incomplete."""
        with self._lock:
            if self.stopped is not None:
                return
            self.stopped = reason
            self.writer.records.append((0, trace.STOPPED, self.events, None, reason))
        self.writer.flush()
        self._on_stop(reason)


#: Debuggers, whose own code makes boundary calls during a replay: from their
#: threads (debugpy polls with ``time.sleep``) and from expressions a user
#: types into a debug console. Those calls are not the program's. Modules
#: whose name starts with a prefix (debugpy's vendored pydevd, retrace's own
#: time-travel debugger), or is a name.
DEBUGGER_PREFIXES = ("pydevd", "_pydevd", "_pydev_", "debugpy", "retrace.timetravel")
DEBUGGER_NAMES = ("bdb", "pdb")
_PROGRAM, _DEBUGGER, _NEUTRAL = 1, 2, 0


def is_debugger_module(module: str) -> bool:
    """Whether code of the module named ``module`` is a debugger's."""
    return module in DEBUGGER_NAMES or module.startswith(DEBUGGER_PREFIXES)


class DebuggerFrames:
    """Tells a debugger's boundary calls from the program's by walking up the stack.

    The walk stops at the first frame that is a debugger's (its call) or
    retrace's launcher or session (the program's call: the program and the
    adapters' start-up run below them). A thread with neither is the program's. Frames are
    classified once per code object.
    """

    def __init__(self) -> None:
        self._kinds: dict[Any, int] = {}

    @staticmethod
    def active() -> bool:
        modules = sys.modules  # two lookups, not a generator: this runs on every replayed call
        return "pydevd" in modules or "bdb" in modules

    def _kind(self, frame: Any) -> int:
        module = frame.f_globals.get("__name__") or ""
        if module in ("retrace.launcher", "retrace.session"):
            return _PROGRAM
        if is_debugger_module(module):
            return _DEBUGGER
        return _NEUTRAL

    def called_by_debugger(self, frame: Any) -> bool:
        kinds = self._kinds
        while frame is not None:
            kind = kinds.get(frame.f_code)
            if kind is None:
                kind = kinds[frame.f_code] = self._kind(frame)
            if kind:
                return kind == _DEBUGGER
            frame = frame.f_back
        return False


class TimingRecorder(Recorder):
    """A recorder that also writes how long each real call took (``RETRACE_TIMINGS=1``).

    After each event it appends a ``TIMING`` record for the same thread:
    readers pair it with that thread's previous event, and readers that do
    not know it skip it. The time is the wrapped call alone, not retrace's
    own work around it. It costs a closure and two clock reads per event, so
    it is off unless asked for.
    """

    _depth = 3  # this call() is one more frame between the wrapper and Recorder.call

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        if self._local.busy or (b.timing and self._local.library) or self.stopped is not None or (
                b.passthrough is not None and b.passthrough(instance, args, kwargs)):
            return Recorder.call(self, b, wrapped, instance, args, kwargs)
        spent = [0]

        def timed(*a: Any, **k: Any) -> Any:
            start = _ns()
            try:
                return wrapped(*a, **k)
            finally:
                spent[0] = _ns() - start

        try:
            return Recorder.call(self, b, timed, instance, args, kwargs)
        finally:
            if self.stopped is None:
                records = self.writer.records
                records += (self._keys.key, trace.TIMING, spent[0], None, None)

    def later(self, b: Boundary, args: Args, make: Callable[[], Any]) -> Later | None:
        """Never deferred: the timing record must follow its event's own."""
        return None


_ns = time.perf_counter_ns  # taken before any patch


class Replayer:
    """Serves every boundary call from the recording.

    Calls a debugger makes (see :class:`DebuggerFrames`) run for real.
    """

    name = "replay"

    def __init__(self, cursor: Cursor, codecs: CodecRegistry) -> None:
        self.cursor = cursor
        self.codecs = codecs
        self._local = LOCAL
        self._debugger = DebuggerFrames()

    def call(self, b: Boundary, wrapped: Callable[..., Any], instance: Any, args: Args,
             kwargs: Kwargs) -> Any:
        state = LOCAL.__dict__  # this thread's flags (see _Local)
        library = state["library"]
        if state["busy"] or (b.timing and library) or (
                b.passthrough is not None and b.passthrough(instance, args, kwargs)):
            return wrapped(*args, **kwargs)
        modules = sys.modules  # DebuggerFrames.active(), inlined: this runs on every event
        if ("pydevd" in modules or "bdb" in modules) and self._debugger.called_by_debugger(
                sys._getframe(1)):
            return wrapped(*args, **kwargs)
        if b.on_replay is not None:  # what the call does first (input's prompt), before the
            state["busy"] = True     # handlers of signals that arrived during it
            try:
                b.on_replay(instance, args, kwargs)
            finally:
                state["busy"] = False
        if library:
            raised, value = self.cursor.library_take(b, None, instance, args, kwargs,
                                                     sys._getframe(1))
        else:
            raised, value = self.cursor.take(b, instance, args, kwargs)
        if type(value) not in SCALARS or (not raised and b.decode is not None):
            state["busy"] = True  # rebuilding the outcome is retrace's own work
            try:
                try:
                    if type(value) not in SCALARS:
                        value = self.codecs.materialize(value)
                    if not raised and b.decode is not None:
                        value = b.decode(value, instance, args, kwargs)
                except Exception as exc:  # the trace's fault: stop, never raise it into the program
                    self.cursor.unreadable(b, exc)
            finally:
                state["busy"] = False
        if raised:
            raise value
        return value

    def ordered(self, b: Boundary, fp: Any, wrapped: Callable[..., Any], instance: Any, args: Args,
                kwargs: Kwargs, guard: Any = None) -> Any:
        """Wait for this call's turn, perform it for real, then let the next event go."""
        local = self._local
        if local.busy or (DebuggerFrames.active()
                          and self._debugger.called_by_debugger(sys._getframe(1))):
            return wrapped(*args, **kwargs)
        cursor = self.cursor
        raised, recorded = cursor.hold(b, fp, instance, args, kwargs, sys._getframe(1))
        local.busy = True
        try:
            if b.perform is not None:
                result = b.perform(raised, recorded, wrapped, instance, args, kwargs)
            else:
                result = wrapped(*args, **kwargs)
        except Blocked as exc:
            cursor.blocked(b, str(exc))
            raise
        except BaseException as exc:
            if b.ordered == "after" and not raised:
                cursor.outcome_differs(b, "returned", f"raised {type(exc).__name__}: {exc}")
            cursor.advance()
            raise
        finally:
            local.busy = False
        if b.ordered == "after":
            if raised:
                cursor.outcome_differs(b, f"raised {recorded}", "returned")
            if recorded is not None and b.encode is not None:
                actual = b.encode(result, instance, args, kwargs)
                if actual != recorded:
                    cursor.outcome_differs(b, f"returned {recorded!r}", f"returned {actual!r}")
        cursor.advance()
        if cursor.has_interruptions:
            cursor.interruptions_due()
        return result


_mode: Passthrough | Recorder | Replayer = Passthrough()


def active() -> Passthrough | Recorder | Replayer:
    """The mode every patched call goes to now."""
    return _mode


def set_mode(mode: Passthrough | Recorder | Replayer) -> None:
    global _mode
    _mode = mode


def wrapper_for(boundary: Boundary) -> Callable[[Any, Any, Args, Kwargs], Any]:
    """The wrapper (wrapt's convention) that sends calls of ``boundary`` to the active mode."""
    if boundary.ordered is not None:
        return _ordered_wrapper(boundary)

    def retrace_boundary(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        if LOCAL.busy:  # inside another boundary call: every mode calls through
            return wrapped(*args, **kwargs)
        return _mode.call(boundary, wrapped, instance, args, kwargs)

    return retrace_boundary


class StandIn:
    """A patch object standing in for a callable that does not bind (a builtin, a bound
    method): it answers ``isinstance`` and ``inspect.isbuiltin``, pickles and copies as the
    original does (by its module and name, which is what they hold), and says what it is."""

    __slots__ = ("_original",)
    _original: Any

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._original)

    def __reduce__(self) -> Any:
        return self._original.__reduce__()

    def __repr__(self) -> str:
        return f"<retrace patch of {self._original!r}>"


class BuiltinPatch(StandIn):
    """What a module's builtin function (``time.time``, ``os.getpid``) is patched with.

    It sends every call straight to the active mode, as ``retrace_boundary``
    does under a wrapper, with the same arguments (no instance); its
    ``__call__`` is the one frame between the program and the mode, where a
    wrapper costs a call that builds the wrapper's arguments and then that
    frame: about 900 instructions per clock read. Like the builtin, and
    unlike a Python function, it does not bind as a method when a class
    stores it (``class Job: clock = time.monotonic``); it carries the
    builtin's ``__wrapped__`` and names, so ``inspect.signature`` and adapters
    that look for the real function find it. The modes check the busy flag
    themselves.
    """

    __slots__ = ("__dict__", "_boundary")

    def __init__(self, boundary: Boundary, original: Callable[..., Any]) -> None:
        self._boundary = boundary
        self._original = original
        functools.update_wrapper(self, original)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _mode.call(self._boundary, self._original, None, args, kwargs)


def _ordered_wrapper(boundary: Boundary) -> Callable[[Any, Any, Args, Kwargs], Any]:
    fingerprint = boundary.fingerprint

    def retrace_ordered(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        mode = _mode
        if type(mode) is Passthrough or LOCAL.busy:  # every mode calls through when busy
            return wrapped(*args, **kwargs)
        fp = None
        if fingerprint is not None:
            fp = digest(mode.codecs, fingerprint(instance, args, kwargs))  # type: ignore[union-attr]
        return mode.ordered(boundary, fp, wrapped, instance, args, kwargs)  # type: ignore[union-attr]

    return retrace_ordered


def ordered(boundary: Boundary, fp: int | None, function: Callable[..., Any], *args: Any,
            guard: Any = None) -> Any:
    """Run ``function(*args)`` as an ordered call of ``boundary`` in the active mode.

    For adapters whose objects are their own wrappers (a recorded lock, an
    output stream): ``fp`` is their precomputed fingerprint (a 32-bit digest
    such as ``zlib.crc32``'s, or None), so the hot path digests nothing. A
    larger int would read as a digest with a summary (see
    :func:`retrace.trace.with_summary`). ``guard`` is a raw lock held
    around the append and the call while recording (see
    :meth:`Recorder.ordered`).
    """
    mode = _mode
    if type(mode) is Passthrough or LOCAL.busy:  # every mode calls through when busy
        return function(*args)
    return mode.ordered(boundary, fp, function, None, args, {}, guard)  # type: ignore[union-attr]


def call(boundary: Boundary, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function(*args, **kwargs)`` as a call of ``boundary`` in the active mode.

    For adapters whose boundary is not a patched callable: a seed drawn at
    start-up, a value computed from several library calls.
    """
    return _mode.call(boundary, function, None, args, kwargs)


def settle() -> None:
    """Make the contents of this thread's :meth:`Recorder.later` events now.

    For adapters, at a moment the thread would wait anyway: right after it
    sent a request, while the server works on it. Retrace's own work, so
    nothing it reaches is recorded.
    """
    state = LOCAL.__dict__
    pending = state["later"]
    if pending is None:
        return
    state["later"] = None
    busy = state["busy"]
    state["busy"] = True
    try:
        for later in pending:
            later.settle()
    finally:
        state["busy"] = busy


def _forget_later_in_child() -> None:
    """A forked child makes none of its parent's events (they are the parent's to write), and
    takes the lock events are made under afresh (a thread of the parent may have held it)."""
    LOCAL.later = None
    forget_after_fork()


os.register_at_fork(after_in_child=_forget_later_in_child)


@contextlib.contextmanager
def in_flight() -> Iterator[None]:
    """Treat the block as part of a boundary call in flight on this thread.

    Boundaries reached inside pass through (record) and are not served from
    the trace (replay), as inside any boundary call. For adapters whose
    boundary is not one Python call: a generator the library drives step by
    step runs each step inside this block, so what the library does meanwhile
    (reading the clock, ``os.getpid()``) is not recorded as the program's own.
    """
    local = LOCAL
    if local.busy:
        yield
        return
    local.busy = True
    try:
        yield
    finally:
        local.busy = False
