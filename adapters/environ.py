"""Environment variables the program reads.

Only reads go into the trace: looking a variable up (``os.environ[k]``,
``.get``, ``os.getenv``, ``in``), listing the names, the count, and the
whole environment at once (``items()``, ``values()``, ``copy()``: one event
holding every variable, where iterating would make one per variable). A walk
that finds the environment as this thread's previous walk of it did is
recorded as "the same" (urllib's proxy lookup walks it up to four times per
request). A value whose name looks secret (the redaction rules: ``*PASSWORD*``,
``*TOKEN*``, ``*SECRET*``, ``*API_KEY*``...) is recorded as ``<retrace:redacted>``,
and a URL value has its password replaced the same way; the replayed program gets
exactly that placeholder. Writes (``os.environ[k] = v``) run for real in both
modes.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import ItemsView, ValuesView
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.redaction import PLACEHOLDER
from retrace.runtime import LOCAL, call

LIBRARY = ("os", "_collections_abc", "collections", "posixpath", "genericpath")
_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)([^@\s]*)(@)")
_session: Any = None
#: What a walk that found the environment unchanged records instead of every variable.
SAME = "<retrace:same-environment>"


class _Walks(threading.local):
    """Per thread, ``os.environ`` and ``os.environb`` as its last walk of each found them:
    as read, when recording; as replayed, when replaying. A thread's events are replayed
    in its own recorded order, so "the same as this thread's last walk" names one walk in
    both runs; the adapter's ``start`` makes a new one for each session (and for a forked
    child, whose trace begins at the fork)."""

    def __init__(self) -> None:
        self.last: dict[int, dict[Any, Any]] = {}


_walks = _Walks()


def _key(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    key = args[0] if args else None
    return key if isinstance(key, (str, bytes)) else repr(key)


def _redacted(value: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    key = args[0] if args else ""
    name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    rules = _session.redaction if _session is not None else None
    if rules is not None and rules.secret_env(name):
        if isinstance(value, (str, bytes)):
            rules.remember(value)
        return PLACEHOLDER if isinstance(value, str) else PLACEHOLDER.encode()
    if isinstance(value, bytes):  # os.environb
        text = value.decode("utf-8", "surrogateescape")
        redacted = _without_url_password(text, rules)
        return value if redacted is text else redacted.encode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return _without_url_password(value, rules)
    return value


def _without_url_password(value: str, rules: Any) -> str:
    """``value`` itself, or with the password of the URL it is replaced."""
    match = _URL_PASSWORD.match(value)
    if match is None:
        return value
    if rules is not None:
        rules.remember(match.group(2))
    return _URL_PASSWORD.sub(rf"\g<1>{PLACEHOLDER}\g<3>", value)


def _walked(environ: Any) -> int | None:
    """Which environment a walk read, for :class:`_Walks`; None for one the program made."""
    return 0 if environ is os.environ else 1 if environ is getattr(os, "environb", None) else None


def _redacted_items(value: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    which = _walked(args[0])
    if which is not None and not LOCAL.library:  # a library thread's events may be taken
        last = _walks.last                        # out of its order on replay
        if last.get(which) == value:
            return SAME
        last[which] = dict(value)  # the program may change the copy it was given
    return {name: _redacted(item, instance, (name,), kwargs) for name, item in value.items()}


def _replayed_items(recorded: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    which = _walked(args[0])
    if recorded == SAME:
        walked = _walks.last.get(which) if which is not None else None
        if walked is None:
            raise ValueError("a walk of the environment recorded as the same as an earlier one "
                             "this thread did not make")
        return dict(walked)
    if which is not None:
        _walks.last[which] = dict(recorded)
    return recorded


def _name(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """The summary key of a lookup: its name, when that is text (its summary is its repr)."""
    key = args[0] if args else None
    return key if type(key) is str or type(key) is bytes else None


GETITEM = Boundary("os.environ[]", fingerprint=_key, summary=lambda i, a, k: repr(a[0]),
                   summary_key=_name, encode=_redacted, library=LIBRARY)
NAMES = Boundary("os.environ.keys", library=LIBRARY)
LENGTH = Boundary("os.environ.len", library=LIBRARY)


#: Every variable at once: what ``items()``, ``values()`` and ``copy()`` read.
ITEMS = Boundary("os.environ.items", encode=_redacted_items, decode=_replayed_items,
                 library=LIBRARY)


def _iter_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return iter(call(NAMES, lambda: list(wrapped(*args, **kwargs))))


def _variables(instance: Any) -> dict[Any, Any]:
    """The environment as one event, read from ``os._Environ``'s own store (through the
    mapping, each variable would pass through two patched methods)."""
    return call(ITEMS, _read_all, instance)


#: For ``os.environ`` and ``os.environb``: their store as last decoded, and what it decoded to.
_decoded: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}


def _read_all(environ: Any) -> dict[Any, Any]:
    """Every variable, decoded; decoding is two Python calls per variable, so a store equal
    to the one decoded last time is answered with a copy of that decoding."""
    data = getattr(environ, "_data", None)
    if type(data) is not dict:
        return dict(environ)
    which = _walked(environ)
    last = _decoded.get(which) if which is not None else None
    if last is not None and last[0] == data:
        return dict(last[1])
    key, value = environ.decodekey, environ.decodevalue
    variables = {key(k): value(v) for k, v in data.items()}
    if which is not None:
        _decoded[which] = (dict(data), dict(variables))
    return variables


def _items_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """A view of the variables as they are now: a program walks it at once (urllib's
    proxy lookup reads every variable twice per call)."""
    return ItemsView(_variables(instance))


def _values_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return ValuesView(_variables(instance))


def _copy_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return _variables(instance)


class EnvironAdapter(Adapter):
    name = "environ"
    modules = LIBRARY
    #: 2: a walk may be recorded as the same as the thread's previous one (see ``SAME``).
    events = 2
    replays = (1,)

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "_Environ.__getitem__", GETITEM),
            Patch("os", "_Environ.__iter__", wrapper=_iter_wrapper),
            Patch("os", "_Environ.__len__", LENGTH),
            Patch("os", "_Environ.items", wrapper=_items_wrapper),
            Patch("os", "_Environ.values", wrapper=_values_wrapper),
            Patch("os", "_Environ.copy", wrapper=_copy_wrapper),
        ]

    def start(self, session: Any) -> None:
        global _session, _walks
        _session = session
        _walks = _Walks()

    def stop(self, session: Any) -> None:
        global _session
        _session = None


adapter = EnvironAdapter()
