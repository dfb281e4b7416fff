"""``tempfile`` on replay: its names are the recorded ones, so what the recording left is reused.

``tempfile`` works for real in every mode (``policy.INTERNAL`` says why) and
draws its names from the recorded randomness, so a replay asks for the very
names the recorded run created. A directory or file that run (or an earlier
replay) left behind, say from ``mkdtemp()`` never removed, made the real
``mkdir``/``open(O_EXCL)`` fail: ``tempfile`` then tried its next name,
asking for randomness and the pid again, and the replay diverged inside
``tempfile``. On replay, ``tempfile``'s creation of an existing name reuses
it as if it had just been made (a directory as it is, a file emptied).
Random names that collide with anything else are out of reach in practice.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from retrace import runtime

from .policy import caller_module

Wrapper = Any


def _tempfile_replaying() -> bool:
    return runtime.active().name == "replay" and caller_module(sys._getframe(2)) == "tempfile"


def _reusing(wrapper: Wrapper, reuse: Any) -> Wrapper:
    """``wrapper``, except for tempfile on replay: the real call, and ``reuse`` if the name exists."""

    def creating(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _tempfile_replaying():
            return wrapper(wrapped, instance, args, kwargs)
        try:
            return wrapped(*args, **kwargs)
        except FileExistsError:
            return reuse(wrapped, dict(zip(("path", "flags", "mode"), args, strict=False), **kwargs))

    return creating


def _existing_directory(wrapped: Any, call: dict[str, Any]) -> None:
    if not os.path.isdir(call["path"]):
        raise FileExistsError(17, os.strerror(17), call["path"])


def _existing_file(wrapped: Any, call: dict[str, Any]) -> Any:
    if not call.get("flags", 0) & os.O_EXCL:
        raise FileExistsError(17, os.strerror(17), call["path"])
    call["flags"] = (call["flags"] & ~os.O_EXCL) | os.O_TRUNC
    return wrapped(**call)


def reusing_directories(wrapper: Wrapper) -> Wrapper:
    """``wrapper`` for ``os.mkdir``, except that tempfile's names are reused on replay."""
    return _reusing(wrapper, _existing_directory)


def reusing_files(wrapper: Wrapper) -> Wrapper:
    """``wrapper`` for ``os.open``, except that tempfile's names are reused on replay."""
    return _reusing(wrapper, _existing_file)
