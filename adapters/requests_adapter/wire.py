"""One HTTP response as the trace holds it, and the urllib3 response rebuilt from it.

An :class:`Exchange` is what came over the wire: status line, header lines in
the order received (repeated names included), and the body after transfer
framing but before content decoding (a gzip body stays gzip). Rebuilding
writes those bytes out again as an HTTP/1.x response and hands them to the
real parsers: :class:`http.client.HTTPResponse` reads the head and the body
from them, urllib3's ``HTTPResponse`` wraps that exactly as it wraps a
socket's, and requests builds its ``Response`` from that as usual. So headers,
cookies, gzip and deflate decoding, chunked reads, ``iter_content`` in any
chunk size and ``raw.read`` all run the library's own code on replay.

The program gets a rebuilt response while recording too, so what it can
observe is the same in both modes. Recording skips parsing the head again:
a new ``http.client`` response takes the live one's parsed head and the
state ``begin()`` left it in, and reads the recorded body.
"""

from __future__ import annotations

import functools
import http.client
import io
from typing import Any

import attrs

_VERSIONS = {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}


@attrs.frozen
class Exchange:
    """A response as received: what the trace records for one ``urlopen``."""

    status: int
    reason: str
    version: int
    version_string: str | None
    headers: list[tuple[str, str]]
    body: bytes
    #: While recording, the live response objects to rebuild from (never recorded).
    live: Live | None = attrs.field(default=None, eq=False, repr=False)

    def to_plain(self) -> list[Any]:
        flat: list[str] = []
        for name, value in self.headers:
            flat += (name, value)
        return [self.status, self.reason, self.version, self.version_string, flat, self.body]

    @classmethod
    def from_plain(cls, plain: Any) -> Exchange:
        """The exchange a trace holds; ``ValueError`` if it is not one."""
        if not (isinstance(plain, list) and len(plain) == 6):
            raise ValueError("not a recorded HTTP response")
        status, reason, version, version_string, flat, body = plain
        if not (isinstance(status, int) and isinstance(reason, str) and isinstance(version, int)
                and isinstance(version_string, (str, type(None))) and isinstance(flat, list)
                and len(flat) % 2 == 0 and all(isinstance(h, str) for h in flat)
                and isinstance(body, bytes)):
            raise ValueError("malformed recorded HTTP response")
        headers = list(zip(flat[::2], flat[1::2], strict=True))
        return cls(status, reason, version, version_string, headers, body)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), as http.client reads it."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


class Live:
    """The parsed head of a live response, to read a recorded body through a copy of it."""

    __slots__ = ("headers", "original", "state")

    def __init__(self, original: http.client.HTTPResponse, headers: Any) -> None:
        self.original = original
        self.headers = headers
        self.state = (original.chunked, original.chunk_left, original.length, original.will_close)

    def reread(self, body: bytes, method: str) -> http.client.HTTPResponse:
        """A new ``http.client`` response with the live one's head, reading ``body``.

        A new object, because the live one still belongs to its connection,
        which closes it when the pool is closed (``requests.get`` closes its
        session before a streamed body is read).
        """
        live = self.original
        fresh = http.client.HTTPResponse(_Wire(body), method=method)  # type: ignore[arg-type]
        fresh.msg = fresh.headers = live.msg
        fresh.version, fresh.status, fresh.reason = live.version, live.status, live.reason
        fresh.chunked, fresh.chunk_left, fresh.length, fresh.will_close = self.state
        return fresh


def capture(response: Any) -> Exchange:
    """Read a live urllib3 response to the end and release its connection.

    The body is read with ``decode_content=False``: the trace holds the
    bytes the server sent, and decoding happens again on every replay.
    """
    original = getattr(response, "_original_response", None)
    message = getattr(original, "msg", None)
    items = message.items() if message is not None else response.headers.items()
    live = None if original is None or message is None else Live(original, response.headers)
    try:
        body = response.read(decode_content=False)
    finally:
        response.release_conn()
    return Exchange(
        status=response.status,
        reason=response.reason or "",
        version=response.version,
        version_string=getattr(response, "version_string", None),
        headers=[(str(k), str(v)) for k, v in items],
        body=body or b"",
        live=live,
    )


def _framed_body(exchange: Exchange) -> bytes:
    """The body as on the wire: one chunk and the last chunk if the headers say chunked."""
    body = exchange.body
    if (exchange.header("transfer-encoding") or "").lower() != "chunked":
        return body
    chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b""
    return chunk + b"0\r\n\r\n"


def _frame(exchange: Exchange) -> bytes:
    """The exchange as an HTTP/1.x response: status line, header lines, framed body."""
    version = "HTTP/1.0" if exchange.version == 10 else "HTTP/1.1"
    lines = [f"{version} {exchange.status} {exchange.reason}"]
    lines += [f"{name}: {value}" for name, value in exchange.headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1")
    return head + _framed_body(exchange)


class _Wire:
    """The connection an http.client response reads a recorded response from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self._data)


def _urllib3_headers(message: http.client.HTTPMessage) -> Any:
    """Headers built from the parsed message the way this urllib3 version builds them."""
    from urllib3 import connection
    from urllib3._collections import HTTPHeaderDict

    normalize = getattr(connection, "_normalize_header_values", None)
    if normalize is not None:
        return HTTPHeaderDict(normalize(message))
    return HTTPHeaderDict(message.items())


@functools.cache
def _accepts_version_string() -> bool:
    from urllib3.response import HTTPResponse

    return "version_string" in HTTPResponse.__init__.__code__.co_varnames


def rebuild(exchange: Exchange, method: str, url: str, preload_content: bool,
            decode_content: bool, retries: Any = None) -> Any:
    """A urllib3 ``HTTPResponse`` reading ``exchange`` as if from a socket."""
    from urllib3.response import HTTPResponse

    if exchange.live is not None:
        original = exchange.live.reread(_framed_body(exchange), method)
        headers = exchange.live.headers
    else:
        original = http.client.HTTPResponse(_Wire(_frame(exchange)), method=method)  # type: ignore[arg-type]
        original.begin()
        headers = _urllib3_headers(original.msg)
    options: dict[str, Any] = {
        "body": original,
        "headers": headers,
        "status": original.status,
        "version": original.version,
        "reason": original.reason,
        "preload_content": preload_content,
        "decode_content": decode_content,
        "original_response": original,
        "retries": retries,
        "request_method": method,
        "request_url": url,
    }
    if _accepts_version_string():
        options["version_string"] = exchange.version_string or _VERSIONS.get(
            exchange.version, "HTTP/?")
    return HTTPResponse(**options)
