"""Connection strings without their passwords: what the ``connect`` fingerprint and summary hold.

libpq parses the string (``psycopg.conninfo.conninfo_to_dict``, a local call
that opens nothing); the password is dropped before anything reaches the
trace, so replaying with a different password (or the redacted placeholder
the environment adapter hands back) still matches.
"""

from __future__ import annotations

from typing import Any

SECRET_KEYS = frozenset({"password", "sslpassword"})


def _parsed(conninfo: Any) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    text = conninfo.decode() if isinstance(conninfo, bytes) else str(conninfo)
    try:
        return conninfo_to_dict(text)
    except Exception:
        return {"unparsable": "<conninfo that libpq refuses>"}


def without_password(conninfo: Any) -> list[list[str]]:
    """The connection parameters, sorted, secrets left out."""
    return sorted([k, str(v)] for k, v in _parsed(conninfo).items() if k not in SECRET_KEYS)


def describe(conninfo: Any) -> str:
    """A readable, password-free form for divergence reports."""
    return " ".join(f"{k}={v}" for k, v in without_password(conninfo))
