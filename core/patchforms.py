"""What a patched callable is replaced with: plain Python forms, wrapt only for rare ones.

Every form calls the adapter's ``wrapper(wrapped, instance, args, kwargs)``
with the arguments wrapt's ``FunctionWrapper`` gave it, so wrappers written
for wrapt keep working; but importing wrapt costs about 60 ms of start-up
(docs/performance.md, "start-up"), so the common forms do without it:

- a module's Python (or Cython) function: a plain function calling
  ``wrapper(original, None, args, kwargs)``;
- a function or C method in a class's dict: a plain function that binds like
  the method (``super()`` and subclasses included) and calls
  ``wrapper(original bound to self, self, args, kwargs)`` (``self`` is the
  first argument even in ``Class.method(not_an_instance)``, where wrapt
  gave None);
- ``classmethod`` / ``staticmethod``: the same descriptor around a plain
  function (``instance`` the class, or None, as wrapt gives); a C classmethod
  (``datetime.datetime.now``) becomes a ``classmethod`` whose ``instance`` is
  None, as wrapt gave for a call through the class;
- a builtin function or a bound method (``random.seed``), in a module or
  held by a class: a small callable object that, like the builtin, never
  binds (``instance`` None, or the method's ``__self__``).

A patch with only a boundary (no wrapper of its own) calls the active mode
straight from the plain function, as :class:`~retrace.runtime.BuiltinPatch`
does: one frame between the program and the recorder, as under wrapt.
Anything else (a class, a property, a callable object) gets a wrapt
``FunctionWrapper``, imported then.

wrapt's C wrapper adds no Python frame; these forms add one, the patch frame,
between the program's call and the wrapper. Code that looks at its caller's
frame from inside a wrapper goes through :func:`caller`, which steps over it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import BuiltinFunctionType, CodeType, FrameType, FunctionType, MethodType
from typing import Any

from . import runtime
from .boundary import Boundary

Wrapper = Callable[[Any, Any, tuple[Any, ...], dict[str, Any]], Any]

# The code of every patch frame (one per form: closures share their code).
_CODES: set[CodeType] = set()
_CLASSMETHOD_DESCRIPTOR = type(dict.__dict__["fromkeys"])


def caller(frame: FrameType | None) -> FrameType | None:
    """``frame``, or the first frame above it that is not a patch frame."""
    while frame is not None and frame.f_code in _CODES:
        frame = frame.f_back
    return frame


def _marked(patched: Any, original: Any) -> Any:
    functools.update_wrapper(patched, original)
    patched.__retrace_patch__ = True
    _CODES.add(patched.__code__)
    return patched


def function(original: Any, wrapper: Wrapper) -> Any:
    """A module's function: called with no instance."""

    def patched(*args: Any, **kwargs: Any) -> Any:
        return wrapper(original, None, args, kwargs)

    return _marked(patched, original)


def method(original: Any, wrapper: Wrapper) -> Any:
    """A function or C method from a class's dict: ``instance`` is the first argument."""

    def patched(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return wrapper(MethodType(original, self), self, args, kwargs)

    return _marked(patched, original)


def boundary_function(original: Any, boundary: Boundary) -> Any:
    """A module's function whose patch is a boundary: the mode is called directly."""

    def patched(*args: Any, **kwargs: Any) -> Any:
        return runtime._mode.call(boundary, original, None, args, kwargs)

    return _marked(patched, original)


def boundary_method(original: Any, boundary: Boundary) -> Any:
    """A method from a class's dict whose patch is a boundary: the mode is called directly."""

    def patched(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return runtime._mode.call(boundary, MethodType(original, self), self, args, kwargs)

    return _marked(patched, original)


def class_method(original: Any, wrapper: Wrapper) -> Any:
    """A ``classmethod`` (``instance`` the class) or a C classmethod (``instance`` None)."""
    pass_class = isinstance(original, classmethod)

    def patched(cls: Any, /, *args: Any, **kwargs: Any) -> Any:
        return wrapper(original.__get__(None, cls), cls if pass_class else None, args, kwargs)

    form: Any = classmethod(_marked(patched, getattr(original, "__func__", original)))
    form.__retrace_patch__ = True
    return form


def static_method(original: staticmethod[..., Any], wrapper: Wrapper) -> Any:
    """A ``staticmethod``: called with no instance."""
    function_ = original.__func__

    def patched(*args: Any, **kwargs: Any) -> Any:
        return wrapper(function_, None, args, kwargs)

    form: Any = staticmethod(_marked(patched, function_))
    form.__retrace_patch__ = True
    return form


class CallablePatch(runtime.StandIn):
    """A module's builtin function or bound method, patched: it never binds, as they do not,
    and it carries its ``__wrapped__`` and names."""

    __slots__ = ("__dict__", "_instance", "_wrapper")

    def __init__(self, original: Any, wrapper: Wrapper) -> None:
        self._original = original
        self._wrapper = wrapper
        self._instance = original.__self__ if isinstance(original, MethodType) else None
        functools.update_wrapper(self, original)
        self.__retrace_patch__ = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapper(self._original, self._instance, args, kwargs)


_CODES.add(CallablePatch.__call__.__code__)


def is_patched(value: Any) -> bool:
    """Whether ``value`` is a patch made here, a :class:`~retrace.runtime.BuiltinPatch` or wrapt's."""
    if getattr(value, "__retrace_patch__", False):
        return True
    wrapt = sys.modules.get("wrapt")  # not loaded: no wrapt wrapper exists
    return wrapt is not None and isinstance(value, wrapt.FunctionWrapper)


def _plain(value: Any) -> bool:
    """A Python function, or one that binds as one does (Cython's)."""
    return isinstance(value, FunctionType) or type(value).__name__ == "cython_function_or_method"


def make(parent: Any, original: Any, wrapper: Wrapper, boundary: Boundary | None) -> Any:
    """The form that replaces ``original``, found on ``parent`` (a class or a module)."""
    direct = boundary if boundary is not None and boundary.ordered is None else None
    if isinstance(parent, type):
        if _plain(original) or type(original).__name__ in (
                "method_descriptor", "wrapper_descriptor"):
            return boundary_method(original, direct) if direct else method(original, wrapper)
        if isinstance(original, (classmethod, _CLASSMETHOD_DESCRIPTOR)):
            return class_method(original, wrapper)
        if isinstance(original, staticmethod):
            return static_method(original, wrapper)
    elif _plain(original):
        return boundary_function(original, direct) if direct else function(original, wrapper)
    if isinstance(original, (BuiltinFunctionType, MethodType)):
        # In a module, or held by a class (pathlib's accessor on 3.10): it binds nowhere.
        return CallablePatch(original, wrapper)
    import wrapt  # a class, a property, a callable object: rare enough to pay for wrapt

    return wrapt.FunctionWrapper(original, wrapper)
