"""Start-up: an adapter whose library the program never imports costs it nothing.

Adapters that declare ``imports`` are installed just before the program
first imports their library (:mod:`retrace.arrivals`). These tests check the
behaviour, not the timing (docs/performance.md has the numbers): which of
retrace's modules a program finds loaded, that a library imported later is
still recorded from its first call, and that the import watch leaves no trace
once a session ends.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import cbor2
import pytest

import retrace
from retrace.arrivals import ImportWatch
from retrace.registry import discover_adapters
from retrace.testing import record_and_replay, run_retrace

#: What each lazy first-party adapter's implementation consists of: none of it may be
#: loaded in a program that does not import the library.
IMPLEMENTATIONS = {
    "requests": "retrace.adapters.requests_adapter",
    "redis": "retrace.adapters.redis.",
    "psycopg": "retrace.adapters.psycopg.",
}

SHOW_LOADED = textwrap.dedent(
    """
    import sys, time
    time.time()
    print(sorted(m for m in sys.modules if m.startswith(("retrace.adapters.", "requests",
                                                          "urllib3", "redis", "psycopg"))))
    """
)


def _loaded(stdout: str) -> list[str]:
    line = stdout.strip().splitlines()[-1]
    names = line.strip("[]").replace("'", "").split(", ")
    return [n for n in names if n]


def test_a_library_the_program_never_imports_loads_none_of_its_adapter(tmp_path: Path) -> None:
    program = tmp_path / "plain.py"
    program.write_text(SHOW_LOADED)
    recorded, _replayed = record_and_replay(program, tmp_path / "rec", times=1)
    assert recorded.status == 0, recorded.stderr
    loaded = _loaded(recorded.stdout)
    assert "retrace.adapters.clock" in loaded  # the always-installed adapters are there
    for adapter, prefix in IMPLEMENTATIONS.items():
        assert not [m for m in loaded if m.startswith(prefix)], (adapter, loaded)
    assert not [m for m in loaded if m.split(".")[0] in ("requests", "urllib3", "redis", "psycopg")]


def test_a_library_imported_mid_program_is_recorded_from_its_first_call(tmp_path: Path) -> None:
    """requests arrives after the program has run: its proxy lookup is still an event.

    ``requests.utils.get_environ_proxies`` is a boundary of the requests
    adapter: its event is in the trace, and the replay answers it.
    """
    program = tmp_path / "late.py"
    program.write_text(textwrap.dedent(
        """
        import sys, time
        time.time()
        before = "retrace.adapters.requests_adapter.urlopen" in sys.modules
        import requests.utils
        print(before, "retrace.adapters.requests_adapter.urlopen" in sys.modules)
        print(requests.utils.get_environ_proxies("http://example.invalid/"))
        """
    ))
    env = {"HTTP_PROXY": "http://proxy.invalid:3128", "NO_PROXY": ""}
    recorded, _replayed = record_and_replay(program, tmp_path / "rec", times=1, env=env)
    assert recorded.status == 0, recorded.stderr
    assert recorded.stdout.splitlines()[0] == "False True"
    assert "proxy.invalid:3128" in recorded.stdout
    inspected = run_retrace(["inspect", str(tmp_path / "rec")])
    assert "requests.get_environ_proxies" in inspected.stdout, inspected.stdout


def test_first_party_lazy_adapters_patch_only_inside_their_imports() -> None:
    """The rule that makes waiting safe: no patch outside the modules the adapter waits for."""
    lazy = [e for e in discover_adapters() if e.adapter.imports]
    assert {e.name for e in lazy} >= set(IMPLEMENTATIONS)
    for entry in lazy:
        for patch in entry.adapter.patches():
            top = patch.module.split(".")[0]
            assert patch.module in entry.adapter.imports or top in entry.adapter.imports, (
                entry.name, patch.module)


def test_a_scoped_session_installs_an_already_imported_library_and_leaves_no_watch(
    tmp_path: Path,
) -> None:
    code = textwrap.dedent(
        f"""
        import sys, requests
        import retrace
        with retrace.recording({str(tmp_path / "rec")!r}) as session:
            print(sorted(e.name for e in session.installed if e.adapter.imports))
            print(sorted(session.arrivals.pending()))
        print(any(type(f).__name__ == "ImportWatch" for f in sys.meta_path))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    installed, pending, left = done.stdout.splitlines()
    assert "requests" in installed and "redis" not in installed
    assert "redis" in pending and "requests" not in pending
    assert left == "False"


