"""Record a program that uses all of requests against a real server, stop it, replay it.

The program prints every value it can observe; replay must print the same,
with the server gone. Cookie values are redacted by default (the replayed
program sees placeholders, see test_requests_redaction.py), so this program
prints cookies by name, path and expiry, and headers other than cookies in
full.
"""

from __future__ import annotations

from pathlib import Path

from retrace.testing import record, record_and_replay, replay

SCENARIO = r'''
import hashlib
import sys

import requests

base, hang_port, closed_port = sys.argv[1], sys.argv[2], sys.argv[3]


def jar(cookies):
    return sorted((c.name, c.domain, c.path, c.expires is not None, c.secure) for c in cookies)


def headers(mapping):
    return [(k, v) for k, v in mapping.items() if k.lower() not in ("set-cookie", "cookie")]


def show(label, r):
    print(f"== {label}: {r.status_code} {r.reason!r} {r.url}")
    print("  ok/redirect:", r.ok, r.is_redirect, r.is_permanent_redirect)
    print("  encoding:", r.encoding, r.apparent_encoding)
    print("  headers:", headers(r.headers), type(r.headers).__name__)
    print("  raw headers:", headers(r.raw.headers), r.raw.version, r.raw.status)
    print("  set-cookie names:", [c.split("=")[0] for c in r.raw.headers.getlist("Set-Cookie")])
    print("  content:", len(r.content), hashlib.sha256(r.content).hexdigest(), r.content[:60])
    print("  text:", r.text[:80])
    print("  cookies:", jar(r.cookies), "links:", r.links)
    print("  history:", [(h.status_code, h.url, h.headers.get("Location"), jar(h.cookies),
                          len(h.history)) for h in r.history])
    print("  elapsed:", r.elapsed, "request:", r.request.method, r.request.url)


def failure(label, call):
    try:
        call()
    except requests.RequestException as e:
        print(f"!! {label}: {type(e).__module__}.{type(e).__qualname__}")
        print("   message:", e)
        print("   is ConnectionError/Timeout:", isinstance(e, requests.ConnectionError),
              isinstance(e, requests.Timeout))
        print("   request:", e.request.url if e.request is not None else None,
              "response:", e.response.status_code if e.response is not None else None)
    else:
        print(f"!! {label}: no error")


s = requests.Session()
show("params", s.get(base + "/plain", params={"b": "2", "a": ["x", "y"]}))
r = s.get(base + "/json")
show("json", r)
print("  json():", r.json())
show("bytes", s.get(base + "/bytes"))
show("gzip", s.get(base + "/gzip"))
print("  json():", s.get(base + "/gzip").json()["compressed"])
show("deflate", s.get(base + "/deflate"))
show("chunked", s.get(base + "/chunked"))
show("headers", s.get(base + "/headers"))
print("  multi:", s.get(base + "/headers").raw.headers.getlist("X-Multi"))
show("latin1", s.get(base + "/latin1"))
show("no charset", s.get(base + "/nocharset"))

for size in (1, 5, 64, None):
    r = s.get(base + "/chunked", stream=True)
    print("  chunked iter_content", size, list(r.iter_content(chunk_size=size)))
for size in (3, 1000):
    r = s.get(base + "/gzip", stream=True)
    print("  gzip iter_content", size, [len(c) for c in r.iter_content(chunk_size=size)])
r = s.get(base + "/gzip", stream=True)
print("  gzip raw.read:", r.raw.read(10), r.raw.read(7), len(r.raw.read()))
r = s.get(base + "/deflate", stream=True)
print("  deflate raw decoded:", r.raw.read(9, decode_content=True), r.raw.tell())
r = s.get(base + "/plain", stream=True)
print("  iter_lines:", list(r.iter_lines()))
r = s.get(base + "/plain", stream=True)
print("  iter_lines 7 unicode:", list(r.iter_lines(chunk_size=7, decode_unicode=True)))
r = s.get(base + "/bytes", stream=True)
print("  raw.read 100:", [len(r.raw.read(100)) for _ in range(9)])
with s.get(base + "/plain", stream=True) as r:
    print("  context manager:", r.status_code, r.raw.closed)

c = requests.Session()  # the session that collects cookies
show("cookies", c.get(base + "/cookies"))
print("  session jar:", jar(c.cookies))
echoed = dict(c.get(base + "/echo").json()["headers"])
print("  cookie names sent:", [p.split("=")[0].strip() for p in echoed["Cookie"].split(";")])

show("redirects", c.get(base + "/redirect/4"))
show("post redirect", c.post(base + "/redirect/1", data={"k": "v"}))
show("no follow", c.get(base + "/redirect/2", allow_redirects=False))
show("head", c.head(base + "/plain"))
show("head follow", c.head(base + "/redirect/1", allow_redirects=True))
print("  jar after redirects:", jar(c.cookies))
c.max_redirects = 3
failure("too many redirects", lambda: s.get(base + "/loop"))

for code in (404, 500):
    r = s.get(base + f"/status/{code}")
    show(f"status {code}", r)
    failure("raise_for_status", r.raise_for_status)

show("post json", s.post(base + "/echo", json={"b": 1, "a": [1, 2]}, headers={"X-Custom": "yes"}))
show("post form", s.post(base + "/echo", data={"field": "value", "other": "x y"}))
show("put bytes", s.put(base + "/echo", data=bytes(range(40))))
show("patch", s.patch(base + "/echo", data="text body"))
show("delete", s.delete(base + "/echo?x=1"))
show("options", s.options(base + "/echo"))
show("files", s.post(base + "/echo", files={"upload": ("a.txt", b"file contents\n")},
                     data={"note": "n"}))
show("generator body", s.post(base + "/echo", data=(p for p in [b"chunk1", b"chunk2"])))
show("module get", requests.get(base + "/json", headers={"Accept": "application/json"}))
show("module request", requests.request("POST", base + "/echo", json=[1, 2, 3]))

failure("connection refused", lambda: requests.get(f"http://127.0.0.1:{closed_port}/x"))
failure("read timeout", lambda: s.get(base + "/slow?s=1", timeout=0.2))
failure("connect timeout", lambda: requests.get(f"http://127.0.0.1:{hang_port}/", timeout=(0.2, 1)))
failure("ssl", lambda: requests.get(base.replace("http:", "https:") + "/plain"))
failure("truncated", lambda: requests.get(base + "/truncated"))
failure("invalid url", lambda: requests.get("http://"))
failure("missing schema", lambda: requests.get("example.invalid/x"))
print("done")
'''


