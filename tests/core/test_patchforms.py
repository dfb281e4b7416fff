"""Patch forms (retrace.patchforms): each kind of target, patched without wrapt.

For every form: the program's calls still work as before (binding,
``super()``, subclasses), the wrapper gets ``(wrapped, instance, args,
kwargs)`` as wrapt gave them, the patch looks like the original to
``inspect``, uninstalling restores the original, and wrapt is not imported.
The last tests record real programs: a call site is the program's line.
"""

from __future__ import annotations

import datetime
import inspect
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrace import patchforms, stats
from retrace.boundary import Patch
from retrace.patching import Patcher
from retrace.testing import record_and_replay

Call = tuple[str, Any, tuple[Any, ...], dict[str, Any]]

SOURCE = '''
class Base:
    def __init__(self, n):
        self.n = n

    def scaled(self, factor, *, offset=0):
        """Scale."""
        return self.n * factor + offset

    @classmethod
    def make(cls, n):
        return cls(n)

    @staticmethod
    def double(x):
        return 2 * x


class Child(Base):
    def scaled(self, factor, *, offset=0):
        return super().scaled(factor, offset=offset) + 1000
'''


@pytest.fixture
def target() -> Iterator[types.ModuleType]:
    module = types.ModuleType("patchforms_target")
    exec(textwrap.dedent(SOURCE), module.__dict__)
    sys.modules[module.__name__] = module
    try:
        yield module
    finally:
        del sys.modules[module.__name__]


def _install(module: str, targets: list[str], calls: list[Call]) -> Patcher:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        calls.append((getattr(wrapped, "__name__", "?"), instance, args, kwargs))
        return wrapped(*args, **kwargs)

    patcher = Patcher()
    patcher.install([(Patch(module, name, wrapper=wrapper), wrapper) for name in targets])
    return patcher


def test_an_instance_method_gets_the_instance_and_binds_through_super_and_subclasses(
        target: types.ModuleType) -> None:
    original = target.Base.__dict__["scaled"]
    signature = inspect.signature(original)
    calls: list[Call] = []
    patcher = _install(target.__name__, ["Base.scaled"], calls)
    try:
        base, child = target.Base(2), target.Child(3)
        assert base.scaled(10, offset=1) == 21
        assert target.Base.scaled(base, 5) == 10  # through the class: instance is the first argument
        assert child.scaled(10) == 1030  # Child's own method, whose super() reaches the patch
        assert [(c[1], c[2], c[3]) for c in calls] == [
            (base, (10,), {"offset": 1}), (base, (5,), {}), (child, (10,), {"offset": 0})]
        patched = target.Base.__dict__["scaled"]
        assert patched.__wrapped__ is original and patched.__doc__ == "Scale."
        assert inspect.signature(patched) == signature
        assert patchforms.is_patched(patched)
    finally:
        patcher.uninstall()
    assert target.Base.__dict__["scaled"] is original


def test_a_classmethod_and_a_staticmethod_keep_their_binding(target: types.ModuleType) -> None:
    make, double = target.Base.__dict__["make"], target.Base.__dict__["double"]
    calls: list[Call] = []
    patcher = _install(target.__name__, ["Base.make", "Base.double"], calls)
    try:
        assert isinstance(target.Base.__dict__["make"], classmethod)
        assert isinstance(target.Base.__dict__["double"], staticmethod)
        made = target.Child.make(4)
        assert type(made) is target.Child and made.n == 4  # cls is the subclass called through
        assert target.Base(1).double(21) == 42 and target.Child.double(1) == 2
        assert [(c[1], c[2]) for c in calls] == [(target.Child, (4,)), (None, (21,)), (None, (1,))]
    finally:
        patcher.uninstall()
    assert target.Base.__dict__["make"] is make and target.Base.__dict__["double"] is double


def test_a_c_classmethod_of_an_immutable_builtin_type_is_patched_in_the_type() -> None:
    """``datetime.datetime.now``: the type's own dict; every datetime is still a datetime."""
    original = datetime.datetime.__dict__["now"]
    calls: list[Call] = []
    patcher = _install("datetime", ["datetime.now"], calls)
    try:
        now = datetime.datetime.now()
        also = datetime.datetime.now(tz=datetime.timezone.utc)
        assert type(now) is datetime.datetime and also.tzinfo is datetime.timezone.utc
        assert [(c[0], c[1], c[2], c[3]) for c in calls] == [
            ("now", None, (), {}), ("now", None, (), {"tz": datetime.timezone.utc})]
    finally:
        patcher.uninstall()
    assert datetime.datetime.__dict__["now"] is original


def test_a_module_builtin_looks_like_the_builtin_and_never_binds() -> None:
    original = time.time
    calls: list[Call] = []
    patcher = _install("time", ["time"], calls)
    try:
        patched = time.time

        class Holder:
            clock = patched

        assert isinstance(Holder().clock(), float) and isinstance(patched(), float)
        assert [(c[0], c[1], c[2]) for c in calls] == [("time", None, ()), ("time", None, ())]
        assert inspect.isbuiltin(patched) and patched.__wrapped__ is original
    finally:
        patcher.uninstall()
    assert time.time is original


def test_patching_common_forms_does_not_import_wrapt() -> None:
    """The forms above, in a fresh interpreter: wrapt stays unimported."""
    program = textwrap.dedent("""
        import sys, datetime, time, json, random
        from retrace.boundary import Boundary, Patch
        from retrace.patching import Patcher
        wrapper = lambda wrapped, instance, args, kwargs: wrapped(*args, **kwargs)
        targets = [("time", "time"), ("json", "dumps"), ("json", "JSONEncoder.encode"),
                   ("datetime", "datetime.now"), ("random", "seed"), ("socket", "socket.connect")]
        patcher = Patcher()
        patcher.install([(Patch(m, t, wrapper=wrapper), wrapper) for m, t in targets]
                        + [(Patch("time", "sleep", Boundary("time.sleep")), None)])
        import socket
        json.dumps([datetime.datetime.now().year, time.time() > 0])
        patcher.uninstall()
        print("wrapt" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "False\n", out.stderr


@pytest.mark.parametrize("call", [
    "getaddrinfo('127.0.0.1', 80)",  # socket.getaddrinfo: a module's Python function
    "os.environ['HOME']",  # os._Environ.__getitem__: a method whose patch is a boundary
    "subprocess.Popen(['true']).wait()",  # Popen.__init__ and .wait: methods with wrappers
    "os.system('true')",  # a module builtin with a wrapper
])
def test_the_call_site_recorded_is_the_programs_line(tmp_path: Path, call: str) -> None:
    """A plain patch adds a frame between the program and the wrapper; sites skip it."""
    program = tmp_path / "app.py"
    program.write_text(textwrap.dedent(f"""
        import os, subprocess
        from socket import getaddrinfo
        value = {call}
        print("ok")
    """))
    rec = tmp_path / "rec"
    recorded, _ = record_and_replay(program, rec, times=1)
    assert recorded.stdout.endswith("ok\n"), recorded.stderr
    sites = {(row["boundary"], row["site"]) for row in stats.compute(rec)["sites"]}
    ours = {boundary for boundary, site in sites if site.endswith("app.py:4")}
    assert ours - {"sys.stdout.write"}, sites
    assert not [site for _, site in sites if "retrace" in site or "patchforms" in site], sites
