"""Benchmark: a realistic service recorded as a whole process, 1,000 requests: live vs record vs replay.

Run ``python bench/bench_service.py`` with PostgreSQL and Redis on
127.0.0.1. The service is a WSGI app served by ``wsgiref`` (one thread);
each request reads a product from PostgreSQL, counts the view and caches the
rendered product in Redis (``INCR``, ``GET``, ``SET`` on a miss), and asks a
local HTTP API (a separate process) for the stock with ``requests``. A client
in this process sends 1,000 requests (after 50 of warm-up), one connection
each, to the server run three ways: plain ``python`` (live), under
``retrace record`` (the whole server process), and ``retrace replay`` of
that recording, which needs no client and no services. Printed per phase,
best of ``--repeat`` interleaved rounds: the client's wall time per request
(live and record), the server's own wall and CPU time for its request loop
(all three), ratios against live, events and trace bytes per request.

The local API answers at once, so the live service is CPU-bound: the worst
case for replay's ratio. The workload then runs again with the API
answering after ``--api-latency-ms`` (2 ms by default, a service in the same
data centre; 0 skips it): the I/O-bound service the replay goal is about.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _channel
import attrs
from _result import emit

REQUESTS = 1_000
WARMUP = 50
PRODUCTS = 100
ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
DATABASE = "retrace_bench_service"
PREFIX = "retrace-bench-service:"

SERVICE = f'''
import json
import os
import sys
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import psycopg
import redis
import requests

dsn, redis_port, api = sys.argv[1], int(sys.argv[2]), sys.argv[3]
total, warmup = int(sys.argv[4]), int(sys.argv[5])
db = psycopg.connect(dsn, autocommit=True)
cache = redis.Redis(host="127.0.0.1", port=redis_port)
inventory = requests.Session()


def app(environ, start_response):
    product = int(environ["PATH_INFO"].rsplit("/", 1)[1])
    row = db.execute("SELECT id, name, price, category FROM products WHERE id = %s",
                     (product,)).fetchone()
    views = cache.incr(f"{PREFIX}views:{{product}}")
    key = f"{PREFIX}page:{{product}}"
    page = cache.get(key)
    if page is None:
        page = json.dumps({{"id": row[0], "name": row[1], "price": str(row[2]),
                           "category": row[3]}}).encode()
        cache.set(key, page, ex=300)
    stock = inventory.get(f"{{api}}/stock/{{product}}", timeout=10).json()
    body = json.dumps({{"product": json.loads(page), "views": views, "stock": stock}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def report(text):
    try:
        os.write({_channel.FD}, text.encode())  # past every boundary: see bench/_channel.py
    except OSError:
        pass


server = WSGIServer(("127.0.0.1", 0), Quiet)
server.set_app(app)
report(f"port {{server.server_address[1]}}\\n")
for i in range(warmup + total):
    if i == warmup:
        wall = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
    request, peer = server.get_request()  # accept() itself: a selector is not a boundary
    server.process_request(request, peer)
wall = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - wall
cpu = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID) - cpu
server.server_close()
report(f"timing {{wall}} {{cpu}}\\n")
'''

API = '''
import http.server
import json
import sys
import time

LATENCY = float(sys.argv[1])


class Stock(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body in one send: no Nagle/delayed-ACK stall on keep-alive
    disable_nagle_algorithm = True

    def do_GET(self):
        time.sleep(LATENCY)
        product = int(self.path.rsplit("/", 1)[1])
        body = json.dumps({"product": product, "available": product * 7 % 23}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stock)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
'''


@attrs.define
class Round:
    """One run of the server: the client's wall seconds, the server's wall and CPU seconds."""

    client: float | None
    wall: float
    cpu: float


def _prepare_database(database: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    dsn = f"host=127.0.0.1 port=5432 dbname={database} user=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE products (id int PRIMARY KEY, name text, price numeric(10, 2), "
                     "category text)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO products VALUES (%s, %s, %s, %s)",
                            [(i, f"product {i}", f"{i * 3.25:.2f}", ("tools", "books", "food")[i % 3])
                             for i in range(PRODUCTS)])
    return dsn


def _drop_database(database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def _clear_cache(port: int) -> None:
    import redis

    r = redis.Redis(host="127.0.0.1", port=port)
    keys = list(r.scan_iter(f"{PREFIX}*", count=1000))
    if keys:
        r.delete(*keys)


def _drive(port: int, total: int, warmup: int = WARMUP, timeout: float = 30) -> float:
    """Send every request (warm-up first) and time the measured ones; every answer is checked.

    ``timeout`` is per request (``bench/profile_sockets.py`` serves them under callgrind)."""
    start = 0.0
    for i in range(warmup + total):
        if i == warmup:
            start = time.perf_counter()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        client.request("GET", f"/product/{i % PRODUCTS}")
        answer = client.getresponse()
        body = answer.read()
        client.close()
        if answer.status != 200 or b'"stock"' not in body:
            raise SystemExit(f"request {i}: {answer.status} {body[:200]!r}")
    return time.perf_counter() - start


def _serve(command: list[str], env: dict[str, str], drive: int) -> Round:
    """Run the server with its report channel (``bench/_channel.py``); send it ``drive`` requests."""
    server, reports = _channel.start(command, env)
    with reports:
        port = int(reports.readline().split()[1])
        client = _drive(port, drive) if drive else None
        stdout, stderr = server.communicate(timeout=600)
        if server.returncode != 0 or "retrace:" in stderr:
            raise SystemExit(f"{' '.join(command)} failed ({server.returncode}):\n{stdout}\n{stderr}")
        _, wall, cpu = reports.readline().split()
    return Round(client, int(wall) / 1e9, int(cpu) / 1e9)


def _events(recording: Path) -> int:
    done = subprocess.run([sys.executable, "-m", "retrace", "inspect", "--json", str(recording)],
                          capture_output=True, text=True, check=True)
    import json

    return int(json.loads(done.stdout)["events"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--database", default=DATABASE,
                        help="the PostgreSQL database to create and drop (two runs at once need two)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--keep", metavar="DIR", help="copy the last recording here (for retrace stats)")
    parser.add_argument("--api-latency-ms", type=float, default=2.0,
                        help="the API's delay in the I/O-bound run (0 skips that run)")
    options = parser.parse_args()
    for latency in (0.0, options.api_latency_ms) if options.api_latency_ms else (0.0,):
        _run(options, latency)


def _run(options: argparse.Namespace, latency_ms: float) -> None:
    total = options.requests
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    dsn = _prepare_database(options.database)
    with tempfile.TemporaryDirectory(prefix="retrace-bench-service-") as tmp:
        folder = Path(tmp)
        (folder / "service.py").write_text(SERVICE)
        (folder / "api.py").write_text(API)
        api = subprocess.Popen([sys.executable, str(folder / "api.py"), str(latency_ms / 1000)],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert api.stdout is not None
            api_url = f"http://127.0.0.1:{int(api.stdout.readline())}"
            args = [str(folder / "service.py"), dsn, str(options.redis_port), api_url, str(total),
                    str(WARMUP)]
            rounds: dict[str, list[Round]] = {"live": [], "record": [], "replay": []}
            recording = folder / "rec"
            for _ in range(options.repeat):
                _clear_cache(options.redis_port)
                rounds["live"].append(_serve([sys.executable, *args], env, drive=total))
                _clear_cache(options.redis_port)
                rounds["record"].append(_serve([sys.executable, "-m", "retrace", "record", "-o",
                                                str(recording), "--overwrite", *args], env, drive=total))
                rounds["replay"].append(_serve([sys.executable, "-m", "retrace", "replay", str(recording)],
                                               env, drive=0))
            size = (recording / "trace.bin").stat().st_size
            events = _events(recording)
            if options.keep:
                shutil.copytree(recording, options.keep, dirs_exist_ok=True)
        finally:
            api.terminate()
            api.wait()
            _clear_cache(options.redis_port)
            _drop_database(options.database)
    _print(rounds, size, events, options.repeat, total, latency_ms)


def _print(rounds: dict[str, list[Round]], size: int, events: int, repeat: int, total: int,
           latency_ms: float) -> None:
    import psycopg
    import redis
    import requests

    shape = f"the API answers after {latency_ms:g} ms" if latency_ms else "the API answers at once"
    print(f"service ({shape}): {total:,} requests after {WARMUP} of warm-up, best of {repeat}; Python "
          f"{sys.version.split()[0]}, psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), "
          f"redis-py {redis.__version__}, requests {requests.__version__}; "
          f"load average {os.getloadavg()[0]:.1f}")
    per = 1e6 / total
    live = {
        "client": min(r.client for r in rounds["live"] if r.client is not None),
        "wall": min(r.wall for r in rounds["live"]),
        "cpu": min(r.cpu for r in rounds["live"]),
    }
    print(f"  {'phase':<7}{'client µs/req':>14}{'x live':>8}{'server µs/req':>15}{'x live':>8}"
          f"{'server CPU µs/req':>19}{'x live':>8}")
    for phase, runs in rounds.items():
        best_wall = min(r.wall for r in runs)
        best_cpu = min(r.cpu for r in runs)
        clients = [r.client for r in runs if r.client is not None]
        client = f"{min(clients) * per:>14.0f}{min(clients) / live['client']:>8.2f}" if clients else " " * 22
        print(f"  {phase:<7}{client}{best_wall * per:>15.0f}{best_wall / live['wall']:>8.2f}"
              f"{best_cpu * per:>19.0f}{best_cpu / live['cpu']:>8.2f}")
    served = total + WARMUP
    print(f"  trace  {size:,} bytes, {events:,} events for {served:,} requests: "
          f"{size / served:.0f} bytes and {events / served:.1f} events per request")
    best = {phase: (min(r.wall for r in runs), min(r.cpu for r in runs))
            for phase, runs in rounds.items()}
    for kind, index in (("server wall", 0), ("server CPU", 1)):
        emit(f"service, {shape}: {total:,} requests ({kind})", "request",
             *(best[phase][index] / total for phase in ("live", "record", "replay")),
             bytes_per_event=size / served, note=f"bytes per request; {events / served:.1f} events")


if __name__ == "__main__":
    main()
