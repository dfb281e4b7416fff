"""How requests reads its proxy settings from the environment, as two small boundaries.

To find proxies, requests calls ``get_environ_proxies`` and
``should_bypass_proxies`` for every request and every redirect; each walks
the whole environment (``urllib.request.getproxies``), which the environ
adapter would record variable by variable: about 150 events and 8 KB per
request. Recording the two answers instead costs one event each, replays
the same proxy decisions, and leaves the environment reads inside them
unrecorded (a nested boundary is not recorded twice). Proxy URLs are
recorded with their passwords replaced.

The answers depend on the scheme and host only, so that is what their
fingerprint holds: a request to another path of the same host is checked
(and reported) by the ``urlopen`` boundary that follows, with its full URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from retrace import Boundary, Patch
from retrace.boundary import Args, Kwargs

from .redact import Names, redact_url

LIBRARY = ("requests", "urllib3", "urllib")


class ProxyBoundaries:
    """The two boundaries, redacting with the names the adapter currently holds."""

    def __init__(self, names: Any) -> None:
        self._names = names
        self.environ_proxies = Boundary(
            "requests.get_environ_proxies", fingerprint=self._origin, summary=self._origin,
            encode=self._redact_proxies, library=LIBRARY)
        self.bypass = Boundary(
            "requests.should_bypass_proxies", fingerprint=self._origin, summary=self._origin,
            library=LIBRARY)

    def patches(self) -> list[Patch]:
        return [Patch("requests.utils", "get_environ_proxies", self.environ_proxies),
                Patch("requests.utils", "should_bypass_proxies", self.bypass)]

    def _origin(self, instance: Any, args: Args, kwargs: Kwargs) -> str:
        """``scheme://host:port`` of the URL asked about, and ``no_proxy`` if given."""
        url = str(args[0] if args else kwargs.get("url", ""))
        no_proxy = args[1] if len(args) > 1 else kwargs.get("no_proxy")
        try:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
        except ValueError:
            origin = redact_url(url, self._names())
        return origin if no_proxy is None else f"{origin} no_proxy={no_proxy}"

    def _redact_proxies(self, proxies: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
        names: Names = self._names()
        return {key: redact_url(value, names) if isinstance(value, str) else value
                for key, value in proxies.items()}
