"""The recorder's per-event shortcuts give exactly what the slow path gave.

Call sites found through a library's frames, fingerprints digested without
the plain-data walk, summaries made once per key: each is checked against
what the trace must hold, and a replay of the recording must still match.
"""

from __future__ import annotations

import sys
import types
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest

from retrace import runtime, trace
from retrace.boundary import Boundary
from retrace.codecs import CodecRegistry
from retrace.redaction import PLACEHOLDER, RedactionRules
from retrace.session import begin_recording, begin_replay

# A library, as far as call sites go: frames whose module is "fakelib".
fakelib = types.ModuleType("fakelib")
exec(
    "def query(value):\n"
    "    return call(QUERY, real, value)\n"
    "def inner(value):\n"
    "    return query(value)\n"
    "def outer(value):\n"
    "    return inner(value)\n"
    "def calling_back(callback, value):\n"
    "    return callback(value)\n",
    fakelib.__dict__,
)

summaries: list[Any] = []


def _summary(instance: Any, args: Any, kwargs: Any) -> str:
    summaries.append(args[0])
    return f"query {args[0]!r}"


def _summary_key(instance: Any, args: Any, kwargs: Any) -> Any:
    return args[0] if args[0] != "unhashable" else [args[0]]


QUERY = Boundary("fake.query", fingerprint=lambda i, a, k: ["Q", a[0]], summary=_summary,
                 summary_key=_summary_key, library=("fakelib",))


def _real(value: Any) -> Any:
    return [value, {"rows": [1, 2]}]


fakelib.__dict__.update(call=runtime.call, QUERY=QUERY, real=_real)


def _line(fragment: str) -> int:
    source = Path(__file__).read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if fragment in line and "_line(" not in line)


def program() -> list[Any]:
    seen = []
    for round_ in range(3):
        seen.append(fakelib.outer("a"))  # site: outer
        seen.append(fakelib.inner("b"))  # site: inner
        seen.append(fakelib.query("c"))  # site: direct
        seen.append(fakelib.calling_back(lambda v: fakelib.inner(v), "d"))  # site: callback
        seen.append(fakelib.outer("unhashable"))  # site: unhashable
        seen.append(fakelib.outer(round_))  # site: keyed
    return seen


def _events(path: Path) -> tuple[list[tuple[str, int, Any]], dict[int, str]]:
    """``(boundary, line of the call site, summary id)`` of each fake.query event; the summaries."""
    reader = trace.TraceReader(str(path))
    names: dict[int, str] = {}
    sites: dict[int, tuple[str, int]] = {}
    texts: dict[int, str] = {}
    events = []
    try:
        for _offset, items in reader.blocks():
            for i in range(0, len(items), trace.RECORD_WIDTH):
                _thread, code, ident, fp, value = items[i : i + trace.RECORD_WIDTH]
                if code == trace.DEF_BOUNDARY:
                    names[ident] = value
                elif code == trace.DEF_SITE:
                    sites[ident] = (value[0], value[1])
                elif code == trace.DEF_SUMMARY:
                    texts[ident] = value
                elif code >= 0 and names[code >> 1] == "fake.query":
                    assert type(fp) is int  # the digest and the interned summary's id, in one
                    events.append((sites[ident][0], sites[ident][1], (fp >> trace.DIGEST_BITS) - 1))
    finally:
        reader.close()
    return [(f, line, s) for f, line, s in events], texts


def test_call_sites_summaries_and_replay(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    summaries.clear()
    session = begin_recording(directory, {"kind": "code", "code": ""}, ["test"], None)
    try:
        recorded = program()
    finally:
        session.end(0)

    events, texts = _events(directory / "trace.bin")
    lines = [line for _file, line, _s in events]
    expected = [_line(f"# site: {where}") for where in
                ("outer", "inner", "direct", "callback", "unhashable", "keyed")]
    callback = _line("# site: callback")
    assert lines == [*expected] * 3
    assert all(file == __file__ for file, _line_no, _s in events)
    assert expected[3] == callback
    # a summary per distinct key, made once; the unhashable key is summarised every time
    assert sorted(map(str, summaries)) == sorted(
        ["a", "b", "c", "d", "0", "1", "2"] + ["unhashable"] * 3)
    shown = [texts[s] for _f, _l, s in events]
    assert shown[:6] == ["query 'a'", "query 'b'", "query 'c'", "query 'd'",
                         "query 'unhashable'", "query 0"]
    assert shown[-1] == "query 2"

    session = begin_replay(directory, on_divergence=pytest.fail)
    try:
        replayed = program()
    finally:
        session.end(0)
    assert replayed == recorded


@pytest.mark.parametrize("data", [
    "", "x" * 23, "x" * 24, "é" * 200, "x" * 255, "x" * 256, "x" * 65535, "x" * 65536,
    b"", b"y" * 23, b"y" * 24, b"y" * 300, b"y" * 70000,
    ["SET", "key", 1, -5, 2**40, 1.5, True, None, b"raw"],
    ["GET", ["nested"]], {"a": 1}, 7, None, [],
    ["sendall", [3735928559, 183]], ["sendto", [1, 2], ["127.0.0.1", 53]], [[], "x", [None]],
    ["deep", [["deeper"]]], ["map", [{"a": 1}]],
])
def test_digest_is_the_crc_of_cbor2s_encoding(data: Any) -> None:
    """Recordings made before the shortcuts hold these digests: they must not move."""
    codecs = CodecRegistry()
    assert runtime.digest(codecs, data) == zlib.crc32(cbor2.dumps(codecs.to_plain(data)))


def test_digest_as_replayed_redacts_plain_strings() -> None:
    codecs = CodecRegistry()
    rules = RedactionRules()
    rules.remember("s3cr3t-token")
    with_secret = runtime.digest_as_replayed(codecs, "Bearer s3cr3t-token", rules)
    assert with_secret == runtime.digest(codecs, f"Bearer {PLACEHOLDER}")
    listed = runtime.digest_as_replayed(codecs, ["AUTH", "s3cr3t-token"], rules)
    assert listed == runtime.digest(codecs, ["AUTH", PLACEHOLDER])
    assert runtime.digest_as_replayed(codecs, "plain", rules) == runtime.digest(codecs, "plain")


def test_a_surrogate_in_a_fingerprint_digests_as_before() -> None:
    codecs = CodecRegistry()
    try:
        expected: Any = zlib.crc32(cbor2.dumps("bad \udcff"))
    except Exception as exc:
        expected = type(exc)
    try:
        assert runtime.digest(codecs, "bad \udcff") == expected
    except Exception as exc:
        assert type(exc) is expected


assert sys.modules.get("fakelib") is None  # the fake library is never importable
