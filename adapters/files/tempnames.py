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


def reusing_directories(wrapper: Wrapper) -> Wrapper:
    """``wrapper`` for ``os.mkdir``, except that tempfile's names are reused on replay."""

    def mkdir(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _tempfile_replaying():
            return wrapper(wrapped, instance, args, kwargs)
        try:
            return wrapped(*args, **kwargs)
        except FileExistsError:
            if os.path.isdir(args[0] if args else kwargs["path"]):
                return None
            raise

    return mkdir


def reusing_files(wrapper: Wrapper) -> Wrapper:
    """``wrapper`` for ``os.open``, except that tempfile's names are reused on replay."""

    def open_fd(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _tempfile_replaying():
            return wrapper(wrapped, instance, args, kwargs)
        try:
            return wrapped(*args, **kwargs)
        except FileExistsError:
            call = dict(zip(("path", "flags", "mode"), args, strict=False), **kwargs)
            if not call.get("flags", 0) & os.O_EXCL:
                raise
            call["flags"] = (call["flags"] & ~os.O_EXCL) | os.O_TRUNC
            return wrapped(**call)

    return open_fd
