"""Running one redis boundary call, and the shape its exception has in both modes.

An exception a redis call raises on replay is rebuilt from the recording: it
has the recorded class, message and attributes, but none of the frames
redis-py ran through below the client call, and no chained cause. The same
error seen while recording would carry those frames and the socket error it
was raised from, so a traceback the program prints or logs would differ
between the two runs, and the frames would keep redis-py objects alive for
longer, moving when garbage collection closes pools. So in both modes the
exception leaves the boundary starting at the client call, its cause not
shown: the program sees the same exception, the same traceback, at the same
moment.
"""

from __future__ import annotations

from typing import Any

from retrace import Boundary, runtime
from retrace.boundary import Args, Kwargs


def call(boundary: Boundary, wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``wrapped(*args, **kwargs)`` as one call of ``boundary`` in the active mode."""
    try:
        return runtime.active().call(boundary, wrapped, instance, args, kwargs)
    except Exception as exc:
        raise exc.with_traceback(None) from None

