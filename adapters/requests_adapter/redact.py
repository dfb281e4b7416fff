"""Keeping the secrets of an HTTP exchange out of a trace.

Names decide first, through the session's :class:`~retrace.redaction.RedactionRules`:
a password in a URL, query parameters and body fields with secret names,
secret headers (``Authorization``, ``Cookie``, ``X-Api-Key``...). ``Set-Cookie``
keeps its cookie name and attributes and loses only the value, so a replayed
cookie jar holds the same cookies with placeholder values.

Values decide second: whatever the request sent as a secret (a bearer token,
a cookie value, a secret query parameter) is scrubbed from everything the
exchange brought back, because servers echo requests and error messages
quote URLs. :class:`Scrubber` carries those values from the request to the
response.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

import attrs
import cbor2

from retrace.redaction import PLACEHOLDER, RedactionRules

from .wire import Exchange

PLACEHOLDER_BYTES = PLACEHOLDER.encode()
#: Secret values shorter than this are not scrubbed by value (they would match
#: too much); names still redact them.
MIN_SCRUB = 4
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://[^/?#@:]*:)([^/?#@]*)(@)")


class Names:
    """The session's rules with the answers for header names cached.

    A response has a handful of headers and a program sees the same names
    again and again, so one dictionary lookup per header is all it costs.
    """

    def __init__(self, rules: RedactionRules) -> None:
        self.rules = rules
        self._headers: dict[str, bool] = {}
        self.fields = tuple(sorted(f.encode() for f in rules.fields))

    def secret_header(self, name: str) -> bool:
        known = self._headers.get(name)
        if known is None:
            known = self._headers[name] = self.rules.secret_header(name)
        return known

    def secret_field(self, name: str) -> bool:
        return self.rules.secret_field(name)

    def secret_query(self, name: str) -> bool:
        return self.rules.secret_query_param(unquote_plus(name))


def redact_pairs(text: str, names: Names, separator: str = "&") -> str:
    """``a=1&token=2`` with the values of secret names replaced (query strings, forms)."""
    parts = text.split(separator)
    changed = False
    for i, part in enumerate(parts):
        name, eq, _value = part.partition("=")
        if eq and names.secret_query(name):
            parts[i] = f"{name}={PLACEHOLDER}"
            changed = True
    return separator.join(parts) if changed else text


def redact_url(url: str, names: Names) -> str:
    """``url`` with its password and the values of secret query parameters replaced."""
    if "@" in url:
        url = _USERINFO.sub(rf"\g<1>{PLACEHOLDER}\g<3>", url, count=1)
    query_at = url.find("?")
    if query_at < 0:
        return url
    fragment_at = url.find("#", query_at)
    end = len(url) if fragment_at < 0 else fragment_at
    query = redact_pairs(url[query_at + 1 : end], names)
    return url[: query_at + 1] + query + url[end:]


def redact_cookie_pairs(value: str) -> str:
    """``a=1; b=2`` (a ``Cookie`` header) with every value replaced."""
    pairs = []
    for pair in value.split(";"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={PLACEHOLDER}" if eq else pair)
    return ";".join(pairs)


def redact_set_cookie(value: str) -> str:
    """``name=value; Path=/`` -> ``name=<placeholder>; Path=/``: name and attributes stay."""
    first, semicolon, attributes = value.partition(";")
    name, eq, _ = first.partition("=")
    if not eq:
        return PLACEHOLDER
    return f"{name}={PLACEHOLDER}{semicolon}{attributes}"


def redact_header(name: str, value: str, names: Names) -> str:
    """The recordable value of one response header."""
    if names.secret_header(name):
        lowered = name.lower()
        if lowered in ("set-cookie", "set-cookie2"):
            names.rules.remember(value.partition(";")[0].partition("=")[2])
            return redact_set_cookie(value)
        if lowered == "cookie":
            return redact_cookie_pairs(value)
        return PLACEHOLDER
    if name.lower() in ("location", "content-location"):
        return redact_url(value, names)
    return value


def redact_json_value(value: Any, names: Names) -> tuple[Any, bool]:
    """A copy of a parsed JSON value with secret fields replaced, and whether any were."""
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and names.secret_field(key) and item != PLACEHOLDER:
                out[key] = PLACEHOLDER
                changed = True
            else:
                out[key], sub = redact_json_value(item, names)
                changed = changed or sub
        return out, changed
    if isinstance(value, list):
        items = [redact_json_value(item, names) for item in value]
        return [i for i, _ in items], any(c for _, c in items)
    return value, False


def _secret_leaves(value: Any, names: Names, found: list[Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and names.secret_field(key):
                found.append(item)
            else:
                _secret_leaves(item, names, found)
    elif isinstance(value, list):
        for item in value:
            _secret_leaves(item, names, found)


def _mentions_field(body: bytes, names: Names) -> bool:
    lowered = body.lower()
    return any(field in lowered for field in names.fields)


def redact_json_body(body: bytes, names: Names) -> bytes:
    """A JSON document with the values of secret fields replaced.

    The text keeps the server's formatting: each secret value is replaced
    where it stands, and only if that does not give the redacted document
    (an escaped string, a value that also appears elsewhere) is the document
    written out again with :func:`json.dumps`.
    """
    if not _mentions_field(body, names):
        return body
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    redacted, changed = redact_json_value(document, names)
    if not changed:
        return body
    leaves: list[Any] = []
    _secret_leaves(document, names, leaves)
    text = body.decode("utf-8")
    for leaf in leaves:
        text = text.replace(json.dumps(leaf, ensure_ascii=False), json.dumps(PLACEHOLDER))
    try:
        if json.loads(text) == redacted:
            return text.encode("utf-8")
    except ValueError:
        pass
    return json.dumps(redacted).encode("utf-8")


def redact_form_body(body: bytes, names: Names) -> bytes:
    """An ``application/x-www-form-urlencoded`` body with secret fields replaced."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return body
    redacted = redact_pairs(text, names)
    return body if redacted is text else redacted.encode("ascii")


