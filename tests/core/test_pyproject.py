"""The ``[tool.retrace]`` reader: one parse per file version, shared by every reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrace import pyproject
from retrace.errors import UsageError


def test_a_file_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    toml = tmp_path / "pyproject.toml"
    toml.write_text('[tool.retrace.files]\ninclude = ["a/*"]\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    path, first = pyproject.retrace_settings(nested)
    assert path == toml and first == {"files": {"include": ["a/*"]}}
    assert pyproject.retrace_settings(tmp_path)[1] is first
    toml.write_text('[tool.retrace.files]\ninclude = ["b/*"]\n')
    os.utime(toml, ns=(1, 1))  # a rewrite within the clock's resolution still counts
    assert pyproject.retrace_settings(tmp_path)[1] == {"files": {"include": ["b/*"]}}


@pytest.mark.parametrize(("table", "problem"), [
    ("not a table", "is not a table"),
    ({"inclde": []}, "unknown key 'inclde'"),
    ({"include": "a/*"}, "include must be a list of strings"),
    ({"include": ["a", 1]}, "include must be a list of strings"),
])
def test_checked_lists_refuses_what_would_be_ignored(table: object, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as caught:
        pyproject.checked_lists(Path("/p/pyproject.toml"), "tool.retrace.files", table,
                                ("include", "exclude"), "docs/adapters/files.md")
    assert "/p/pyproject.toml: [tool.retrace.files]" in str(caught.value)
    assert "see docs/adapters/files.md" in str(caught.value)


def test_sub_tables_are_left_to_the_caller() -> None:
    table = {"env": ["X"], "keep": {"env": ["Y"]}}
    assert pyproject.checked_lists(Path("p"), "t", table, ("env", "keep"), "g", tables=("keep",)) is table
