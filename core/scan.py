"""``retrace scan RECORDING``: look for secrets before a recording leaves the machine.

Redaction keeps the secrets retrace knows about out of a trace (auth
headers, cookies, passwords in DSNs, secret-looking environment variables).
A recording can still hold one it could not know about: a token in a
response body, a key in a config file copied into ``run/``, a password in a
command-line argument. This scan looks through everything a recording
holds — the header, every event's answer and argument summary, and the
text files in ``run/`` — for the shapes real credentials have, and names
where each one is, masked. Exit status 1 when anything is found.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import cbor2

from . import layout
from .codecs import Pending
from .events import read_events
from .redaction import PLACEHOLDER

NAME = "scan"
MAX_FILE = 4 * 1024 * 1024
PATTERNS = {
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Stripe key": re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "bearer token": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{20,}=*"),
    "password in a URL": re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]+:(?!"
                                    + re.escape(PLACEHOLDER) + r")[^@\s/]+@"),
}


@attrs.frozen
class Finding:
    """One secret-shaped string and where it is."""

    kind: str
    where: str
    text: str


def mask(secret: str) -> str:
    """Enough of ``secret`` to recognise it, not to use it."""
    if len(secret) <= 10:
        return secret[:2] + "…"
    return f"{secret[:6]}…{secret[-2:]} ({len(secret)} chars)"


def search(text: str, where: str) -> Iterator[Finding]:
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            yield Finding(kind, where, mask(match.group(0)))


def strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string (and bytes, read as Latin-1) inside decoded trace data."""
    if depth > 64:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, (bytes, bytearray)):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, depth + 1)
            yield from strings(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item, depth + 1)
    elif isinstance(value, Pending):
        yield from strings(value.payload, depth + 1)
    elif isinstance(value, cbor2.CBORTag):
        yield from strings(value.value, depth + 1)


def scan_recording(directory: Path) -> list[Finding]:
    """Every secret-shaped string in the recording at ``directory``."""
    stream = read_events(directory, progress="scan")
    found = [f for text in strings(stream.header) for f in search(text, "header")]
    cwd = stream.header.get("cwd", "")
    for event in stream:
        file, line = event.site
        where = f"event #{event.number} ({event.boundary} at {file.removeprefix(cwd + '/')}:{line})"
        for text in strings([event.value, event.summary]):
            found += search(text, where)
    run = layout.run_path(stream.directory)
    for path in sorted(p for p in run.rglob("*") if p.is_file()) if run.is_dir() else []:
        if path.stat().st_size > MAX_FILE:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for number, line_text in enumerate(text.splitlines(), 1):
            found += search(line_text, f"run/{path.relative_to(run)}:{number}")
    return found


def report(findings: list[Finding]) -> str:
    if not findings:
        return "no secrets found"
    lines = [f"{len(findings)} possible secret(s):"]
    lines += [f"  {f.where}: {f.kind} {f.text}" for f in findings]
    lines.append("add their names to [tool.retrace.redact] in pyproject.toml and record again, "
                 "or take the files out of run/ (see docs/guides/share-recording.md)")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="look for secrets in a recording before sharing it")
    cmd.add_argument("recording", metavar="RECORDING")


def run(options: argparse.Namespace) -> int:
    findings = scan_recording(Path(options.recording))
    print(report(findings))
    return 1 if findings else 0
