"""Post-import hooks (retrace.importhooks): when a hook runs, on which module, and when not.

Each test imports modules written for it into a temporary folder on
``sys.path``, so the import system really finds, loads and executes them.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from retrace import importhooks


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    """A folder on ``sys.path`` whose modules are forgotten afterwards."""
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    before = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            del sys.modules[name]


def _hook(seen: list[tuple[str, object]]) -> importhooks.Hook:
    def hook(module: ModuleType) -> None:
        seen.append((module.__name__, getattr(module, "VALUE", None)))

    return hook


def test_a_hook_runs_once_after_the_module_code_and_not_again_on_the_next_import(
        modules: Path) -> None:
    (modules / "hooked_plain.py").write_text("VALUE = 1\n")
    seen: list[tuple[str, object]] = []
    registration = importhooks.register("hooked_plain", _hook(seen))
    try:
        assert seen == []
        import hooked_plain
        import hooked_plain as again  # noqa: F401
        assert seen == [("hooked_plain", 1)]  # the module's code had run: VALUE was set
        assert type(hooked_plain.__loader__).__name__ == "SourceFileLoader"  # its own loader
        assert hooked_plain.__spec__.loader is hooked_plain.__loader__
    finally:
        importhooks.remove(registration)


def test_a_hook_for_a_module_already_imported_runs_at_once() -> None:
    seen: list[tuple[str, object]] = []
    registration = importhooks.register("json", _hook(seen))
    try:
        assert seen == [("json", None)]
    finally:
        importhooks.remove(registration)


def test_a_submodule_hook_runs_for_the_submodule_only(modules: Path) -> None:
    package = modules / "hooked_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 'package'\n")
    (package / "inner.py").write_text("VALUE = 'inner'\n")
    seen: list[tuple[str, object]] = []
    registration = importhooks.register("hooked_pkg.inner", _hook(seen))
    try:
        import hooked_pkg

        assert seen == []
        import hooked_pkg.inner
        assert seen == [("hooked_pkg.inner", "inner")]
        assert hooked_pkg.inner.VALUE == "inner"
    finally:
        importhooks.remove(registration)


def test_a_failed_import_runs_no_hook_and_raises_its_own_error(modules: Path) -> None:
    (modules / "hooked_broken.py").write_text("VALUE = 1\nraise LookupError('broken on purpose')\n")
    seen: list[tuple[str, object]] = []
    registration = importhooks.register("hooked_broken", _hook(seen))
    try:
        with pytest.raises(LookupError, match="broken on purpose") as caught:
            import hooked_broken
        assert caught.traceback[-1].path == modules / "hooked_broken.py"
        assert seen == [] and "hooked_broken" not in sys.modules
        (modules / "hooked_broken.py").write_text("VALUE = 2\n")
        importlib.invalidate_caches()
        import hooked_broken  # noqa: F401  the fixed module imports: the hook runs now
        assert seen == [("hooked_broken", 2)]
    finally:
        importhooks.remove(registration)


def test_a_reload_runs_the_hook_again_on_the_module_as_re_executed(modules: Path) -> None:
    source = modules / "hooked_reloaded.py"
    source.write_text("VALUE = 1\n")
    seen: list[tuple[str, object]] = []
    registration = importhooks.register("hooked_reloaded", _hook(seen))
    try:
        import hooked_reloaded

        source.write_text("VALUE = 22\n")  # a different size: the cached bytecode is stale
        importlib.reload(hooked_reloaded)
        assert seen == [("hooked_reloaded", 1), ("hooked_reloaded", 22)]
    finally:
        importhooks.remove(registration)


def test_an_import_in_another_thread_runs_the_hook_once_on_the_finished_module(
        modules: Path) -> None:
    """A hook registered while another thread executes the module runs when the code is done."""
    (modules / "hooked_slow.py").write_text(
        "import time\nSTARTED = True\ntime.sleep(0.3)\nVALUE = 'done'\n")
    seen: list[tuple[str, object]] = []
    first = importhooks.register("hooked_slow", _hook(seen))
    late: list[tuple[str, object]] = []
    second = None
    try:
        importer = threading.Thread(target=importlib.import_module, args=("hooked_slow",))
        importer.start()
        deadline = time.monotonic() + 5
        while getattr(sys.modules.get("hooked_slow"), "STARTED", False) is False:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        second = importhooks.register("hooked_slow", _hook(late))  # mid-execution
        assert late == []
        importer.join()
        assert seen == [("hooked_slow", "done")] and late == [("hooked_slow", "done")]
    finally:
        importhooks.remove(first)
        if second is not None:
            importhooks.remove(second)


def test_a_removed_hook_never_runs_and_the_last_removal_leaves_the_import_system(
        modules: Path) -> None:
    (modules / "hooked_removed.py").write_text("VALUE = 1\n")
    seen: list[tuple[str, object]] = []
    finders = list(sys.meta_path)
    registration = importhooks.register("hooked_removed", _hook(seen))
    assert len(sys.meta_path) == len(finders) + 1
    importhooks.remove(registration)
    importhooks.remove(registration)  # twice is harmless
    assert sys.meta_path == finders
    import hooked_removed  # noqa: F401
    assert seen == []
