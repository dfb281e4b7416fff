"""Installing patches: a target missing from the installed library version; what a patch is."""

from __future__ import annotations

import pytest

from retrace.boundary import Boundary, Patch
from retrace.patching import Patcher


def test_a_patch_target_the_library_lacks_is_one_warning_not_a_failed_import() -> None:
    """An adapter written for another version of its library must not break the program's import."""
    warnings: list[str] = []
    patcher = Patcher(warnings.append)
    missing = Patch("json", "JSONDecoder.no_such_method")
    also_missing = Patch("json", "no_such_module.function")
    present = Patch("json", "dumps")
    calls: list[str] = []

    def wrapper(wrapped, instance, args, kwargs):
        calls.append("wrapped")
        return wrapped(*args, **kwargs)

    patcher.install([(missing, wrapper), (also_missing, wrapper), (present, wrapper)])
    try:
        import json

        assert json.dumps([1]) == "[1]" and calls == ["wrapped"]
    finally:
        patcher.uninstall()
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("json.JSONDecoder.no_such_method does not exist in this json")
    assert "`retrace adapters` lists the supported ones" in warnings[0]


def test_a_function_patch_is_a_plain_function_that_keeps_the_original_reachable() -> None:
    """``Patch(function=True)``: the wrapper gets every call with no instance, aliases taken
    before the patch are swept to it, and uninstalling restores the original everywhere."""
    import textwrap
    import types

    module = types.ModuleType("plain_patch_target")
    exec(textwrap.dedent('''
        def scale(value, factor=2):
            """Multiply."""
            return value * factor
    '''), module.__dict__)
    alias = types.ModuleType("plain_patch_alias")
    alias.scale = module.scale
    original = module.scale
    calls: list[tuple[object, tuple[object, ...], dict[str, object]]] = []

    def wrapper(wrapped, instance, args, kwargs):
        calls.append((instance, args, kwargs))
        return wrapped(*args, **kwargs) + 1

    import sys

    sys.modules[module.__name__] = module
    sys.modules[alias.__name__] = alias
    patcher = Patcher()
    try:
        patcher.install([(Patch(module.__name__, "scale", wrapper=wrapper, function=True), wrapper)])
        patched = module.scale
        assert type(patched) is types.FunctionType and patched is not original
        assert patched.__wrapped__ is original and patched.__name__ == "scale"
        assert patched(3, factor=4) == 13 and alias.scale(5) == 11
        assert calls == [(None, (3,), {"factor": 4}), (None, (5,), {})]
        patcher.uninstall()
        assert module.scale is original and alias.scale is original
    finally:
        patcher.uninstall()
        del sys.modules[module.__name__], sys.modules[alias.__name__]


def test_boundaries_and_patches_are_immutable_values_replace_makes_changed_copies() -> None:
    b = Boundary("thirdparty.fetch", library=("thirdparty",))
    with pytest.raises(AttributeError):
        b.name = "other"  # type: ignore[misc]
    changed = b.replace(blocking=True)
    assert (changed.name, changed.library, changed.blocking, b.blocking) == (
        "thirdparty.fetch", ("thirdparty",), True, False)
    with pytest.raises(TypeError):
        b.replace(no_such_field=1)
    assert b != Boundary("thirdparty.fetch", library=("thirdparty",))  # a boundary is itself
    assert Patch("thirdparty", "fetch", b) == Patch("thirdparty", "fetch", boundary=b)
    assert len({Patch("thirdparty", "fetch", b), Patch("thirdparty", "fetch", b)}) == 1
    assert "name='thirdparty.fetch'" in repr(b)



def test_a_builtin_with_a_boundary_is_patched_to_look_and_bind_like_the_builtin() -> None:
    """A module's builtin (``time.time``) gets a ``BuiltinPatch``: every call goes to the mode
    with no instance, and the patch never binds as a method, keeps the builtin's names and
    ``__wrapped__``, answers ``isinstance`` and pickles as the builtin does."""
    import inspect
    import math
    import pickle
    import types

    from retrace import runtime

    calls: list[tuple[Boundary, object, tuple[object, ...]]] = []

    class Recording(runtime.Passthrough):
        def call(self, b, wrapped, instance, args, kwargs):
            calls.append((b, instance, args))
            return wrapped(*args, **kwargs)

    original = math.gcd
    patch = Patch("math", "gcd", Boundary("math.gcd"))
    patcher = Patcher()
    before = runtime.active()
    try:
        patcher.install([(patch, patch.make_wrapper())])
        patched = math.gcd
        assert type(patched) is runtime.BuiltinPatch
        assert patched.__wrapped__ is original and patched.__name__ == "gcd"
        assert isinstance(patched, types.BuiltinFunctionType) and inspect.isbuiltin(patched)

        class Holder:
            divisor = patched

        runtime.set_mode(Recording())
        assert Holder().divisor(12, 18) == 6 and patched(4, 6) == 2
        assert calls == [(patch.boundary, None, (12, 18)), (patch.boundary, None, (4, 6))]
        assert pickle.loads(pickle.dumps(patched)) is patched  # by name, as the builtin pickles
        patcher.uninstall()
        assert math.gcd is original
    finally:
        runtime.set_mode(before)
        patcher.uninstall()
