"""requests: every HTTP exchange is one boundary, its secrets redacted.

The boundary is urllib3's ``HTTPConnectionPool.urlopen``, the one call in
which requests' transport touches the network (docs/adapters/requests.md
says why this depth). Recording reads each response to the end inside the
call and keeps status, headers and body as received; the program then gets
a response rebuilt from those bytes, in record and replay alike, and all of
requests above ``urlopen`` (sessions, cookies, redirects and their history,
``elapsed``, hooks, exception translation) runs for real both times.

Nested calls (urllib3 retrying or following a redirect by calling
``urlopen`` again) are inside the outer call and are not recorded twice.
requests' proxy and netrc lookups are boundaries of their own (see
:mod:`.requests_adapter.environment`).
Neither requests nor urllib3 is imported until the program imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.redaction import RedactionRules
from retrace.runtime import call

from .requests_adapter.environment import EnvironmentBoundaries
from .requests_adapter.legacy import legacy_send_wrapper, needs_legacy_send
from .requests_adapter.redact import Names, redact_exchange
from .requests_adapter.request import Call
from .requests_adapter.wire import Exchange, capture, rebuild

LIBRARY = ("requests", "urllib3")
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


class RequestsAdapter(Adapter):
    """Records and replays HTTP made with requests (through urllib3's connection pools)."""

    name = "requests"
    distribution = "requests"
    supported = ">=2.28,<3"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        found = [Patch("urllib3.connectionpool", "HTTPConnectionPool.urlopen", wrapper=_urlopen),
                 *SURROUNDINGS.patches()]
        if needs_legacy_send():
            found.append(Patch("requests.adapters", "HTTPAdapter.send",
                               wrapper=legacy_send_wrapper(URLOPEN)))
        return found

    def register_codecs(self, codecs: Any) -> None:
        for module in ("requests", "urllib3", "ssl", "socket", "http.client"):
            codecs.allow_exceptions_from(module)

    def start(self, session: Any) -> None:
        global _names, _stop
        _names = Names(session.redaction)
        cursor = getattr(session, "cursor", None)
        _stop = cursor.on_divergence if cursor is not None else None
        SURROUNDINGS.forget()

    def stop(self, session: Any) -> None:
        global _names, _stop
        _names = Names(RedactionRules())
        _stop = None


adapter = RequestsAdapter()
