"""The rules that keep secrets out of recordings, shared by every adapter.

The core holds the rules and knows no library; the ``redaction`` plugin fills
in the defaults and the project's ``[tool.retrace.redact]`` settings, and
adapters ask the rules about the names they see (an environment variable, a
header, a body field). A redacted value is replaced by :data:`PLACEHOLDER` in
the trace and left out of argument fingerprints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PLACEHOLDER = "<retrace:redacted>"


def with_placeholders(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each of ``secrets`` (longest first) replaced by the placeholder."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, PLACEHOLDER)
    return text


class RedactionRules:
    """Names and patterns (case-insensitive) whose values never reach a trace.

    Made empty; the ``redaction`` plugin and the project's settings fill it in.
    """

    __slots__ = (
        "_env_answers",
        "_env_re",
        "_header_re",
        "_kept_env_re",
        "env_patterns",
        "fields",
        "header_patterns",
        "headers",
        "kept_env_patterns",
        "kept_fields",
        "kept_headers",
        "kept_query_params",
        "query_params",
        "replaced",
    )

    def __init__(self) -> None:
        self.env_patterns: list[str] = []
        self.headers: set[str] = set()
        self.header_patterns: list[str] = []
        self.fields: set[str] = set()
        self.query_params: set[str] = set()
        #: Exceptions the project makes to the rules above (``[tool.retrace.redact.keep]``):
        #: a variable named ``MAX_TOKENS`` matches the default ``TOKEN`` pattern, but a program
        #: that does arithmetic on it cannot replay with the placeholder.
        self.kept_env_patterns: list[str] = []
        self.kept_headers: set[str] = set()
        self.kept_fields: set[str] = set()
        self.kept_query_params: set[str] = set()
        #: Secret values redacted so far in this session, longest first: a replay hands the
        #: program the placeholder instead, so output is compared as replay will write it.
        self.replaced: list[str] = []
        self._env_re: re.Pattern[str] | None = None
        self._kept_env_re: re.Pattern[str] | None = None
        #: Answers of secret_env by name: a program reads the same variables over and over.
        self._env_answers: dict[str, bool] = {}
        self._header_re: re.Pattern[str] | None = None

    def remember(self, value: str | bytes) -> None:
        """Note a secret value an adapter kept out of the trace (see :meth:`as_replayed`)."""
        text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        if len(text) >= 4 and text != PLACEHOLDER and text not in self.replaced:
            self.replaced.append(text)
            self.replaced.sort(key=len, reverse=True)

    def as_replayed(self, text: str) -> str:
        """``text`` with every remembered secret replaced by the placeholder."""
        return with_placeholders(text, self.replaced)

    def add_env_pattern(self, pattern: str) -> None:
        self.env_patterns.append(pattern)
        self._env_re = None
        self._env_answers.clear()

    def add_header(self, name: str) -> None:
        self.headers.add(name.lower())

    def add_header_pattern(self, pattern: str) -> None:
        self.header_patterns.append(pattern)
        self._header_re = None

    def add_field(self, name: str) -> None:
        self.fields.add(name.lower())

    def add_query_param(self, name: str) -> None:
        self.query_params.add(name.lower())

    def keep_env_pattern(self, pattern: str) -> None:
        """Record the variables matching ``pattern`` as they are, whatever else matches."""
        self.kept_env_patterns.append(pattern)
        self._kept_env_re = None
        self._env_answers.clear()

    def keep_header(self, name: str) -> None:
        self.kept_headers.add(name.lower())

    def keep_field(self, name: str) -> None:
        self.kept_fields.add(name.lower())

    def keep_query_param(self, name: str) -> None:
        self.kept_query_params.add(name.lower())

    def secret_env(self, name: str) -> bool:
        """Whether the environment variable ``name`` holds a secret."""
        known = self._env_answers.get(name)
        if known is None:
            known = self._env_answers[name] = self._secret_env(name)
        return known

    def _secret_env(self, name: str) -> bool:
        if self._env_re is None:
            self._env_re = _compile(self.env_patterns)
        if self._env_re.search(name) is None:
            return False
        if self._kept_env_re is None:
            self._kept_env_re = _compile(self.kept_env_patterns)
        return self._kept_env_re.search(name) is None

    def secret_header(self, name: str) -> bool:
        """Whether the HTTP header ``name`` holds a secret."""
        lowered = name.lower()
        if lowered in self.kept_headers:
            return False
        if lowered in self.headers:
            return True
        if self._header_re is None:
            self._header_re = _compile(self.header_patterns)
        return self._header_re.search(lowered) is not None

    def secret_field(self, name: str) -> bool:
        """Whether a body field (JSON key, form field) named ``name`` holds a secret."""
        lowered = name.lower()
        return lowered in self.fields and lowered not in self.kept_fields

    def secret_query_param(self, name: str) -> bool:
        lowered = name.lower()
        if lowered in self.kept_query_params:
            return False
        return lowered in self.query_params or self.secret_field(lowered)


def _compile(patterns: list[str]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
