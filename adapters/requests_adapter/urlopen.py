"""The requests adapter's implementation: the ``urlopen`` boundary and the patches.

Imported by :class:`retrace.adapters.requests.RequestsAdapter` only when the
program imports requests or urllib3 (the adapter's ``imports``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrace import Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.redaction import RedactionRules
from retrace.runtime import call

from ..requests import LIBRARY
from .environment import EnvironmentBoundaries
from .legacy import legacy_send_wrapper, needs_legacy_send
from .redact import Names, redact_exchange
from .request import Call
from .wire import Exchange, capture, rebuild

_names: Names = Names(RedactionRules())
#: How a replay stops on a bad recording (the cursor's, which reports and exits).
_stop: Callable[[Exception], None] | None = None


def _fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return args[0].view(_names)[0]


def _summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return args[0].view(_names)[1]


def _encode(exchange: Exchange, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return redact_exchange(exchange, args[0].scrubber(_names), _names).to_plain()


def _decode(plain: Any, instance: Any, args: Args, kwargs: Kwargs) -> Exchange:
    try:
        return Exchange.from_plain(plain)
    except ValueError as exc:
        error = BadRecording(f"the recording's HTTP response for {args[0].view(_names)[1]} "
                             f"is unreadable: {exc}")
        if _stop is not None:
            _stop(error)
        raise error from None


def _encode_error(plain: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    scrubber = args[0].scrubber(_names)
    return scrubber.plain(plain) if scrubber else plain


URLOPEN = Boundary(
    "urllib3.urlopen",
    fingerprint=_fingerprint,
    summary=_summary,
    encode=_encode,
    decode=_decode,
    encode_error=_encode_error,
    blocking=True,
    library=LIBRARY,
)


def _exchange(request: Call) -> Exchange:
    """The real call: send, read the whole response, give the connection back."""
    options = dict(request.options, preload_content=False, decode_content=False)
    return capture(request.wrapped(**options))


def _urlopen(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    request = Call(wrapped, instance, args, kwargs)
    exchange = call(URLOPEN, _exchange, request)
    return rebuild(
        exchange,
        request.method,
        request.url,
        preload_content=bool(request.options.get("preload_content", True)),
        decode_content=bool(request.options.get("decode_content", True)),
    )


SURROUNDINGS = EnvironmentBoundaries(lambda: _names)


def patches() -> list[Patch]:
    found = [Patch("urllib3.connectionpool", "HTTPConnectionPool.urlopen", wrapper=_urlopen),
             *SURROUNDINGS.patches()]
    if needs_legacy_send():
        found.append(Patch("requests.adapters", "HTTPAdapter.send",
                           wrapper=legacy_send_wrapper(URLOPEN)))
    return found


def start(session: Any) -> None:
    global _names, _stop
    _names = Names(session.redaction)
    cursor = getattr(session, "cursor", None)
    _stop = cursor.on_divergence if cursor is not None else None
    SURROUNDINGS.forget()


def stop() -> None:
    global _names, _stop
    _names = Names(RedactionRules())
    _stop = None
