"""Fingerprints and summaries of commands: credentials never get in, everything else does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retrace.adapters.redis import commands
from retrace.redaction import PLACEHOLDER as X


@pytest.mark.parametrize(("args", "expected"), [
    (("AUTH", "pw"), ["AUTH", X]),
    (("AUTH", "user", "pw"), ["AUTH", X, X]),
    (("HELLO", 3, "AUTH", "user", "pw", "SETNAME", "app"),
     ["HELLO", 3, "AUTH", X, X, "SETNAME", "app"]),
    (("MIGRATE", "h", 1, "k", 0, 5, "AUTH", "pw"), ["MIGRATE", "h", 1, "k", 0, 5, "AUTH", X]),
    (("MIGRATE", "h", 1, "k", 0, 5, "AUTH2", "u", "pw"),
     ["MIGRATE", "h", 1, "k", 0, 5, "AUTH2", X, X]),
    (("CONFIG SET", "requirepass", "pw", "maxmemory", "1mb"),
     ["CONFIG SET", "requirepass", X, "maxmemory", "1mb"]),
    (("CONFIG", "SET", "masterauth", b"pw"), ["CONFIG", "SET", "masterauth", X]),
    (("ACL SETUSER", "bob", "on", ">pw", "~*"), ["ACL SETUSER", "bob", "on", X, "~*"]),
    (("SET", "k", b"v", "EX", 10), ["SET", "k", b"v", "EX", 10]),
    (("SET", "k", memoryview(b"v")), ["SET", "k", b"v"]),
])
def test_redacted_args(args: tuple[object, ...], expected: list[object]) -> None:
    assert commands.redacted_args(args) == expected


def test_summary_is_short_and_redacted() -> None:
    assert commands.summary(None, ("GET", "user:1"), {}) == "GET 'user:1'"
    assert "pw" not in commands.summary(None, ("AUTH", "pw"), {})
    long = commands.summary(None, ("RPUSH", "k", *range(50)), {})
    assert long == "RPUSH 'k' …(+50 args)"


def test_options_count_but_not_callable_identities() -> None:
    one = commands.fingerprint(None, ("ZRANGE", "k", 0, -1), {"score_cast_func": float})
    two = commands.fingerprint(None, ("ZRANGE", "k", 0, -1), {"score_cast_func": float})
    assert one == two and "<float>" in repr(one)


def test_config_get_replies_are_redacted() -> None:
    reply = {"requirepass": "pw", "maxmemory": "0"}
    assert commands.redact_reply(reply, None, ("CONFIG GET", "*"), {}) == {
        "requirepass": X, "maxmemory": "0"}
    assert commands.redact_reply(reply, None, ("HGETALL", "h"), {}) is reply


def test_the_adapter_does_not_import_redis_and_is_an_entry_point() -> None:
    code = ("import sys, importlib.metadata as m; import retrace.adapters.redis; "
            "print('redis' in sys.modules, "
            "[e.value for e in m.entry_points(group='retrace.adapters') if e.name == 'redis'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False ['retrace.adapters.redis:adapter']"


def test_password_hashes_in_acl_replies_are_redacted() -> None:
    digest = "a" * 64
    user = {"flags": ["on"], "passwords": [digest, "b" * 64]}
    assert commands.redact_reply(user, None, ("ACL GETUSER", "bob"), {})["passwords"] == [X, X]
    listing = [f"user bob on #{digest} ~*", b"user eve on #" + b"c" * 64]
    assert commands.redact_reply(listing, None, ("ACL", "LIST"), {}) == [
        f"user bob on #{X} ~*", f"user eve on #{X}".encode()]
