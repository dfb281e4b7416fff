"""docs/supported-environments.md is generated from tox.ini and must match it."""

from __future__ import annotations

import configparser
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "supported_environments", ROOT / "scripts" / "supported_environments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_matches_tox_ini() -> None:
    generator = _generator()
    assert (ROOT / "docs" / "supported-environments.md").read_text() == generator.render(
        ROOT / "tox.ini"), "regenerate with: python scripts/supported_environments.py"


def test_factor_expansion_and_conditional_deps() -> None:
    generator = _generator()
    assert generator.expand("py{310,311}-redis{4,5}") == [
        "py310-redis4", "py310-redis5", "py311-redis4", "py311-redis5"]
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(
        "[testenv]\ndeps =\n    pytest\n    redis4: redis>=4.6,<5\n    redis5,redis6: redis>=5\n"
        "    py310-redis5: extra\n    !redis4: not-four\n")
    assert generator.deps_for("py310-redis4", config) == ["pytest", "redis>=4.6,<5"]
    assert generator.deps_for("py310-redis5", config) == ["pytest", "redis>=5", "extra", "not-four"]
    assert generator.deps_for("py311-redis5", config) == ["pytest", "redis>=5", "not-four"]