def redact_body(body: bytes, content_type: str, names: Names) -> bytes:
    """Secret fields of JSON and form bodies replaced; other bodies as they are."""
    kind = content_type.lower()
    if "json" in kind:
        return redact_json_body(body, names)
    if "x-www-form-urlencoded" in kind:
        return redact_form_body(body, names)
    return body


def decompress(body: bytes, encoding: str) -> bytes | None:
    """The body under its ``Content-Encoding``; None when retrace cannot decode it."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return body
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        return None
    return None


def compress(body: bytes, encoding: str) -> bytes:
    """``body`` encoded again after redaction (deterministically: no timestamp)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


class Scrubber:
    """Secret values one request sent, to be scrubbed from what came back."""

    __slots__ = ("_bytes", "_pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._bytes = [(a.encode("utf-8"), b.encode("utf-8")) for a, b in pairs]

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def text(self, value: str) -> str:
        for needle, replacement in self._pairs:
            if needle in value:
                value = value.replace(needle, replacement)
        return value

    def data(self, value: bytes) -> bytes:
        for needle, replacement in self._bytes:
            if needle in value:
                value = value.replace(needle, replacement)
        return value

    def plain(self, value: Any) -> Any:
        """A copy of recorded plain data (CBOR tags included) with every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.data(value)
        if isinstance(value, list):
            return [self.plain(v) for v in value]
        if isinstance(value, dict):
            return {k: self.plain(v) for k, v in value.items()}
        if isinstance(value, cbor2.CBORTag):
            return cbor2.CBORTag(value.tag, self.plain(value.value))
        return value


def _values(value: str) -> Iterable[str]:
    yield value
    scheme, _, credential = value.partition(" ")
    if credential:
        yield credential
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return
            yield decoded
            yield decoded.partition(":")[2]


def scrubber_for(url: str, headers: Iterable[tuple[str, str]], form_or_json: Any,
                 names: Names) -> Scrubber:
    """Collect the secret values a request carries.

    :param url: the request URL (password, secret query parameters).
    :param headers: the request headers (secret headers, cookie values).
    :param form_or_json: the parsed request body fields, or None.
    """
    pairs: list[tuple[str, str]] = []
    values: list[str] = []
    match = _USERINFO.match(url)
    if match:
        values.append(match.group(2))
        values.append(unquote_plus(match.group(2)))
    query = url.partition("?")[2].partition("#")[0]
    for part in query.split("&") if query else ():
        name, eq, value = part.partition("=")
        if eq and names.secret_query(name) and value:
            pairs.append((f"{name}={value}", f"{name}={PLACEHOLDER}"))
            values.extend((value, unquote_plus(value)))
    for name, value in headers:
        if not names.secret_header(name):
            continue
        if name.lower() == "cookie":
            for pair in value.split(";"):
                values.append(pair.partition("=")[2].strip())
        else:
            values.extend(_values(value))
    if form_or_json is not None:
        leaves: list[Any] = []
        _secret_leaves(form_or_json, names, leaves)
        values.extend(v for v in leaves if isinstance(v, str))
    seen = {p for p, _ in pairs}
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) >= MIN_SCRUB and value != PLACEHOLDER and value not in seen:
            pairs.append((value, PLACEHOLDER))
            names.rules.remember(value)
    return Scrubber(pairs)


def redact_exchange(exchange: Exchange, scrubber: Scrubber, names: Names) -> Exchange:
    """The exchange as the trace may hold it: secret headers, cookies, fields and values out.

    A body is looked at only when it can hold named fields (JSON, forms) or
    the request sent secrets that could come back; it is decoded for that
    (gzip, deflate) and encoded again only when something was replaced, and
    ``Content-Length`` then follows the new length.
    """
    headers = []
    for name, value in exchange.headers:
        value = redact_header(name, value, names)
        headers.append((name, scrubber.text(value) if scrubber else value))
    body = exchange.body
    content_type = exchange.header("content-type") or ""
    kind = content_type.lower()
    if body and (scrubber or "json" in kind or "x-www-form-urlencoded" in kind):
        encoding = exchange.header("content-encoding") or ""
        decoded = decompress(body, encoding)
        if decoded is not None:
            redacted = redact_body(decoded, content_type, names)
            if scrubber:
                redacted = scrubber.data(redacted)
            if redacted != decoded:
                body = compress(redacted, encoding)
                headers = [(n, str(len(body)) if n.lower() == "content-length" else v)
                           for n, v in headers]
    return attrs.evolve(exchange, headers=headers, body=body)
