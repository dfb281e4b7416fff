"""The adapter as an installed plugin, and its redaction rules on their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from retrace.adapters.requests_adapter.redact import (
    Names,
    redact_exchange,
    redact_json_body,
    redact_set_cookie,
    redact_url,
    scrubber_for,
)
from retrace.adapters.requests_adapter.request import Call
from retrace.adapters.requests_adapter.wire import Exchange
from retrace.plugins.redaction import retrace_configure_redaction
from retrace.redaction import PLACEHOLDER, RedactionRules
from retrace.testing import run_retrace


def _names() -> Names:
    rules = RedactionRules()
    retrace_configure_redaction(rules)
    return Names(rules)


def test_importing_the_adapter_imports_neither_requests_nor_urllib3() -> None:
    code = ("import sys, retrace.adapters.requests as a; "
            "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules), a.adapter.name)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "requests"]


def test_registered_through_the_entry_point_with_its_range(tmp_path: Path) -> None:
    listed = run_retrace(["adapters", "--json"], cwd=tmp_path)
    assert listed.status == 0, listed.stderr
    found = [a for a in json.loads(listed.stdout) if a["name"] == "requests"]
    assert found and found[0]["supported"] == ">=2.28,<3"
    assert found[0]["provided_by"].startswith("retrace ")


def test_urls_lose_passwords_and_secret_query_values_only() -> None:
    names = _names()
    url = "https://ada:s3cr3t@example.com/p?a=1&api_key=K&x=%20y#frag"
    assert redact_url(url, names) == (
        f"https://ada:{PLACEHOLDER}@example.com/p?a=1&api_key={PLACEHOLDER}&x=%20y#frag")
    assert redact_url("http://example.com/plain", names) == "http://example.com/plain"


def test_set_cookie_keeps_name_and_attributes() -> None:
    assert redact_set_cookie("sid=abc; Path=/; HttpOnly") == f"sid={PLACEHOLDER}; Path=/; HttpOnly"


def test_json_secret_replaced_where_it_stands() -> None:
    body = b'{\n "user": "ada",\n "access_token": "tok-123",\n "n": [1, 2]\n}'
    assert redact_json_body(body, _names()) == (
        b'{\n "user": "ada",\n "access_token": "' + PLACEHOLDER.encode() + b'",\n "n": [1, 2]\n}')


def test_values_the_request_sent_are_scrubbed_from_the_response() -> None:
    names = _names()
    request = Call(lambda **_: None, None, ("GET", "http://h/echo?token=abcdef"),
                   {"headers": {"Authorization": "Bearer bearer-secret"}})
    scrubber = request.scrubber(names)
    exchange = Exchange(200, "OK", 11, "HTTP/1.1",
                        [("Content-Type", "text/plain"), ("Content-Length", "52"),
                         ("X-Echo", "Bearer bearer-secret")],
                        b"you sent bearer-secret and token=abcdef to /echo!!!!")
    redacted = redact_exchange(exchange, scrubber, names)
    assert b"bearer-secret" not in redacted.body and b"abcdef" not in redacted.body
    assert dict(redacted.headers)["X-Echo"] == PLACEHOLDER
    assert dict(redacted.headers)["Content-Length"] == str(len(redacted.body))


def test_scrubber_ignores_short_and_non_secret_values() -> None:
    names = _names()
    scrubber = scrubber_for("http://h/?page=2&sig=ab", [("Accept", "*/*")], None, names)
    assert scrubber.text("page=2&sig=ab") == f"page=2&sig={PLACEHOLDER}"
    assert scrubber.text("ab is short") == "ab is short"
