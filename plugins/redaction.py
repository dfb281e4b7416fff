"""Default redaction rules, plus the project's own from ``[tool.retrace.redact]``.

``pyproject.toml`` in the working directory (or its nearest parent) may say::

    [tool.retrace.redact]
    env = ["^MY_APP_PIN$"]          # more environment-variable patterns
    headers = ["X-Internal-Token"]  # more header names
    fields = ["ssn", "card_number"] # JSON/form body fields
    query = ["signature"]           # URL query parameters
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

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


def _project_settings() -> dict[str, Any]:
    here = Path(os.getcwd())
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:  # imported only when there is a file to read
                tomllib = importlib.import_module("tomllib")
            except ImportError:  # Python 3.10 has no TOML reader; defaults only
                return {}
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            redact = data.get("tool", {}).get("retrace", {}).get("redact", {})
            return redact if isinstance(redact, dict) else {}
    return {}


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
    for pattern in settings.get("env", []):
        rules.add_env_pattern(str(pattern))
    for name in settings.get("headers", []):
        rules.add_header(str(name))
    for name in settings.get("fields", []):
        rules.add_field(str(name))
    for name in settings.get("query", []):
        rules.add_query_param(str(name))
