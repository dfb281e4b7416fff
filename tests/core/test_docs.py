"""Documentation that cannot drift: every hook and every adapter is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

from retrace import hookspecs
from retrace.registry import discover_adapters

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_hookspec_is_in_the_hook_reference() -> None:
    reference = (DOCS / "hooks.md").read_text()
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("retrace_")]
    assert specs, "no hookspecs found"
    missing = [name for name in specs if f"## {name}(" not in reference]
    assert not missing, f"hooks missing from docs/hooks.md: {missing}"


def test_every_installed_first_party_adapter_is_documented() -> None:
    pages = {p.stem: p.read_text() for p in (DOCS / "adapters").glob("*.md")}
    sections = "".join(pages.values())
    for entry in discover_adapters():
        if entry.provided_by.startswith("retrace "):
            assert entry.name in pages or f"\n## {entry.name}\n" in sections, (
                f"adapter {entry.name} has no page docs/adapters/{entry.name}.md and no "
                f"'## {entry.name}' section under docs/adapters/"
            )
