"""Calls from several sites in a loop replay in order; changed requests are divergences.

A divergence test records a program, edits the copy of it in ``run/`` (what
replay executes), and replays with the server stopped: a different URL or
body must stop the replay with exit status 86 and a report naming both
requests and their call sites; a different query order, header or JSON key
order must not (docs/adapters/requests.md, "Fingerprint").
"""

from __future__ import annotations

from pathlib import Path

from retrace.errors import EXIT_BAD_RECORDING, EXIT_DIVERGENCE
from retrace.testing import record, record_and_replay, replay

LOOP = r'''
import sys

import requests

base = sys.argv[1]
s = requests.Session()
for i in range(4):
    r = s.get(f"{base}/json", params={"i": i, "kind": "loop"}, headers={"X-Round": str(i)})
    p = s.post(f"{base}/echo", json={"i": i, "who": "loop"})
    if i % 2:
        q = requests.get(base + "/plain", stream=True)
        print(i, "odd", next(q.iter_lines()))
    print(i, r.status_code, r.json()["name"], p.json()["body_sha256"][:12], r.elapsed)
print("end", requests.get(base + "/bytes").content[:4])
'''


def _line(program: str, needle: str) -> int:
    return next(n for n, line in enumerate(program.splitlines(), 1) if needle in line)


def _record(tmp_path: Path, server) -> Path:
    program = tmp_path / "loop.py"
    program.write_text(LOOP)
    directory = tmp_path / "rec"
    recorded = record(program, directory, server.url, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    server.stop()
    return directory


def _edit(directory: Path, old: str, new: str) -> None:
    copy = directory / "run" / "loop.py"
    text = copy.read_text()
    assert old in text
    copy.write_text(text.replace(old, new))


def test_several_call_sites_in_a_loop(tmp_path: Path, http_server) -> None:
    program = tmp_path / "loop.py"
    program.write_text(LOOP)
    recorded, _ = record_and_replay(program, tmp_path / "rec", http_server.url,
                                    between=http_server.stop, times=2)
    assert recorded.stdout.count(" odd b'hello from the server'") == 2
    assert recorded.stdout.splitlines()[-1] == "end b'\\x00\\x01\\x02\\x03'"


def test_changed_url_is_a_divergence_naming_the_call_site(tmp_path: Path, http_server) -> None:
    directory = _record(tmp_path, http_server)
    _edit(directory, 'f"{base}/json"', 'f"{base}/bytes"')
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    report = replayed.stderr
    line = _line(LOOP, 'f"{base}/json"')
    assert "replay diverged at event" in report
    assert f"arguments: GET {http_server.url}/json?i=0&kind=loop" in report
    assert f"arguments: GET {http_server.url}/bytes?i=0&kind=loop" in report
    assert report.count(f"loop.py:{line}") == 2, report
    assert "Traceback" not in report


def test_changed_body_is_a_divergence(tmp_path: Path, http_server) -> None:
    directory = _record(tmp_path, http_server)
    _edit(directory, '"who": "loop"', '"who": "edited"')
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert f"arguments: POST {http_server.url}/echo" in replayed.stderr
    assert f"loop.py:{_line(LOOP, 's.post(')}" in replayed.stderr


def test_changed_method_is_a_divergence(tmp_path: Path, http_server) -> None:
    directory = _record(tmp_path, http_server)
    _edit(directory, "requests.get(base + \"/bytes\")", "requests.head(base + \"/bytes\")")
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert f"arguments: HEAD {http_server.url}/bytes" in replayed.stderr


def test_query_order_headers_and_json_key_order_are_not_divergences(
    tmp_path: Path, http_server
) -> None:
    program = tmp_path / "loop.py"
    program.write_text(LOOP)
    directory = tmp_path / "rec"
    recorded = record(program, directory, http_server.url, cwd=tmp_path)
    http_server.stop()
    _edit(directory, 'params={"i": i, "kind": "loop"}', 'params={"kind": "loop", "i": i}')
    _edit(directory, 'headers={"X-Round": str(i)}', 'headers={"X-Other": "changed"}')
    _edit(directory, 'json={"i": i, "who": "loop"}', 'json={"who": "loop", "i": i}')
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.observable() == recorded.observable(), replayed.stderr


def test_one_request_too_many_is_a_divergence(tmp_path: Path, http_server) -> None:
    directory = _record(tmp_path, http_server)
    _edit(directory, "for i in range(4):", "for i in range(5):")
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.status == EXIT_DIVERGENCE, replayed.stderr
    assert f"GET {http_server.url}/json?i=4&kind=loop" in replayed.stderr


def _tamper_responses(trace: Path) -> None:
    """Rewrite every recorded ``urlopen`` outcome as data that is no HTTP response."""
    import cbor2

    from retrace import trace as tracefmt

    data = trace.read_bytes()
    out = bytearray(data[: len(tracefmt.MAGIC)])
    offset, first, urlopen = len(tracefmt.MAGIC), True, None
    while offset < len(data):
        length = tracefmt._PREFIX.unpack(data[offset : offset + tracefmt.PREFIX_SIZE])[-1]
        payload = data[offset + tracefmt.PREFIX_SIZE : offset + tracefmt.PREFIX_SIZE + length]
        offset += tracefmt.PREFIX_SIZE + length
        if not first:
            items = cbor2.loads(payload)
            for i in range(0, len(items), tracefmt.RECORD_WIDTH):
                _, code, ident, _, value = items[i : i + tracefmt.RECORD_WIDTH]
                if code == tracefmt.DEF_BOUNDARY and value == "urllib3.urlopen":
                    urlopen = ident
                elif code >= 0 and code >> 1 == urlopen and not code & 1:
                    items[i + 4] = ["not", "a", "response"]
            payload = cbor2.dumps(items)
        first = False
        out += tracefmt.frame(payload)
    trace.write_bytes(bytes(out))


def test_a_tampered_response_is_a_bad_recording_not_a_traceback(tmp_path: Path,
                                                               http_server) -> None:
    directory = _record(tmp_path, http_server)
    _tamper_responses(directory / "trace.bin")
    replayed = replay(directory, cwd=tmp_path)
    assert replayed.status == EXIT_BAD_RECORDING, replayed.stderr
    assert "HTTP response for GET" in replayed.stderr
    assert "Traceback" not in replayed.stderr
