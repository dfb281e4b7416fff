"""``multiprocessing.util.Finalize``: cleanups that run at moments no replay can reproduce.

multiprocessing registers a finalizer for most of its objects (a process's
pipes, a listener's socket file, a pool). One run by the garbage collector
(as its object's weakref callback) runs whenever collection happens, and one
made while retrace's own work was in flight (a fork server's listener, made
while a process started) cleans up something the replay never makes. Both
run as retrace's own work: what they do is not an event. A finalizer the
program runs itself (``Pool.terminate()``, or at exit) is the program's.
"""

from __future__ import annotations

from typing import Any

from retrace import runtime
from retrace.boundary import Args, Kwargs
from retrace.runtime import in_flight


def finalize_init(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Remember whether the finalizer was made by retrace's own work."""
    instance._retrace_quiet = runtime.LOCAL.busy and runtime.active().name != "passthrough"
    return wrapped(*args, **kwargs)


def finalize_call(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Run a collected finalizer, or one retrace's own work made, as retrace's own work."""
    quiet = args or getattr(instance, "_retrace_quiet", False)
    if not quiet or runtime.active().name == "passthrough":
        return wrapped(*args, **kwargs)
    with in_flight():
        return wrapped(*args, **kwargs)