def test_scenario_replays_identically(tmp_path: Path, http_server, unanswered_port: int,
                                      closed_port: int) -> None:
    program = tmp_path / "scenario.py"
    program.write_text(SCENARIO)
    recorded, _ = record_and_replay(
        program, tmp_path / "rec", http_server.url, str(unanswered_port), str(closed_port),
        between=http_server.stop,
    )
    assert recorded.status == 0, recorded.stderr
    out = recorded.stdout
    assert out.rstrip().endswith("done")
    for expected in (
        "== json: 200 'OK'",
        "json(): {'name': 'café'",
        "multi: ['one', 'two', 'three']",
        "chunked iter_content 5 [b'first', b' chun'",
        "!! too many redirects: requests.exceptions.TooManyRedirects",
        "!! raise_for_status: requests.exceptions.HTTPError",
        "!! connection refused: requests.exceptions.ConnectionError",
        "!! read timeout: requests.exceptions.ReadTimeout",
        "!! connect timeout: requests.exceptions.ConnectTimeout",
        "!! ssl: requests.exceptions.SSLError",
        "!! truncated: requests.exceptions.ConnectionError",
        "!! invalid url: requests.exceptions.InvalidURL",
        "(301, ", "(302, ", "(303, ",
        "naïve façade",
        "session jar: [('colour', '127.0.0.1', '/', False, False), "
        "('flavour', '127.0.0.1', '/', False, False), ('ttl', '127.0.0.1', '/', True, False)]",
    ):
        assert expected in out, f"{expected!r} not in the recorded output:\n{out}"


THREADS = r'''
import sys
import threading

import requests

base = sys.argv[1]
seen = []
finish = threading.Event()


def worker(name, started):
    session = requests.Session()
    for i in range(3):
        r = session.get(f"{base}/json", params={"worker": name, "i": i})
        seen.append((name, i, r.status_code, r.elapsed))
        started.set()
    finish.wait()


# retrace tells threads apart by the order of their first boundary call and
# by thread id, which the OS reuses once a thread has ended: each thread
# makes its first request before the next starts, and none ends before all
# have started. In between they run concurrently, and replay enforces the
# recorded interleaving.
threads = []
for name in ("a", "b", "c"):
    started = threading.Event()
    thread = threading.Thread(target=worker, args=(name, started))
    thread.start()
    started.wait()
    threads.append(thread)
finish.set()
for thread in threads:
    thread.join()
print(seen)
'''


def test_requests_from_several_threads(tmp_path: Path, http_server) -> None:
    program = tmp_path / "threads.py"
    program.write_text(THREADS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", http_server.url,
                                    between=http_server.stop, times=2)
    assert recorded.stdout.count(", 200, datetime.timedelta(") == 9


CRASH = r'''
import logging
import sys

import requests

logging.basicConfig(format="%(levelname)s %(message)s")
url = sys.argv[1]
try:
    requests.get(url, timeout=5)
except requests.ConnectionError:
    logging.exception("the stock service is down")  # the whole traceback in one write
print("and now without a try", flush=True)
requests.get(url, timeout=5)
'''


def test_an_uncaught_connection_error_crashes_the_same_on_replay(
        tmp_path: Path, closed_port: int) -> None:
    """The crash a user chases: its traceback is verified by program frames and messages.

    The library frames below the boundary (urllib3 opening the socket) and
    the exceptions urllib3 chained inside itself do not run on replay; the
    program's frames, the exception and its message are the same.
    """
    program = tmp_path / "crash.py"
    program.write_text(CRASH)
    rec = tmp_path / "rec"
    recorded = record(program, rec, f"http://127.0.0.1:{closed_port}/stock", cwd=tmp_path)
    assert recorded.status == 1, recorded.stderr
    assert recorded.stdout == "and now without a try\n"
    assert recorded.stderr.startswith("ERROR the stock service is down\nTraceback")
    assert "ConnectionRefusedError" in recorded.stderr  # the chain urllib3 made, recorded live
    for _ in range(2):
        replayed = replay(rec)
        assert (replayed.status, replayed.stdout) == (recorded.status, recorded.stdout), replayed
        assert "retrace:" not in replayed.stderr, replayed.stderr
        last = [line for line in replayed.stderr.splitlines() if not line.startswith(" ")]
        assert last[-1] == recorded.stderr.splitlines()[-1]
        assert last[-1].startswith("requests.exceptions.ConnectionError: ")
        assert f'File "{program}", line 14, in <module>' in replayed.stderr
