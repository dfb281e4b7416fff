"""Secrets never reach a recording, and a redacted recording still replays.

The program takes its secrets from environment variables and the server
makes its own, so neither is in the program's source, and the assertion
covers every file of the recording directory (``trace.bin``, ``run/``,
the VS Code files), the program's copied source included.
"""

from __future__ import annotations

import base64
from pathlib import Path

from testserver import SERVER_SECRETS

from retrace.redaction import PLACEHOLDER
from retrace.testing import record, replay

CLIENT_SECRETS = {
    "RQ_PASSWORD": "cli-password-5d1f0a9e7c",
    "RQ_API_TOKEN": "cli-token-a81c4e0b3f62",
    "RQ_API_KEY_VALUE": "cli-apikey-0c5be2d7f914",
    "RQ_CLIENT_SECRET": "cli-clientsecret-6e3a9d",
    "RQ_SESSION_COOKIE": "cli-cookie-b47f1c20e8a5",
}

# The program prints whether it got a real value or the placeholder, so its output
# differs between record and replay on purpose; output verification would report that.
UNCHECKED_OUTPUT = {"RETRACE_CHECK_OUTPUT": "0"}

PROGRAM = r'''
import os
import sys

import requests

base, closed_port = sys.argv[1], sys.argv[2]
password = os.environ["RQ_PASSWORD"]
token = os.environ["RQ_API_TOKEN"]
api_key = os.environ["RQ_API_KEY_VALUE"]
client_secret = os.environ["RQ_CLIENT_SECRET"]
cookie = os.environ["RQ_SESSION_COOKIE"]


def seen(value):
    """What the program got: the placeholder, or a real value (not printed)."""
    return value if value == "<retrace:redacted>" else f"real value, {len(value)} chars"


s = requests.Session()
host = base.split("//", 1)[1]
r = s.post(f"http://ada:{password}@{host}/echo", params={"api_key": api_key, "page": "2"},
           headers={"Authorization": f"Bearer {token}", "X-Api-Key": api_key},
           cookies={"sid": cookie}, json={"user": "ada", "password": password,
                                          "client_secret": client_secret})
print("echo:", r.status_code, r.json()["method"], r.json()["path"].split("?")[0])
echoed = dict(r.json()["headers"])
print("authorization echoed:", seen(echoed["Authorization"]))
r = s.post(base + "/echo", data={"token": token, "name": "ada"},
           auth=("ada", password))
print("form echo:", r.status_code, r.json()["body"].split("&")[1])

r = s.get(base + "/login")
print("login:", r.status_code, r.json()["user"], seen(r.json()["access_token"]))
print("auth header:", seen(r.headers["X-Auth-Token"]))
print("session cookie:", seen(s.cookies["session"]), sorted(s.cookies.keys()))
r = s.get(base + "/refresh")
print("refresh:", seen(r.json()["refresh_token"]), r.json()["ok"], r.headers["Content-Encoding"])
try:
    requests.get(f"http://127.0.0.1:{closed_port}/x", params={"token": token})
except requests.ConnectionError as e:
    print("error:", type(e).__name__, "token in message:", token in str(e))
'''


def _needles() -> list[bytes]:
    secrets = [*CLIENT_SECRETS.values(), *SERVER_SECRETS.values()]
    needles = [s.encode() for s in secrets]
    needles.append(base64.b64encode(f"ada:{CLIENT_SECRETS['RQ_PASSWORD']}".encode()))
    return needles


def test_no_secret_reaches_the_recording(tmp_path: Path, http_server, closed_port: int) -> None:
    program = tmp_path / "secrets.py"
    program.write_text(PROGRAM)
    assert not any(n in program.read_bytes() for n in _needles())
    directory = tmp_path / "rec"
    recorded = record(program, directory, http_server.url, str(closed_port),
                      env=CLIENT_SECRETS, cwd=tmp_path)
    assert recorded.status == 0, recorded.stderr
    assert "real value" in recorded.stdout and PLACEHOLDER not in recorded.stdout

    files = [p for p in directory.rglob("*") if p.is_file()]
    assert directory / "trace.bin" in files and any("run" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        for needle in _needles():
            assert needle not in data, f"{needle!r} found in {path}"

    http_server.stop()
    replayed = replay(directory, cwd=tmp_path, env=UNCHECKED_OUTPUT)
    assert replayed.status == 0, replayed.stderr
    lines = dict(line.split(":", 1) for line in replayed.stdout.splitlines())
    assert lines["authorization echoed"].strip() == PLACEHOLDER
    assert lines["login"].strip() == f"200 ada {PLACEHOLDER}"
    assert lines["auth header"].strip() == PLACEHOLDER
    assert lines["session cookie"].strip() == f"{PLACEHOLDER} ['session']"
    assert lines["refresh"].strip() == f"{PLACEHOLDER} True gzip"
    as_recorded = dict(line.split(":", 1) for line in recorded.stdout.splitlines())
    for same in ("echo", "form echo", "error"):
        assert lines[same] == as_recorded[same]


def test_replay_of_a_redacted_recording_is_repeatable(tmp_path: Path, http_server,
                                                      closed_port: int) -> None:
    program = tmp_path / "secrets.py"
    program.write_text(PROGRAM)
    directory = tmp_path / "rec"
    record(program, directory, http_server.url, str(closed_port), env=CLIENT_SECRETS,
           cwd=tmp_path)
    http_server.stop()
    first = replay(directory, cwd=tmp_path, env=UNCHECKED_OUTPUT)
    second = replay(directory, cwd=tmp_path, env=UNCHECKED_OUTPUT)
    assert first.status == 0, first.stderr
    assert first.observable() == second.observable()
