"""Entry points and versions read without importlib.metadata give importlib.metadata's answers.

:mod:`retrace.distributions` reads the ``*.dist-info`` folders on
``sys.path`` itself (importing ``importlib.metadata`` cost a third of a
bare start-up). These tests hold it to ``importlib.metadata`` on the real
environment and on made-up ones: a third-party adapter, a shadowed
distribution, a distribution inside a zip (where it defers to
``importlib.metadata``), and the header lines ``email`` reads.
"""

from __future__ import annotations

import email
import importlib.metadata
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from retrace import distributions
from retrace.distributions import Installed, _headers, scan


def _theirs(group: str) -> list[tuple[str, str, str, str]]:
    return [(ep.name, ep.value, ep.dist.name, ep.dist.version)
            for ep in importlib.metadata.entry_points(group=group)]


def _ours(installed: Installed, group: str) -> list[tuple[str, str, str, str]]:
    return [(ep.name, ep.value, ep.dist.name, ep.dist.version) for ep in installed.entry_points(group)]


def _groups(path: list[str]) -> set[str]:
    return {ep.group for dist in scan(path).values() for ep in dist.entry_points()}


def test_every_group_and_version_of_this_environment_reads_as_importlib_metadata_reads_it() -> None:
    installed = Installed(list(sys.path))
    groups = _groups(list(sys.path))
    assert {"retrace.adapters", "retrace.plugins", "console_scripts"} <= groups
    for group in groups:
        assert _ours(installed, group) == _theirs(group), group
    names = {dist.metadata["Name"] for dist in importlib.metadata.distributions()}
    for name in [*names, "no-such-distribution", "PSYCOPG", "Redis"]:
        try:
            expected: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            expected = None
        assert installed.version(name) == expected, name


def _dist(folder: Path, name: str, version: str, entry_points: str) -> None:
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nBody\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


THIRD_PARTY = """
    import time
    from retrace import Adapter, Boundary, Patch

    class TickAdapter(Adapter):
        name = "tick"

        def patches(self):
            return [Patch("tick_lib", "tick", Boundary("tick_lib.tick"))]

    adapter = TickAdapter()
"""


def test_a_third_party_adapter_is_found_listed_and_records(tmp_path: Path) -> None:
    site = tmp_path / "env" / "site-packages"  # where an installed adapter lives, not the program
    _dist(site, "retrace-tick", "1.2", """
        # a comment, and a group of another tool first
        [console_scripts]
        tick = retrace_tick:main

        [retrace.adapters]
        tick = retrace_tick:adapter
    """)
    (site / "retrace_tick.py").write_text(textwrap.dedent(THIRD_PARTY))
    (site / "tick_lib.py").write_text("import random\n\ndef tick():\n    return random.random()\n")
    program = tmp_path / "prog.py"
    program.write_text("import tick_lib\nprint(tick_lib.tick())\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RETRACE")},
           "PYTHONPATH": str(site)}
    listed = subprocess.run([sys.executable, "-m", "retrace", "adapters"], env=env,
                            capture_output=True, text=True, check=True)
    line = next(line for line in listed.stdout.splitlines() if line.startswith("tick "))
    assert line.split()[-2:] == ["retrace-tick", "1.2"]
    recorded = subprocess.run([sys.executable, "-m", "retrace", "record", "-o", str(tmp_path / "rec"),
                               str(program)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    replayed = subprocess.run([sys.executable, "-m", "retrace", "replay", str(tmp_path / "rec")],
                              env=env, capture_output=True, text=True, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == recorded.stdout  # the random value came from the trace
    inspected = subprocess.run([sys.executable, "-m", "retrace", "inspect", str(tmp_path / "rec")],
                               env=env, capture_output=True, text=True, check=True)
    assert "tick_lib.tick" in inspected.stdout


def test_the_first_distribution_of_a_name_on_the_path_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist(tmp_path / "a", "Shadowed.Name", "2.0", "[retrace.test]\nfirst = mod_a:x\n")
    _dist(tmp_path / "b", "shadowed-name", "1.0", "[retrace.test]\nfirst = mod_b:x\nsecond = mod_b:y\n")
    path = [str(tmp_path / "a"), str(tmp_path / "missing"), str(tmp_path / "b")]
    monkeypatch.setattr(sys, "path", path)
    installed = Installed(path)
    assert _ours(installed, "retrace.test") == _theirs("retrace.test") == [
        ("first", "mod_a:x", "Shadowed.Name", "2.0")]
    assert installed.version("SHADOWED_name") == importlib.metadata.version("shadowed_name") == "2.0"


def test_a_distribution_in_a_zip_is_read_by_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-3.1.dist-info/METADATA", "Name: zipped\nVersion: 3.1\n")
        zipped.writestr("zipped-3.1.dist-info/entry_points.txt", "[retrace.test]\nz = zipped:z\n")
    monkeypatch.setattr(sys, "path", [str(archive), *sys.path])
    with pytest.raises(distributions.Unusual):
        scan(sys.path)
    installed = distributions.installed()
    assert _ours(installed, "retrace.test") == [("z", "zipped:z", "zipped", "3.1")]
    assert installed.version("zipped") == "3.1"


def test_the_reading_is_kept_until_the_path_or_a_folder_on_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    first = distributions.installed()
    assert distributions.installed() is first
    _dist(tmp_path, "late", "0.1", "")  # installed into a folder already on the path
    assert distributions.installed() is not first
    assert distributions.installed().version("late") == "0.1"


@pytest.mark.parametrize("text", [
    "Name: plain\nVersion: 1.0\n",
    "Name: first\nName: second\nVersion: 1.0 \n\nVersion: 9\n",
    "Version:\t2.0\r\nName:  spaced \r\n",
    "Summary: a\n  folded line\nVersion: 1\n  .1\nName: n\n",
    "Name: only\n",
    "Metadata-Version: 2.1\nnot a header\nVersion: 1\n",
    "",
])
def test_name_and_version_are_read_as_email_reads_them(text: str) -> None:
    message = email.message_from_string(text)
    assert _headers(text, ("name", "version")) == {
        key: message[key] for key in ("name", "version") if message[key] is not None}


def test_an_entry_point_loads_a_module_or_an_attribute_path() -> None:
    dist = distributions.Distribution("nowhere")
    assert distributions.EntryPoint("m", "os.path", "g", dist).load() is __import__("os.path").path
    assert distributions.EntryPoint("a", "os : path.join [extra]", "g", dist).load() is (
        __import__("os").path.join)
