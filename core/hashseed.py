"""The hash seed: ``hash()`` of str and bytes, and so set order, must be the recorded one.

``PYTHONHASHSEED`` is read once, when the interpreter starts, so the only way
to choose it is to start the interpreter again with it set. The launcher and
the autoenable hook both do that (once, before any program code runs), and
remove the variable again if the program's environment did not have it.
"""

from __future__ import annotations

import os
import sys

MARKER = "RETRACE_HASHSEED_SET"
WARNED = "RETRACE_WARNED"


def valid(value: object) -> bool:
    """Whether ``value`` is a seed ``PYTHONHASHSEED`` accepts (the interpreter refuses others)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= 4294967295


def choose() -> str:
    """The seed to record with: the user's fixed one, or a fresh random one."""
    given = os.environ.get("PYTHONHASHSEED")
    if valid(given):
        return given  # type: ignore[return-value]
    return str(int.from_bytes(os.urandom(4), "big") or 1)


def ensure(seed: str) -> None:
    """Make this process run with ``seed``, re-executing it if it does not."""
    if os.environ.get("PYTHONHASHSEED") == seed:
        return
    if not valid(os.environ.get("PYTHONHASHSEED")):
        os.environ[MARKER] = "1"
    os.environ["PYTHONHASHSEED"] = seed
    os.environ[WARNED] = "1"  # the new process must not repeat our warnings
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, list(sys.orig_argv))


def forget_ours() -> None:
    """Remove the variable again if retrace, not the user, set it."""
    if os.environ.pop(MARKER, None):
        os.environ.pop("PYTHONHASHSEED", None)
