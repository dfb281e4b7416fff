"""What an adapter declares: boundaries, where they are patched, and the adapter itself.

A :class:`Boundary` is a callable whose outcome depends on the outside world.
Its optional hooks say what in the arguments matters (the fingerprint checked
on replay), how to describe a call in a divergence report, when a call is not
a boundary call at all (``time.localtime(ts)`` is a pure function), and how to
turn an outcome into trace data and back when the codec registry alone is not
enough. A :class:`Patch` says where a boundary is applied (``module`` and a
dotted ``target`` inside it). An :class:`Adapter` groups the patches and
codecs of one library and declares which versions of it it supports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from .frozen import Frozen, Value

if TYPE_CHECKING:
    from .codecs import CodecRegistry
    from .session import Session

Args = tuple[Any, ...]
Kwargs = dict[str, Any]


class Boundary(Frozen):
    """One external call.

    :param name: stable name in the trace, ``"library.function"``.
    :param fingerprint: ``(instance, args, kwargs) -> plain data`` whose digest
        replay compares; ``None`` when the arguments cannot change the outcome.
    :param summary: ``(instance, args, kwargs) -> str`` for divergence reports.
    :param passthrough: ``(instance, args, kwargs) -> bool``; true means this
        call is not a boundary call and runs for real in every mode.
    :param encode: ``(outcome, instance, args, kwargs) -> value`` the codec
        registry can record (redact here: the program still gets the outcome).
    :param decode: ``(recorded, instance, args, kwargs) -> outcome`` on replay.
    :param encode_error: ``(plain, instance, args, kwargs) -> plain`` applied to
        the recorded form of a raised exception (redact here: error messages
        quote URLs and queries; the program still gets the real exception).
    :param on_replay: ``(instance, args, kwargs) -> None`` run on replay when the
        call starts, before its recorded outcome is taken (``input``'s prompt, a
        real sleep when asked for; a signal handler that ran during the call
        runs after it).
    :param blocking: the call may wait on the outside world; in serial mode
        (``RETRACE_SERIAL=1``) the thread gives the other threads their turn
        while it waits. (What a process killed while waiting keeps does not
        depend on it: every wait is covered, see :mod:`retrace.flusher`.)
    :param library: module prefixes whose frames are not the call site.
    :param ordered: ``"before"`` or ``"after"`` makes this an *ordered*
        boundary: a synchronisation or output call that really happens on
        replay too, at its recorded place in the global order of events. Its
        event is appended just before the real call (``"before"``: calls
        whose effect others observe — release, put, write, start) or just
        after it returns (``"after"``: calls that observe — acquire, get,
        join). Replay waits for the thread's turn, performs the call, then
        lets the next event go. See docs/architecture.md, "Threads".
    :param perform: ``(raised, recorded, wrapped, instance, args, kwargs) ->
        outcome``: how an ordered call is performed on replay, knowing what
        was recorded (a failed ``acquire(timeout=1)`` is answered ``False``
        without waiting); default: call ``wrapped``. It raises
        :class:`retrace.errors.Blocked` when the real call cannot complete.
    :param mismatch: the divergence kind (a key of
        :data:`retrace.divergence.HINTS`) when the fingerprint differs.
    :param timing: the outcome only paces the caller (the clock, ``sleep``):
        in a thread a library started for itself it runs live in both modes
        (see :mod:`retrace.library_threads`).
    :param summary_key: ``(instance, args, kwargs) -> hashable or None``, cheaper
        than ``summary``: calls with equal keys have equal summaries, so the
        recorder formats a summary only for a key it has not seen (summaries
        are interned in the trace). None for a call whose summary must be made.
    """

    __slots__ = (
        "blocking",
        "decode",
        "encode",
        "encode_error",
        "fingerprint",
        "library",
        "mismatch",
        "name",
        "on_replay",
        "ordered",
        "passthrough",
        "perform",
        "summary",
        "summary_key",
        "timing",
    )

    name: str
    fingerprint: Callable[[Any, Args, Kwargs], Any] | None
    summary: Callable[[Any, Args, Kwargs], str] | None
    passthrough: Callable[[Any, Args, Kwargs], bool] | None
    encode: Callable[[Any, Any, Args, Kwargs], Any] | None
    decode: Callable[[Any, Any, Args, Kwargs], Any] | None
    encode_error: Callable[[Any, Any, Args, Kwargs], Any] | None
    on_replay: Callable[[Any, Args, Kwargs], None] | None
    blocking: bool
    library: tuple[str, ...]
    ordered: str | None
    perform: Callable[[int, Any, Callable[..., Any], Any, Args, Kwargs], Any] | None
    mismatch: str
    timing: bool
    summary_key: Callable[[Any, Args, Kwargs], Any] | None

    def __init__(
        self,
        name: str,
        fingerprint: Callable[[Any, Args, Kwargs], Any] | None = None,
        summary: Callable[[Any, Args, Kwargs], str] | None = None,
        passthrough: Callable[[Any, Args, Kwargs], bool] | None = None,
        encode: Callable[[Any, Any, Args, Kwargs], Any] | None = None,
        decode: Callable[[Any, Any, Args, Kwargs], Any] | None = None,
        encode_error: Callable[[Any, Any, Args, Kwargs], Any] | None = None,
        on_replay: Callable[[Any, Args, Kwargs], None] | None = None,
        blocking: bool = False,
        library: tuple[str, ...] = (),
        ordered: str | None = None,
        perform: Callable[[int, Any, Callable[..., Any], Any, Args, Kwargs], Any] | None = None,
        mismatch: str = "arguments",
        timing: bool = False,
        summary_key: Callable[[Any, Args, Kwargs], Any] | None = None,
    ) -> None:
        self._set(name=name, fingerprint=fingerprint, summary=summary, passthrough=passthrough,
                  encode=encode, decode=decode, encode_error=encode_error, on_replay=on_replay,
                  blocking=blocking, library=library, ordered=ordered, perform=perform,
                  mismatch=mismatch, timing=timing, summary_key=summary_key)


Wrapper = Callable[[Any, Any, Args, Kwargs], Any]


class Patch(Value):
    """Apply ``boundary`` to ``module.target`` when ``module`` is imported.

    ``target`` is dotted inside the module: ``"time"``, ``"Session.send"``.
    Methods of immutable builtin types (``datetime.datetime.now``) are patched
    too; see docs/architecture.md for how. Instead of a boundary, a patch may
    carry its own ``wrapper(wrapped, instance, args, kwargs)`` (wrapt's
    convention) for calls that are not one boundary call (it then uses
    :func:`retrace.runtime.call`). What the target is replaced with depends
    on what it is: see :mod:`retrace.patchforms`.

    ``function=True`` said the target is a module-level function to install
    as a plain function rather than a wrapt wrapper; every such function is
    now installed that way, and the flag is accepted for the adapters that
    pass it.
    """

    __slots__ = ("boundary", "function", "module", "target", "wrapper")

    module: str
    target: str
    boundary: Boundary | None
    wrapper: Wrapper | None
    function: bool

    def __init__(self, module: str, target: str, boundary: Boundary | None = None,
                 wrapper: Wrapper | None = None, function: bool = False) -> None:
        self._set(module=module, target=target, boundary=boundary, wrapper=wrapper,
                  function=function)

    def make_wrapper(self) -> Wrapper:
        if self.wrapper is not None:
            return self.wrapper
        if self.boundary is None:
            raise ValueError(f"patch of {self.module}.{self.target} has no boundary or wrapper")
        from .runtime import wrapper_for

        return wrapper_for(self.boundary)


class Adapter:
    """Base class of every adapter, first-party or third-party.

    Subclasses set the class attributes and override what they need; an
    instance is what the ``retrace.adapters`` entry point names. An adapter
    module must not import its library at import time: patches are applied
    when the program imports the library.
    """

    #: Short name, as in ``RETRACE_ADAPTERS`` and trace headers.
    name: ClassVar[str] = ""
    #: The distribution intercepted (``"requests"``), or None for the stdlib.
    distribution: ClassVar[str | None] = None
    #: Supported versions of ``distribution``: ``">=2.28,<3"``.
    supported: ClassVar[str | None] = None
    #: Module prefixes that count as the library (for call sites).
    modules: ClassVar[tuple[str, ...]] = ()
    #: Module prefixes of a library whose locks, queues and threads coordinate the
    #: program's own work (a connection pool handing connections to the program's
    #: threads): the threading adapter records them like the program's. Other
    #: libraries' synchronisation is theirs (see docs/adapters/threading.md).
    coordinating: ClassVar[tuple[str, ...]] = ()
    #: The library's top-level modules (``("requests", "urllib3")``). When set, the adapter
    #: waits: ``register_codecs``, ``patches`` and ``start`` run just before the program
    #: first imports one of them (at once if one already is), and a program that never
    #: does pays nothing for the adapter's implementation. Every patch must then be in
    #: one of these modules or below them, and the module the entry point names should
    #: import its implementation inside ``patches`` (see docs/writing-an-adapter.md).
    #: Empty (the default): installed when the session starts.
    imports: ClassVar[tuple[str, ...]] = ()
    #: The version of the events this adapter writes (their fingerprints and outcomes).
    #: Raise it when a change would make recordings made before replay differently: replay
    #: then refuses such a recording with one message instead of diverging at its first call.
    events: ClassVar[int] = 1
    #: The versions of events this adapter replays, when it still reads older ones (a
    #: change that only adds a shape an older retrace cannot read); empty: ``events`` only.
    replays: ClassVar[tuple[int, ...]] = ()

    def patches(self) -> Iterable[Patch]:
        """The boundaries this adapter applies."""
        return ()

    def register_codecs(self, codecs: CodecRegistry) -> None:
        """Register the types this adapter's outcomes contain."""

    def start(self, session: Session) -> None:
        """Called once patches are installed, before the program runs."""

    def stop(self, session: Session) -> None:
        """Called when the session ends, before patches are removed."""
