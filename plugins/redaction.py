"""Default redaction rules, plus the project's own from ``[tool.retrace.redact]``.

``pyproject.toml`` in the working directory (or its nearest parent) may say::

    [tool.retrace.redact]
    env = ["^MY_APP_PIN$"]          # more environment-variable patterns
    headers = ["X-Internal-Token"]  # more header names
    fields = ["ssn", "card_number"] # JSON/form body fields
    query = ["signature"]           # URL query parameters

    [tool.retrace.redact.keep]      # exceptions to every rule above, the defaults included
    env = ["^MAX_TOKENS$"]          # a number the program computes with, not a secret
    headers = []
    fields = ["token_count"]
    query = []

Settings that would be silently ignored are refused instead, naming the
file: a file that is not TOML, a key with a typo, a string where a list
belongs, a pattern that is not a regular expression. Ignoring them would
record the very secrets the project asked to keep out.
"""

from __future__ import annotations

import os
import re
from typing import Any

from retrace import pyproject
from retrace.errors import UsageError
from retrace.hookspecs import hookimpl
from retrace.redaction import RedactionRules

DEFAULT_ENV = [
    r"PASS(WORD|WD)?", r"SECRET", r"TOKEN", r"API_?KEY", r"PRIVATE_?KEY", r"ACCESS_?KEY",
    r"CREDENTIAL", r"AUTH(?!OR)", r"SESSION", r"COOKIE", r"SIGNATURE",
]
DEFAULT_HEADERS = [
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "x-auth-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token",
]
DEFAULT_HEADER_PATTERNS = [r"(^|-)(api-?key|token|secret|signature|session|password)($|-)"]
DEFAULT_FIELDS = [
    "password", "passwd", "secret", "token", "access_token", "refresh_token", "id_token",
    "api_key", "apikey", "client_secret", "private_key",
]
DEFAULT_QUERY = ["access_token", "api_key", "apikey", "token", "key", "signature", "sig", "password"]


KINDS = ("env", "headers", "fields", "query")


def _project_settings() -> dict[str, Any]:
    path, settings = pyproject.retrace_settings(os.getcwd())
    if path is None:
        return {}
    guide = "docs/guides/share-recording.md"
    redact = pyproject.checked_lists(path, "tool.retrace.redact", settings.get("redact", {}),
                                     (*KINDS, "keep"), guide, tables=("keep",))
    pyproject.checked_lists(path, "tool.retrace.redact.keep", redact.get("keep", {}), KINDS, guide)
    for pattern in redact.get("env", []):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"{path}: [tool.retrace.redact] env pattern {pattern!r} is not a "
                             f"regular expression ({exc}); see {guide}") from None
    return redact


@hookimpl
def retrace_configure_redaction(rules: RedactionRules) -> None:
    for pattern in DEFAULT_ENV:
        rules.add_env_pattern(pattern)
    for name in DEFAULT_HEADERS:
        rules.add_header(name)
    for pattern in DEFAULT_HEADER_PATTERNS:
        rules.add_header_pattern(pattern)
    for name in DEFAULT_FIELDS:
        rules.add_field(name)
    for name in DEFAULT_QUERY:
        rules.add_query_param(name)
    settings = _project_settings()
    keep = settings.get("keep", {})
    adders = {"env": (rules.add_env_pattern, rules.keep_env_pattern),
              "headers": (rules.add_header, rules.keep_header),
              "fields": (rules.add_field, rules.keep_field),
              "query": (rules.add_query_param, rules.keep_query_param)}
    for kind, (add, exempt) in adders.items():
        for name in settings.get(kind, []):
            add(name)
        for name in keep.get(kind, []):
            exempt(name)
