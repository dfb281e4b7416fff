"""One ``urlopen`` call seen as a request: its URL, its fingerprint, its summary.

The fingerprint replay compares is ``[METHOD, URL, body digest]``:

- the URL is absolute (scheme, host, the port unless it is the scheme's
  default, path, query), with the password and the values of secret query
  parameters replaced, and the query parameters sorted by name (a stable
  sort: repeated names keep their order), so building the same query from a
  dict in another order is not a divergence;
- headers are not part of it (``User-Agent`` names library versions, and
  secrets live there);
- the body digest is a CRC-32 of the body with secret fields replaced; a JSON
  body is compared as its document (key order and spacing do not count), a
  form body with its fields in order, any other body byte for byte. A body
  the program streams (a file or a generator) is not read: it counts as
  ``"<stream>"``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from .redact import Names, Scrubber, redact_json_value, redact_pairs, redact_url, scrubber_for

#: ``HTTPConnectionPool.urlopen``'s positional parameters after ``self``
#: (the same in urllib3 1.26 and 2.x).
PARAMETERS = ("method", "url", "body", "headers", "retries", "redirect", "assert_same_host",
              "timeout", "pool_timeout", "release_conn", "chunked", "body_pos")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Call:
    """The arguments of one ``urlopen`` call, and what is worked out from them once."""

    __slots__ = ("_full_url", "_headers", "_scrubber", "_view", "options", "pool", "wrapped")

    def __init__(self, wrapped: Callable[..., Any], pool: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.wrapped = wrapped
        self.pool = pool
        self.options = dict(zip(PARAMETERS, args, strict=False))
        self.options.update(kwargs)
        self._full_url: str | None = None
        self._view: tuple[list[Any], str] | None = None
        self._headers: list[tuple[str, str]] | None = None
        self._scrubber: Scrubber | None = None

    @property
    def method(self) -> str:
        return str(self.options.get("method", "GET")).upper()

    @property
    def url(self) -> str:
        url = self.options.get("url", "/")
        return url.decode("utf-8", "replace") if isinstance(url, bytes) else str(url)

    def full_url(self) -> str:
        """The absolute URL, from the pool's scheme, host and port and the request path."""
        if self._full_url is None:
            url = self.url
            if url.startswith("/"):
                pool = self.pool
                scheme = getattr(pool, "scheme", "http")
                host = str(getattr(pool, "host", "") or "")
                if ":" in host and not host.startswith("["):
                    host = f"[{host}]"
                port = getattr(pool, "port", None)
                if port is not None and port != _DEFAULT_PORTS.get(scheme):
                    host = f"{host}:{port}"
                url = f"{scheme}://{host}{url}"
            self._full_url = url
        return self._full_url

    def header_items(self) -> Iterable[tuple[str, str]]:
        """The request headers, names lowercased when requests' dict offers them so."""
        if self._headers is None:
            headers = self.options.get("headers") or {}
            lower_items = getattr(headers, "lower_items", None)
            items = lower_items() if lower_items is not None else headers.items()
            self._headers = [(str(k), str(v)) for k, v in items]
        return self._headers

    def content_type(self) -> str:
        for name, value in self.header_items():
            if name.lower() == "content-type":
                return value
        return ""

    def view(self, names: Names) -> tuple[list[Any], str]:
        """``(fingerprint, summary)``, computed once per call."""
        if self._view is None:
            redacted = redact_url(self.full_url(), names)
            fingerprint = [self.method, _sorted_query(redacted), self._body_digest(names)]
            self._view = (fingerprint, f"{self.method} {redacted}")
        return self._view

    def _body_digest(self, names: Names) -> Any:
        body = self.options.get("body")
        if body is None:
            return None
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, (bytes, bytearray, memoryview)):
            return "<stream>"
        return zlib.crc32(_normalized_body(bytes(body), self.content_type(), names))

    def scrubber(self, names: Names) -> Scrubber:
        """The secret values this request carries (see :func:`redact.scrubber_for`)."""
        if self._scrubber is None:
            self._scrubber = scrubber_for(self.full_url(), self.header_items(), self._fields(),
                                          names)
        return self._scrubber

    def _fields(self) -> Any:
        body = self.options.get("body")
        if not isinstance(body, (bytes, str)):
            return None
        kind = self.content_type().lower()
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if "json" in kind:
            try:
                return json.loads(text)
            except ValueError:
                return None
        if "x-www-form-urlencoded" in kind:
            from urllib.parse import parse_qsl

            return dict(parse_qsl(text, keep_blank_values=True))
        return None


def _sorted_query(url: str) -> str:
    base, question, rest = url.partition("?")
    if not question:
        return url
    query, hash_, fragment = rest.partition("#")
    pairs = sorted(query.split("&"), key=lambda pair: pair.partition("=")[0])
    return f"{base}?{'&'.join(pairs)}{hash_}{fragment}"


def _normalized_body(body: bytes, content_type: str, names: Names) -> bytes:
    kind = content_type.lower()
    if "json" in kind:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body
        redacted, _ = redact_json_value(document, names)
        return json.dumps(redacted, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if "x-www-form-urlencoded" in kind:
        try:
            return redact_pairs(body.decode("ascii"), names).encode("ascii")
        except UnicodeDecodeError:
            return body
    return body
