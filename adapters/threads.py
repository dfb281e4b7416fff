"""Threads: stable identities from the spawn tree, and synchronisation in the recorded order.

**Identities.** ``Thread.__init__`` gives the new thread a path in the thread
creating it: the main thread is ``"0"``, its third created thread ``"0.3"``,
that thread's first ``"0.3.1"``. The path is kept on the ``Thread`` object (tagged with the
session, so a thread that outlives one session is not named by it in the
next) and the core writes it once per thread, so a replayed thread takes
exactly its recorded twin's events whatever order threads first run in.

**Synchronisation.** For the session, ``threading.Lock``, ``threading.RLock``
and ``threading._allocate_lock`` (the waiter lock of ``Condition.wait``)
make locks whose ``acquire``/``release``/``locked`` are *ordered* boundaries;
``Condition``, ``Semaphore``, ``Event``, ``Barrier``, ``Timer`` and every
``queue.Queue`` kind are built on them, so their order is recorded with no
patch of their own. ``queue.SimpleQueue`` (a C type, the work queue of
``ThreadPoolExecutor``) is replaced by a subclass whose ``put``/``get`` are
ordered. ``Thread.start`` and ``Thread.join`` are ordered too. Replay
performs each of these calls for real at its recorded turn, so which worker
runs which task, which consumer gets which item and in what order results
arrive are the recorded ones.

Locks made while a boundary call is in flight (``Thread`` internals, which
``Thread.__init__`` runs under ``busy``; retrace's own, made before any
patch or with ``_thread.allocate_lock``) are plain locks and never events.

**Thread ids.** ``threading.get_ident()`` and ``Thread.ident`` are pthread
addresses, new in every process; ``logging``'s ``%(thread)d`` prints them.
Asked by the program (or by ``logging``), a thread's ident is a boundary the
first time each thread asks for it, answered from the trace afterwards;
``threading`` itself, and every other library, gets the real one (it keys
``threading._active`` and the debugger's tables).

Timeouts replay as recorded: a wait that timed out (``acquire(timeout=)``,
``Condition.wait(timeout)``, ``Event.wait(timeout)``, ``Timer``) returns at
once on replay with the recorded result; a wait that succeeded is performed
and must succeed at its turn, within ``RETRACE_REPLAY_TIMEOUT``, or the replay
stops with a report.
"""

from __future__ import annotations

import _queue
import _thread
import functools
import queue
import sys
import threading
import time
import zlib
from typing import Any

from retrace import Adapter, Boundary, Patch, library_threads, patchforms, runtime, serial
from retrace.boundary import Args, Kwargs
from retrace.errors import Blocked
from retrace.snapshot import is_program_file

LIBRARY = ("threading", "queue", "concurrent.futures", "_threading_local")
_raw_lock = _thread.allocate_lock
_RawRLock = _thread.RLock
_RawSimpleQueue = _queue.SimpleQueue
_monotonic = time.monotonic
_real_monotonic = getattr(time.monotonic, "__wrapped__", time.monotonic)


class _Session:
    """Per-session naming state: which session tags a path, children and locks per thread."""

    generation = 0
    timeout = 10.0
    #: Module prefixes whose synchronisation is recorded like the program's (Adapter.coordinating).
    coordinating: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.children: dict[str, int] = {}
        self.mutex = _raw_lock()
        self.made = threading.local()


_state = _Session()


def identity() -> str | None:
    """The current thread's path in this session, or None (the core then uses first-event order)."""
    thread = threading.current_thread()
    tagged = getattr(thread, "_retrace_path", None)
    if tagged is not None and tagged[0] == _state.generation:
        path: str = tagged[1]
        return path
    if thread is threading.main_thread():
        return "0"
    return None


def _object_fingerprint() -> int:
    """A stable fingerprint for a new lock or queue: its creator's path and creation count."""
    made = _state.made
    n = getattr(made, "count", 0) + 1
    made.count = n
    return zlib.crc32(f"{identity() or '?'}/{n}".encode())


