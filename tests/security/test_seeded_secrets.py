"""Seeded secrets: a program uses known secrets with every landed adapter; none reaches the recording.

The program takes every secret from environment variables (so its own
source, copied into ``run/``, holds none) and uses them the way services
are used: secret environment variables and a ``DATABASE_URL`` with a
password; HTTP with a bearer token, an API key header, a cookie, basic auth
in the URL, a secret query parameter and a JSON ``password`` field, against
a server that answers with a session cookie, an auth-token header and an
``access_token`` field; PostgreSQL with the password in a URL and in
``password=``, and a secret as a query parameter (psycopg's adapter writes no
parameter value, only a digest); Redis ``AUTH`` as an ACL user this test
creates and removes. Then every file of the recording directory is searched
for each secret's bytes, raw and in the encodings a protocol would use.
"""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from retrace.testing import record, replay

psycopg = pytest.importorskip("psycopg")
redis = pytest.importorskip("redis")
pytest.importorskip("requests")

ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def _secret(kind: str) -> str:
    return f"seeded-{kind}-{secrets.token_hex(12)}"


SERVER_SECRETS = {name: _secret(name) for name in ("set-cookie", "auth-header", "access-token")}

PROGRAM = textwrap.dedent(
    """
    import os
    import sys

    import psycopg
    import redis
    import requests

    env = os.environ
    base, redis_user, prefix = sys.argv[1], sys.argv[2], sys.argv[3]

    # environment: secret names, and a URL with a password
    token, api_key, cookie = env["APP_API_TOKEN"], env["APP_API_KEY"], env["APP_SESSION_COOKIE"]
    password, client_secret = env["APP_PASSWORD"], env["APP_CLIENT_SECRET"]
    print("environment read:", len(token) > 0, len(env["DATABASE_URL"]) > 0)

    # HTTP
    host = base.split("//", 1)[1]
    session = requests.Session()
    answer = session.post(f"http://ada:{password}@{host}/orders", params={"access_token": token},
                          headers={"Authorization": f"Bearer {token}", "X-Api-Key": api_key},
                          cookies={"sid": cookie}, json={"user": "ada", "password": password,
                                                         "client_secret": client_secret})
    print("http:", answer.status_code, answer.json()["path"])
    login = session.get(base + "/login")
    print("login:", login.status_code, sorted(login.json()), sorted(set(session.cookies.keys())))

    # PostgreSQL: the password in a URL and as password=, a secret as a query parameter
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (api_key) VALUES (%s)", (env["APP_DB_API_KEY"],))
        found = conn.execute("SELECT count(*) FROM accounts WHERE api_key = %s",
                             (env["APP_DB_API_KEY"],)).fetchone()
        print("postgres:", found[0])
    with psycopg.connect(env["APP_DB_DSN"], password=env["APP_DB_PASSWORD"]) as conn:
        print("postgres again:", conn.execute("SELECT 1").fetchone()[0])

    # Redis AUTH as an ACL user
    r = redis.Redis(host="127.0.0.1", port=6379, username=redis_user,
                    password=env["APP_REDIS_PASSWORD"])
    r.set(prefix + "greeting", "hello")
    print("redis:", r.get(prefix + "greeting"), r.acl_whoami() == redis_user)
    """
).lstrip()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers without echoing what it was sent, and hands out secrets of its own."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        path = self.path.split("?")[0]
        doc: dict[str, Any] = {"path": path}
        if path == "/login":
            doc = {"user": "ada", "access_token": SERVER_SECRETS["access-token"]}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"session={SERVER_SECRETS['set-cookie']}; Path=/; HttpOnly")
        self.send_header("X-Auth-Token", SERVER_SECRETS["auth-header"])
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


class _Server:
    """The local HTTP API; ``stop`` ends it early (a replay must not need it)."""

    def __init__(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()


@pytest.fixture
def http_server() -> Iterator[_Server]:
    server = _Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(postgres_service: tuple[str, int]) -> Iterator[str]:
    from psycopg import sql

    name = f"retrace_sec_{secrets.token_hex(5)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={name} user=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE accounts (id serial PRIMARY KEY, api_key text)")
        yield name
    finally:
        _drop_database(name)


def _drop_database(name: str) -> None:
    from psycopg import sql

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def redis_user(redis_service: tuple[str, int]) -> Iterator[tuple[str, str, str]]:
    """``(user, password, key prefix)``: an ACL user allowed only its own keys; removed afterwards."""
    admin = redis.Redis(host="127.0.0.1", port=6379)
    tag = secrets.token_hex(5)
    user, password, prefix = f"retrace-sec-{tag}", _secret("redis-password"), f"retrace-sec:{tag}:"
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=[f"{prefix}*"],
                      commands=["+@all"])
    try:
        yield user, password, prefix
    finally:
        _remove_redis_user(user, prefix)
        admin.close()


