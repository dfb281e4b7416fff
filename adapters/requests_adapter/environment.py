"""What requests reads from its surroundings per request, as three small boundaries.

For every request (and every redirect) requests asks the environment for
proxies (``get_environ_proxies``, ``should_bypass_proxies``: each walks the
whole environment through ``urllib.request.getproxies``) and reads
``~/.netrc`` for credentials (``get_netrc_auth``). Through the environ
adapter that was about 150 events and 8 KB per request, and the netrc file
was read again on replay. Recording the three answers instead costs one
event each and replays the same decisions; the reads inside them are not
recorded (a nested boundary is not recorded twice). Proxy URLs are recorded
with their passwords replaced, and a netrc password as the placeholder.

The answers depend on the scheme and host only, so that is what their
fingerprint holds: a request to another path of the same host is checked
(and reported) by the ``urlopen`` boundary that follows, with its full URL.

Where proxies come from the environment alone (``urllib.request`` uses
``getproxies_environment`` on Linux and the BSDs; macOS and Windows also
ask the system), recording remembers the proxy answers per host while the
environment is unchanged, instead of walking it twice per request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from retrace import Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.redaction import PLACEHOLDER
from retrace.runtime import call

from .redact import Names, redact_url

LIBRARY = ("requests", "urllib3", "urllib")


def _origin(url: str, names: Names) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
    except ValueError:
        return redact_url(url, names)


def _environment_only() -> bool:
    import urllib.request

    request: Any = urllib.request
    return bool(request.getproxies is request.getproxies_environment
                and request.proxy_bypass is getattr(request, "proxy_bypass_environment", None))


class _Answers:
    """One lookup's answers per host, valid while ``os.environ`` holds what it held."""

    def __init__(self) -> None:
        self._environment: dict[Any, Any] | None = None
        self._answers: dict[tuple[str, Any], Any] = {}
        self._pure: bool | None = None

    def clear(self) -> None:
        self._environment = None
        self._answers = {}

    def get(self, function: Callable[..., Any], origin: str, url: str, no_proxy: Any) -> Any:
        if self._pure is None:
            self._pure = _environment_only()
        data = getattr(os.environ, "_data", None)
        if not self._pure or not isinstance(data, dict):
            return function(url, no_proxy=no_proxy)
        if data != self._environment:
            self._environment = dict(data)
            self._answers = {}
        key = (origin, no_proxy)
        if key not in self._answers:
            self._answers[key] = function(url, no_proxy=no_proxy)
        answer = self._answers[key]
        return dict(answer) if isinstance(answer, dict) else answer


class EnvironmentBoundaries:
    """The three boundaries, redacting with the names the adapter currently holds."""

    def __init__(self, names: Callable[[], Names]) -> None:
        self._names = names
        self.environ_proxies = Boundary(
            "requests.get_environ_proxies", fingerprint=self._key, summary=self._key,
            encode=self._redact_proxies, library=LIBRARY)
        self.bypass = Boundary(
            "requests.should_bypass_proxies", fingerprint=self._key, summary=self._key,
            library=LIBRARY)
        self.netrc = Boundary(
            "requests.get_netrc_auth", fingerprint=self._host, summary=self._host,
            encode=_redact_netrc, library=LIBRARY)
        self._proxy_answers = _Answers()
        self._bypass_answers = _Answers()

    def patches(self) -> list[Patch]:
        return [
            Patch("requests.utils", "get_environ_proxies",
                  wrapper=self._remembering(self.environ_proxies, self._proxy_answers)),
            Patch("requests.utils", "should_bypass_proxies",
                  wrapper=self._remembering(self.bypass, self._bypass_answers)),
            Patch("requests.utils", "get_netrc_auth", self.netrc),
        ]

    def forget(self) -> None:
        """Drop remembered answers (a new session starts)."""
        self._proxy_answers.clear()
        self._bypass_answers.clear()

    def _remembering(self, boundary: Boundary, answers: _Answers) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
            url = str(args[0] if args else kwargs.get("url", ""))
            no_proxy = args[1] if len(args) > 1 else kwargs.get("no_proxy")
            origin = _origin(url, self._names())
            return call(boundary, lambda *_: answers.get(wrapped, origin, url, no_proxy),
                        url, no_proxy)

        return wrapper

    def _key(self, instance: Any, args: Args, kwargs: Kwargs) -> str:
        """``scheme://host:port`` of the URL asked about, and ``no_proxy`` if given."""
        origin = self._host(instance, args, kwargs)
        no_proxy = args[1] if len(args) > 1 else kwargs.get("no_proxy")
        return origin if no_proxy is None else f"{origin} no_proxy={no_proxy}"

    def _host(self, instance: Any, args: Args, kwargs: Kwargs) -> str:
        return _origin(str(args[0] if args else kwargs.get("url", "")), self._names())

    def _redact_proxies(self, proxies: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        names = self._names()
        return {key: redact_url(value, names) if isinstance(value, str) else value
                for key, value in proxies.items()}


def _redact_netrc(auth: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if isinstance(auth, tuple) and len(auth) == 2 and auth[1]:
        return (auth[0], PLACEHOLDER)
    return auth
