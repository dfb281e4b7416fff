"""Environment variables the program reads.

Only reads go into the trace: looking a variable up (``os.environ[k]``,
``.get``, ``os.getenv``, ``in``), listing the names, and the count. A value
whose name looks secret (the redaction rules: ``*PASSWORD*``, ``*TOKEN*``,
``*SECRET*``, ``*API_KEY*``...) is recorded as ``<retrace:redacted>``, and a
URL value has its password replaced the same way; the replayed program gets
exactly that placeholder. Writes (``os.environ[k] = v``) run for real in both
modes.
"""

from __future__ import annotations

import re
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.redaction import PLACEHOLDER
from retrace.runtime import call

LIBRARY = ("os", "_collections_abc", "collections", "posixpath", "genericpath")
_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)([^@\s]*)(@)")
_session: Any = None


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
    if isinstance(value, str):
        match = _URL_PASSWORD.match(value)
        if match is None:
            return value
        if rules is not None:
            rules.remember(match.group(2))
        return _URL_PASSWORD.sub(rf"\g<1>{PLACEHOLDER}\g<3>", value)
    return value


GETITEM = Boundary("os.environ[]", fingerprint=_key, summary=lambda i, a, k: repr(a[0]),
                   encode=_redacted, library=LIBRARY)
NAMES = Boundary("os.environ.keys", library=LIBRARY)
LENGTH = Boundary("os.environ.len", library=LIBRARY)


def _iter_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return iter(call(NAMES, lambda: list(wrapped(*args, **kwargs))))


class EnvironAdapter(Adapter):
    name = "environ"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        return [
            Patch("os", "_Environ.__getitem__", GETITEM),
            Patch("os", "_Environ.__iter__", wrapper=_iter_wrapper),
            Patch("os", "_Environ.__len__", LENGTH),
        ]

    def start(self, session: Any) -> None:
        global _session
        _session = session

    def stop(self, session: Any) -> None:
        global _session
        _session = None


adapter = EnvironAdapter()