def _remove_redis_user(user: str, prefix: str) -> None:
    admin = redis.Redis(host="127.0.0.1", port=6379)
    admin.acl_deluser(user)
    for key in admin.scan_iter(f"{prefix}*"):
        admin.delete(key)
    admin.close()


def _encodings(secret: str, user: str | None = None) -> list[bytes]:
    """The secret as bytes, and as HTTP or a URL would carry it."""
    forms = [secret.encode(), quote(secret, safe="").encode()]
    if user is not None:
        forms.append(base64.b64encode(f"{user}:{secret}".encode()))
    return forms


EXPECTED_OUTPUT = [
    "environment read: True True",
    "http: 200 /orders",
    "login: 200 ['access_token', 'user'] ['session']",
    "postgres: 1",
    "postgres again: 1",
    "redis: b'hello' True",
]


def _record_seeded(
    tmp_path: Path, http_base: str, database: str, redis_user: tuple[str, str, str]
) -> tuple[Path, dict[str, str], str]:
    """Record the program with every secret planted: ``(recording, planted, URL password)``."""
    user, redis_password, prefix = redis_user
    planted = {
        "APP_API_TOKEN": _secret("token"),
        "APP_API_KEY": _secret("api-key"),
        "APP_SESSION_COOKIE": _secret("cookie"),
        "APP_PASSWORD": _secret("password"),
        "APP_CLIENT_SECRET": _secret("client-secret"),
        "APP_DB_PASSWORD": _secret("db-password"),
        "APP_DB_API_KEY": _secret("sql-parameter"),
        "APP_REDIS_PASSWORD": redis_password,
    }
    url_password = _secret("url-password")
    env = {
        **planted,
        "DATABASE_URL": f"postgresql://postgres:{url_password}@127.0.0.1:5432/{database}",
        "APP_DB_DSN": f"host=127.0.0.1 port=5432 dbname={database} user=postgres",
    }
    program = tmp_path / "app.py"
    program.write_text(PROGRAM)
    rec = tmp_path / "rec"
    run = record(program, rec, http_base, user, prefix, env=env, cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert "retrace:" not in run.stderr, run.stderr
    assert run.stdout.splitlines() == EXPECTED_OUTPUT
    return rec, planted, url_password


def test_no_seeded_secret_reaches_the_recording(
    tmp_path: Path, http_server: _Server, database: str, redis_user: tuple[str, str, str]
) -> None:
    rec, planted, url_password = _record_seeded(tmp_path, http_server.base, database, redis_user)
    secrets_and_forms = {name: _encodings(value) for name, value in planted.items()}
    secrets_and_forms["APP_PASSWORD"] += _encodings(planted["APP_PASSWORD"], user="ada")
    secrets_and_forms["DATABASE_URL password"] = _encodings(url_password)
    secrets_and_forms.update({f"server {k}": _encodings(v) for k, v in SERVER_SECRETS.items()})
    files = [p for p in rec.rglob("*") if p.is_file()]
    assert rec / "trace.bin" in files and len(files) > 3, files
    leaks = [
        f"{name} in {path.relative_to(rec)}"
        for path in files
        for name, forms in secrets_and_forms.items()
        if any(form in path.read_bytes() for form in forms)
    ]
    assert leaks == []


def test_a_recording_with_redacted_secrets_replays_with_every_service_gone(
    tmp_path: Path, http_server: _Server, database: str, redis_user: tuple[str, str, str]
) -> None:
    """The secrets a program sends on were redacted; its replay sends the placeholders instead.

    Fingerprints are digested as replay computes them (the placeholder in
    place of the secret), so the header, the SQL parameter and the Redis
    AUTH built from redacted environment values match on replay, with the
    HTTP server stopped, the database dropped and the Redis user removed.
    """
    rec, _, _ = _record_seeded(tmp_path, http_server.base, database, redis_user)
    http_server.stop()
    _drop_database(database)
    _remove_redis_user(redis_user[0], redis_user[2])
    for _ in range(2):
        replayed = replay(rec)
        assert replayed.status == 0, replayed.stderr
        assert "retrace:" not in replayed.stderr, replayed.stderr
        assert replayed.stdout.splitlines() == EXPECTED_OUTPUT
