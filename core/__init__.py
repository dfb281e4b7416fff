"""retrace: deterministic record and replay for Python programs.

The public API for adapter authors is re-exported here: :class:`Adapter`,
:class:`Boundary`, :class:`Patch`, :func:`hookimpl`, and :mod:`retrace.testing`;
for recording part of a process, :func:`recording` and :func:`replaying`.

Names are imported on first use: ``retrace record`` re-executes itself once
(for the hash seed) and the first process should not pay for importing
everything.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: importing typing costs the first process ~2 ms

__version__ = "0.1.0"

_EXPORTS = {
    "Adapter": "boundary",
    "Boundary": "boundary",
    "Patch": "boundary",
    "hookimpl": "hookspecs",
    "recording": "scoped",
    "replaying": "scoped",
}

if TYPE_CHECKING:
    from typing import Any

    from .boundary import Adapter, Boundary, Patch
    from .hookspecs import hookimpl
    from .scoped import recording, replaying


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'retrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["Adapter", "Boundary", "Patch", "__version__", "hookimpl", "recording", "replaying"]