# -- performing ordered calls on replay ------------------------------------------------
def _recorded_answer(raised: int, recorded: Any, wrapped: Any, instance: Any, args: Args,
                     kwargs: Kwargs) -> Any:
    """An observation (``locked()``, ``qsize()``) answers what it saw when recorded."""
    return recorded


def _perform_acquire(raised: int, recorded: Any, wrapped: Any, instance: Any, args: Args,
                     kwargs: Kwargs) -> Any:
    if raised:
        return wrapped(*args, **kwargs)
    if not recorded:
        return False  # it failed or timed out when recorded: answer at once, touch nothing
    if wrapped(True, _state.timeout):
        return True
    raise Blocked("the lock was free at this point when recorded, and is held here")


def _perform_restore(raised: int, recorded: Any, wrapped: Any, instance: Any, args: Args,
                     kwargs: Kwargs) -> Any:
    lock = wrapped.__self__
    count = args[0][0] if args and args[0] else 1
    if not lock.acquire(True, _state.timeout):
        raise Blocked("the condition's lock was free at this point when recorded, and is held here")
    for _ in range(count - 1):
        lock.acquire()


def _perform_get(raised: int, recorded: Any, wrapped: Any, instance: Any, args: Args,
                 kwargs: Kwargs) -> Any:
    if raised:
        raise queue.Empty
    try:
        return wrapped(args[0], True, _state.timeout)
    except queue.Empty:
        raise Blocked("the queue had an item at this point when recorded, and is empty here") from None


def _perform_join(raised: int, recorded: Any, wrapped: Any, instance: Any, args: Args,
                  kwargs: Kwargs) -> Any:
    if recorded:
        return True  # the thread was still running when this join returned
    if wrapped(_state.timeout):
        raise Blocked("the joined thread had ended at this point when recorded, and runs on here")
    return False


def _as_is(result: Any, *_: Any) -> Any:
    return result


def _nothing(result: Any, *_: Any) -> Any:
    return None


ACQUIRE = Boundary("threading.Lock.acquire", ordered="after", encode=_as_is,
                   perform=_perform_acquire, mismatch="sync", library=LIBRARY)
RELEASE = Boundary("threading.Lock.release", ordered="before", mismatch="sync", library=LIBRARY)
LOCKED = Boundary("threading.Lock.locked", ordered="after", encode=_as_is,
                  perform=_recorded_answer, mismatch="sync", library=LIBRARY)
RACQUIRE = Boundary("threading.RLock.acquire", ordered="after", encode=_as_is,
                    perform=_perform_acquire, mismatch="sync", library=LIBRARY)
RRELEASE = Boundary("threading.RLock.release", ordered="before", mismatch="sync", library=LIBRARY)
RRELEASE_SAVE = Boundary("threading.RLock.release (Condition.wait)", ordered="before",
                         mismatch="sync", library=LIBRARY)
RACQUIRE_RESTORE = Boundary("threading.RLock.acquire (Condition.wait)", ordered="after",
                            encode=_nothing, perform=_perform_restore, mismatch="sync",
                            library=LIBRARY)
PUT = Boundary("queue.SimpleQueue.put", ordered="before", mismatch="sync", library=LIBRARY)
GET = Boundary("queue.SimpleQueue.get", ordered="after", encode=_nothing, perform=_perform_get,
               mismatch="sync", library=LIBRARY)
QSIZE = Boundary("queue.SimpleQueue.qsize", ordered="after", encode=_as_is,
                 perform=_recorded_answer, mismatch="sync", library=LIBRARY)
START = Boundary("threading.Thread.start", ordered="before", mismatch="sync", library=LIBRARY)
ALIVE = Boundary("threading.Thread.is_alive", ordered="after", encode=_as_is,
                 perform=_recorded_answer, mismatch="sync", library=LIBRARY)
JOIN = Boundary("threading.Thread.join", ordered="after", encode=_as_is, perform=_perform_join,
                mismatch="sync", library=LIBRARY)


