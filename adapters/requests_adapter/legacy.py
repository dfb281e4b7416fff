"""requests 2.28 and 2.29: chunked uploads that bypass ``urlopen``.

Before 2.30, ``HTTPAdapter.send`` sent a body without ``Content-Length``
(a generator, a file of unknown size) by driving an ``http.client``
connection itself instead of calling ``urlopen``, so the ``urlopen``
boundary never saw it and a replay would have gone to the network. On those
versions this wrapper makes such a send one exchange of the same boundary:
recording reads the response as ``urlopen`` recording does, and the program
gets a ``Response`` built by the adapter's own ``build_response`` from the
rebuilt urllib3 response, in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrace import distributions
from retrace.boundary import Args, Boundary, Kwargs
from retrace.runtime import call

from .request import Call
from .wire import capture, rebuild


def needs_legacy_send() -> bool:
    """Whether the installed requests is one that sends chunked bodies by itself."""
    version = distributions.installed().version("requests")
    if version is None:
        return False
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) < (2, 30)


def legacy_send_wrapper(boundary: Boundary) -> Callable[[Any, Any, Args, Kwargs], Any]:
    """A wrapper for ``HTTPAdapter.send`` routing chunked sends through ``boundary``."""

    def send(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        request = args[0] if args else kwargs["request"]
        if request.body is None or "Content-Length" in request.headers:
            return wrapped(*args, **kwargs)
        options = {"method": request.method, "url": request.url, "body": request.body,
                   "headers": request.headers}
        view = Call(wrapped, None, (), options)
        from requests.exceptions import RequestException

        try:
            exchange = call(boundary, lambda _view: capture(wrapped(*args, **kwargs).raw), view)
        except RequestException as exc:
            if exc.request is None:
                exc.request = request
            raise
        raw = rebuild(exchange, request.method, request.path_url, preload_content=False,
                      decode_content=False)
        return instance.build_response(request, raw)

    return send