def test_the_watch_runs_before_the_module_executes_and_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "watched_pkg").mkdir()
    (tmp_path / "watched_pkg" / "__init__.py").write_text(
        "import builtins\nSEEN = list(builtins._retrace_test_calls)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[str] = []
    monkeypatch.setattr("builtins._retrace_test_calls", calls, raising=False)
    watch = ImportWatch()
    try:
        watch.watch(["watched_pkg", "watched_other"], lambda: calls.append("ran"))
        assert watch.pending() == {"watched_pkg", "watched_other"}
        module = importlib.import_module("watched_pkg")
        assert module.SEEN == ["ran"]  # the callback ran before the package's first line
        importlib.reload(module)
        watch.find_spec("watched_other")
        assert calls == ["ran"] and watch.pending() == set()
        watch.watch(["watched_pkg"], lambda: calls.append("at once"))  # already imported
        assert calls == ["ran", "at once"]
    finally:
        watch.close()
        sys.modules.pop("watched_pkg", None)
    assert watch not in sys.meta_path


def test_a_callback_that_imports_the_watched_module_leaves_it_run_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The asyncio adapter's case: installing it imports the library it waits for."""
    (tmp_path / "eager_pkg").mkdir()
    (tmp_path / "eager_pkg" / "__init__.py").write_text(
        "import builtins\nbuiltins._retrace_test_runs.append('pkg')\nfrom .part import *\n"
        "__all__ = part.__all__\n"  # a package that reads its submodule as an attribute
    )
    (tmp_path / "eager_pkg" / "part.py").write_text("__all__ = ['VALUE']\nVALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    runs: list[str] = []
    monkeypatch.setattr("builtins._retrace_test_runs", runs, raising=False)
    seen = []
    watch = ImportWatch()
    try:
        watch.watch(["eager_pkg"], lambda: seen.append(importlib.import_module("eager_pkg")))
        import eager_pkg  # type: ignore[import-not-found]

        assert runs == ["pkg"]
        assert seen == [eager_pkg] and sys.modules["eager_pkg"] is eager_pkg
        assert eager_pkg.__all__ == ["VALUE"]
        assert type(eager_pkg.__spec__.loader).__name__ == "SourceFileLoader"
        assert eager_pkg.__loader__ is eager_pkg.__spec__.loader
        importlib.reload(eager_pkg)
        assert runs == ["pkg", "pkg"]
    finally:
        watch.close()
        for name in ("eager_pkg", "eager_pkg.part"):
            sys.modules.pop(name, None)


def test_the_asyncio_adapter_is_loaded_only_with_asyncio(tmp_path: Path) -> None:
    """Its implementation imports asyncio: a program without asyncio must not get it from us.

    (wrapt 2 imports asyncio itself, so while retrace runs on it both are loaded;
    the adapter's modules must then still be there, installed at start.)
    """
    program = tmp_path / "plain.py"
    program.write_text(
        "import sys, time\ntime.time()\n"
        "print('asyncio' in sys.modules, 'retrace.adapters.aio.loop' in sys.modules)\n"
        "import asyncio\n"
        "print('retrace.adapters.aio.loop' in sys.modules)\n"
    )
    recorded, replayed = record_and_replay(program, tmp_path / "rec", times=1)
    first, after = recorded.stdout.splitlines()[-2:]
    asyncio_loaded, adapter_loaded = first.split()
    assert asyncio_loaded == adapter_loaded, recorded.stdout
    assert after == "True"
    assert replayed.stdout == recorded.stdout


def test_the_public_adapter_base_declares_imports_empty_by_default() -> None:
    assert retrace.Adapter.imports == ()


def test_an_adapter_implementing_a_hook_is_still_registered_with_the_plugin_manager() -> None:
    """Adapters without hooks are not handed to pluggy (it costs start-up); one with a hook is."""
    from retrace.registry import AdapterEntry, plugin_manager, register_adapters

    headers: list[dict] = []

    class Quiet(retrace.Adapter):
        name = "quiet"

    class Noting(retrace.Adapter):
        name = "noting"

        @retrace.hookimpl
        def retrace_recording_header(self, header: dict) -> None:
            headers.append(header)

    pm = plugin_manager()
    register_adapters(pm, [AdapterEntry("quiet", Quiet(), "test", None),
                           AdapterEntry("noting", Noting(), "test", None)])
    assert pm.get_plugin("adapter:noting") is not None
    assert pm.get_plugin("adapter:quiet") is None
    pm.hook.retrace_recording_header(header={"x": 1})
    assert headers == [{"x": 1}]


#: Imported by no part of a session that does not need them (docs/performance.md, "start-up").
NOT_AT_START = ("argparse", "attr", "attrs", "decimal", "uuid", "zoneinfo", "hashlib")


def test_a_session_imports_neither_attrs_argparse_nor_the_stdlib_modules_only_some_values_need(
    tmp_path: Path,
) -> None:
    program = tmp_path / "plain.py"
    program.write_text(
        "import sys, time\ntime.time()\n"
        f"print(sorted(m for m in {NOT_AT_START!r} if m in sys.modules))\n"
    )
    recorded, replayed = record_and_replay(program, tmp_path / "rec", times=1)
    assert recorded.stdout.strip().splitlines()[-1] == "[]", recorded.stdout
    assert replayed.stdout == recorded.stdout


def test_a_time_zone_imported_after_the_session_started_records_and_replays(tmp_path: Path) -> None:
    program = tmp_path / "zone.py"
    program.write_text(
        "import datetime, zoneinfo\n"
        "print(repr(datetime.datetime.now(zoneinfo.ZoneInfo('Europe/Paris')).tzinfo))\n"
    )
    recorded, replayed = record_and_replay(program, tmp_path / "rec", times=1)
    assert "Europe/Paris" in recorded.stdout
    assert replayed.stdout == recorded.stdout


@pytest.mark.parametrize("value", ["decimal", "uuid"])
def test_codecs_registered_on_first_use_encode_and_decode(value: str) -> None:
    import decimal
    import uuid

    from retrace.codecs import CodecRegistry
    from retrace.decoding import safe_loads

    made = {"decimal": decimal.Decimal("-1.50"), "uuid": uuid.UUID(int=2**100 + 7)}[value]
    plain = CodecRegistry().to_plain([made])
    replayed = CodecRegistry().materialize(safe_loads(cbor2.dumps(plain)))  # a replay's fresh registry
    assert replayed == [made]
    assert type(replayed[0]) is type(made)


def test_recording_a_program_that_imports_nothing_does_not_import_wrapt(tmp_path: Path) -> None:
    """wrapt's import costs ~60 ms (asyncio, inspect, importlib.metadata): patches do without it."""
    program = tmp_path / "empty.py"
    program.write_text("import sys\nprint(sorted(m for m in sys.modules if m.startswith(('wrapt', "
                       "'asyncio', 'importlib.metadata'))))\n")
    recorded, _replayed = record_and_replay(program, tmp_path / "rec", times=1)
    assert recorded.stdout.strip().splitlines()[-1] == "[]", recorded.stdout