# -- recorded locks ---------------------------------------------------------------------
class RecordedLock:
    """A ``threading.Lock`` whose operations are ordered boundaries."""

    __slots__ = ("__weakref__", "_fp", "_lock")
    _ACQUIRE = ACQUIRE
    _RELEASE = RELEASE

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._fp = _object_fingerprint()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired: bool = runtime.ordered(self._ACQUIRE, self._fp, self._lock.acquire, blocking,
                                         timeout)
        return acquired

    def release(self) -> None:
        runtime.ordered(self._RELEASE, self._fp, self._lock.release)

    def locked(self) -> bool:
        held: bool = runtime.ordered(LOCKED, self._fp, self._lock.locked)
        return held

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()

    def __repr__(self) -> str:
        return f"<recorded {self._lock!r}>"


class RecordedRLock(RecordedLock):
    """A ``threading.RLock`` whose operations are ordered boundaries, ``Condition``-ready."""

    __slots__ = ()
    _ACQUIRE = RACQUIRE
    _RELEASE = RRELEASE

    def _is_owned(self) -> bool:
        owned: bool = self._lock._is_owned()
        return owned

    def _release_save(self) -> Any:
        return runtime.ordered(RRELEASE_SAVE, self._fp, self._lock._release_save)

    def _acquire_restore(self, state: Any) -> None:
        runtime.ordered(RACQUIRE_RESTORE, self._fp, self._lock._acquire_restore, state)

    def _recursion_count(self) -> int:
        count: int = self._lock._recursion_count()
        return count


# retrace.patchforms: the frame a patch adds between a call and its wrapper.
_SYNC_MODULES = ("threading", "queue", "concurrent.futures.thread", "concurrent.futures._base",
                 "retrace.patchforms")
#: code object -> True (the program's), False (a library's), None (a synchronisation module:
#: look at its caller).
_creators: dict[Any, bool | None] = {}


def _made_by_program() -> bool:
    """Whether the primitive being made belongs to the program.

    A lock, condition or queue a library makes for itself (a connection pool's,
    ``logging``'s handler lock) guards the library's internals: its order is the
    library's business, and on replay, where the library talks to no server, it
    takes other paths. Recording it would make replay wait for acquisitions that
    never come. So only primitives whose maker — the first frame outside
    ``threading``, ``queue`` and ``concurrent.futures`` — is a program file are
    recorded; an executor the program makes is the program's, with its queue and locks.
    """
    frame: Any = sys._getframe(2)
    creators = _creators
    while frame is not None:
        code = frame.f_code
        verdict = creators.get(code, 0)
        if verdict == 0:
            module = frame.f_globals.get("__name__") or ""
            verdict = creators[code] = (
                None if module in _SYNC_MODULES or code is _FUTURE_INIT
                else is_program_file(code.co_filename) or module.startswith(_state.coordinating)
            )
        if verdict is not None:
            return bool(verdict)
        frame = frame.f_back
    return False


def _guarding_lock(primitive: Any) -> Any:
    """The lock under a Queue, Condition or Semaphore (whichever ``primitive`` is)."""
    lock = getattr(primitive, "mutex", None)  # queue.Queue and its kinds
    if lock is None:
        cond = getattr(primitive, "_cond", primitive)  # Semaphore, Barrier -> Condition
        lock = getattr(cond, "_lock", None)
    return lock


def _timeout_clock() -> float:
    """``threading._time`` and ``queue.time`` during a session: the clock their timeouts read.

    A program's queue or condition waits at its recorded turns, and the loop
    around the wait (``Queue.get(timeout=)``, ``Condition.wait_for``) must see
    the recorded times to end where it ended: the clock is a boundary there.
    A library's own queue (a pool's task queue) is not recorded, so how often
    its worker loops depends on the scheduler; recording those reads would put
    a scheduler-dependent number of clock events in that thread's trace. They
    read the real clock.
    """
    lock = _guarding_lock(sys._getframe(1).f_locals.get("self"))
    if isinstance(lock, RecordedLock):
        return float(time.monotonic())
    return _real_monotonic()


