"""retrace: deterministic record and replay for Python programs.

The public API for adapter authors is re-exported here: :class:`Adapter`,
:class:`Boundary`, :class:`Patch`, :func:`hookimpl`, and :mod:`retrace.testing`;
for recording part of a process, :func:`recording` and :func:`replaying`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .boundary import Adapter, Boundary, Patch
from .hookspecs import hookimpl
from .scoped import recording, replaying

__all__ = ["Adapter", "Boundary", "Patch", "__version__", "hookimpl", "recording", "replaying"]