class _LockFactory(type):
    """Calling the class makes a recorded lock (a plain one while a boundary call is in
    flight, or for a library); ``isinstance`` accepts both, as ``threading.Lock`` (a class
    since 3.13) does."""

    def __call__(cls) -> Any:
        if runtime.LOCAL.busy or not _made_by_program():
            return _raw_lock()
        return RecordedLock(_raw_lock())

    def __instancecheck__(cls, instance: Any) -> bool:
        return type(instance) is RecordedLock or isinstance(instance, _thread.LockType)


class Lock(metaclass=_LockFactory):
    """``threading.Lock`` during a session."""


def make_rlock(*args: Any, **kwargs: Any) -> Any:
    """``threading.RLock()`` during a session."""
    if runtime.LOCAL.busy or not _made_by_program():
        return _RawRLock()
    return RecordedRLock(_RawRLock())


# -- recorded SimpleQueue ---------------------------------------------------------------
def _found_empty(queue_: Any, block: bool) -> Any:
    """A get that could not take its turn among the getters: the queue was empty for it.

    Touching the queue here would race with the getter holding the guard,
    and the trace could hold the two gets in the other order.
    """
    raise queue.Empty



class _SimpleQueueFactory(type):
    """``queue.SimpleQueue()`` makes a recorded queue for the program, a plain one otherwise;
    ``isinstance`` accepts both."""

    def __call__(cls) -> Any:
        if runtime.LOCAL.busy or not _made_by_program():
            return _RawSimpleQueue()
        return super().__call__()

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, _RawSimpleQueue)


class RecordedSimpleQueue(_RawSimpleQueue, metaclass=_SimpleQueueFactory):
    """``queue.SimpleQueue`` during a session: ``put`` and ``get`` are ordered boundaries.

    While recording, puts hold one lock and gets another across the call and
    its event, so the trace holds puts and gets in the order the queue saw
    them (two getters would otherwise race between taking an item and
    appending their event).
    """

    __slots__ = ("_retrace_fp", "_retrace_gets", "_retrace_puts")

    def __init__(self) -> None:
        self._retrace_fp = _object_fingerprint()
        self._retrace_puts = _raw_lock()
        self._retrace_gets = _raw_lock()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        runtime.ordered(PUT, self._retrace_fp, _RawSimpleQueue.put, self, item,
                        guard=self._retrace_puts)

    def put_nowait(self, item: Any) -> None:
        self.put(item, False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if runtime.LOCAL.busy or runtime.active().name != "record":
            return runtime.ordered(GET, self._retrace_fp, _RawSimpleQueue.get, self, block, timeout)
        serial.pause()  # never wait for the guard while holding the serial baton
        started = _monotonic()
        got = (self._retrace_gets.acquire(True, -1 if timeout is None else max(timeout, 0))
               if block else self._retrace_gets.acquire(False))
        if not got:  # another getter waits for an item: this one finds none
            return runtime.ordered(GET, self._retrace_fp, _found_empty, self, False)
        try:
            if timeout is not None:
                timeout = max(timeout - (_monotonic() - started), 0)
            return runtime.ordered(GET, self._retrace_fp, _RawSimpleQueue.get, self, block, timeout)
        finally:
            self._retrace_gets.release()

    def get_nowait(self) -> Any:
        return self.get(False)

    def qsize(self) -> int:
        size: int = runtime.ordered(QSIZE, self._retrace_fp, _RawSimpleQueue.qsize, self)
        return size

    def empty(self) -> bool:
        return self.qsize() == 0


# -- futures ----------------------------------------------------------------------------
def _future_init(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> None:
    wrapped(*args, **kwargs)
    made = _state.made
    n = getattr(made, "futures", 0) + 1
    made.futures = n
    instance._retrace_hash = hash(f"{identity() or '?'}/future/{n}")


#: Looked through when deciding who made a primitive: a future's condition is its maker's
#: (an executor the program made is the program's, see _made_by_program), not this wrapper's.
_FUTURE_INIT = _future_init.__code__


def _future_hash(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> int:
    """A future's hash is its place in the spawn tree, not its address: ``as_completed``
    and ``wait`` put futures in sets, and a set's order follows the hashes."""
    stable: int | None = getattr(instance, "_retrace_hash", None)
    return stable if stable is not None else int(wrapped(*args, **kwargs))


def _acquire_futures_init(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> None:
    """``wait``/``as_completed`` lock futures in ``id()`` order; ids differ between runs."""
    wrapped(*args, **kwargs)
    instance.futures.sort(key=hash)


# -- threads ----------------------------------------------------------------------------
def _start(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    tagged = getattr(instance, "_retrace_path", None)
    path = tagged[1] if tagged is not None else instance.name
    if serial.enabled():
        instance.run = serial.thread_runs(instance.run)
    elif library_threads.is_library_path(path):
        # When a library's thread starts and ends is the library's business, as its locks are.
        instance.run = _library_run(instance.run)
        return wrapped(*args, **kwargs)
    return runtime.ordered(START, zlib.crc32(path.encode()), wrapped, *args)


def _library_run(run: Any) -> Any:
    """A library thread's ``run``: its events come from a stream of its own on replay."""

    def library_run() -> Any:
        runtime.LOCAL.library = True
        return run()

    return library_run


def _join_and_report(wrapped: Any, thread: Any, timeout: float | None) -> bool:
    wrapped(timeout)
    alive: bool = thread.is_alive()
    return alive


def _is_alive(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> bool:
    """``is_alive()`` of a thread of this session answers, on replay, what it saw when recorded.

    Polling a thread (``while t.is_alive()``, psycopg_pool's ``if not t.is_alive(): continue``
    before a join) races with the thread ending; the answer decides the path taken.
    """
    tagged = getattr(instance, "_retrace_path", None)
    if (runtime.LOCAL.busy or tagged is None or tagged[0] != _state.generation
            or library_threads.is_library_path(tagged[1])):
        alive: bool = wrapped(*args, **kwargs)
        return alive
    answer: bool = runtime.ordered(ALIVE, zlib.crc32(tagged[1].encode()), wrapped)
    return answer


def _join(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> None:
    timeout = args[0] if args else kwargs.get("timeout")
    tagged = getattr(instance, "_retrace_path", None)
    if tagged is not None and library_threads.is_library_path(tagged[1]):
        wrapped(*args, **kwargs)  # a library thread's join is the library's business
        return
    fp = zlib.crc32(str(tagged[1] if tagged else instance.name).encode())
    runtime.ordered(JOIN, fp, functools.partial(_join_and_report, wrapped, instance), timeout)


def _init(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> None:
    """Name the new thread, and make its own locks (its started Event) plain ones:
    they are not the program's synchronisation.

    A thread made inside a boundary call (the subprocess adapter's output relay,
    a library's helper) is not named: on replay that call is not made, so
    counting it would shift the names of the program's later threads.
    """
    local = runtime.LOCAL
    if local.busy:
        wrapped(*args, **kwargs)
        return
    parent = identity() or f"?{threading.current_thread().name}"
    with _state.mutex:
        n = _state.children[parent] = _state.children.get(parent, 0) + 1
    mark = "" if serial.enabled() or _made_by_program() else library_threads.MARK
    instance._retrace_path = (_state.generation, f"{parent}.{n}{mark}")
    local.busy = True
    try:
        wrapped(*args, **kwargs)
    finally:
        local.busy = False


# -- thread ids ------------------------------------------------------------------------
IDENT = Boundary("threading.get_ident", fingerprint=lambda i, a, k: a[0], library=LIBRARY)
#: code object -> whether a call from it sees the recorded ident (the program's, logging's).
_askers: dict[Any, bool] = {}
_asked = _thread._local()
_ident_property = threading.Thread.ident


def _program_asks(frame: Any) -> bool:
    code = frame.f_code
    verdict = _askers.get(code)
    if verdict is None:
        verdict = _askers[code] = (frame.f_globals.get("__name__") == "logging"
                                   or is_program_file(code.co_filename))
    return verdict


def _ident_of(thread: Any, real: Any) -> Any:
    """The ident the program sees for ``thread``, whose real ident is ``real``.

    One event per asking thread and thread asked about, the first time: which
    thread asks first is the program's path, the same in both modes.
    """
    tagged = getattr(thread, "_retrace_path", None)
    if tagged is not None and tagged[0] == _state.generation:
        path = tagged[1]
    elif thread is threading.main_thread():
        path = "0"
    else:
        return real
    if (real is None or runtime.LOCAL.busy or library_threads.is_library_path(path)
            or runtime.active().name == "passthrough"):
        return real
    known = getattr(_asked, "idents", None)
    if known is None or known[0] != _state.generation:
        known = _asked.idents = (_state.generation, {})
    value = known[1].get(path)
    if value is None:
        value = known[1][path] = runtime.call(IDENT, lambda _: real, path)
    return value


def _get_ident(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    real = wrapped(*args, **kwargs)
    if not _program_asks(patchforms.caller(sys._getframe(1))):
        return real
    return _ident_of(threading.current_thread(), real)


def _ident(thread: Any) -> Any:
    real = thread._ident
    if real is None or not _program_asks(sys._getframe(1)):
        return real
    return _ident_of(thread, real)


def _thread_hash(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> int:
    """A thread's hash is its path, not its address: ``ThreadPoolExecutor`` joins a set
    of threads, and a set's order follows the hashes."""
    tagged = getattr(instance, "_retrace_path", None)
    return hash(tagged[1]) if tagged is not None else int(wrapped(*args, **kwargs))


class ThreadingAdapter(Adapter):
    name = "threading"
    modules = LIBRARY

    def __init__(self) -> None:
        self._saved: dict[tuple[Any, str], Any] = {}

    def patches(self) -> list[Patch]:
        return [
            Patch("threading", "Thread.__init__", wrapper=_init),
            Patch("threading", "Thread.__hash__", wrapper=_thread_hash),
            Patch("threading", "Thread.start", wrapper=_start),
            Patch("threading", "Thread.join", wrapper=_join),
            Patch("threading", "Thread.is_alive", wrapper=_is_alive),
            Patch("threading", "get_ident", wrapper=_get_ident),
            Patch("concurrent.futures._base", "Future.__init__", wrapper=_future_init),
            Patch("concurrent.futures._base", "Future.__hash__", wrapper=_future_hash),
            Patch("concurrent.futures._base", "_AcquireFutures.__init__",
                  wrapper=_acquire_futures_init),
        ]

    def start(self, session: Any) -> None:
        global _state
        generation = _state.generation + 1
        _state = _Session()
        _state.generation = generation
        if session.cursor is not None:
            _state.timeout = session.cursor.turn_timeout
        _state.coordinating = tuple(
            prefix for entry in session.adapters for prefix in entry.adapter.coordinating
        )
        _creators.clear()
        _askers.clear()
        replacements: list[tuple[Any, str, Any]] = [
            (threading, "Lock", Lock),
            (threading, "_allocate_lock", Lock),
            (threading, "RLock", make_rlock),
            (queue, "SimpleQueue", RecordedSimpleQueue),
            (threading, "_time", _timeout_clock),
            (queue, "time", _timeout_clock),
            (threading.Thread, "ident", property(_ident, doc=_ident_property.__doc__)),
        ]
        for module, name, value in replacements:
            if (module, name) not in self._saved:
                self._saved[(module, name)] = getattr(module, name)
                setattr(module, name, value)
        runtime.set_identity(identity)

    def stop(self, session: Any) -> None:
        runtime.set_identity(None)
        for (module, name), original in self._saved.items():
            setattr(module, name, original)
        self._saved.clear()


adapter = ThreadingAdapter()
