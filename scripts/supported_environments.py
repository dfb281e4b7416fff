"""Write docs/supported-environments.md from tox.ini, so the page cannot drift from the matrix.

    python scripts/supported_environments.py          # rewrite the page
    python scripts/supported_environments.py --check  # exit 1 if the page is stale (tox -e docs)

Reads the test environments of ``env_list`` (names starting ``pyXY``, with
tox's brace expansion) and the ``deps`` each one gets (tox factor
conditions: ``a,b: dep`` for a or b, ``a-b: dep`` for both, ``!a: dep``
for not a). Standard library only: the docs environment installs nothing
else.
"""

from __future__ import annotations

import argparse
import configparser
import itertools
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "supported-environments.md"
INTRO = """# Supported environments

This page is generated from `tox.ini` by `scripts/supported_environments.py`
(`tox -e docs` fails when it is out of date): every row is a tox environment
that runs the whole test suite, from a wheel, in CI.

- Operating system: Linux (tested). macOS should work and is not in the
  matrix yet; Windows is not supported.
- Interpreter: CPython only.
- A recording replays with the same Python minor version that recorded it.
"""


def expand(item: str) -> list[str]:
    """``py{310,311}-redis{4,5}`` -> the four names."""
    parts = re.split(r"(\{[^}]*\})", item)
    choices = [p[1:-1].split(",") if p.startswith("{") else [p] for p in parts]
    return ["".join(c.strip() for c in combo) for combo in itertools.product(*choices)]


def _applies(condition: str, factors: set[str]) -> bool:
    for alternative in condition.split(","):
        wanted = [f.strip() for f in alternative.split("-") if f.strip()]
        if all((f[1:] not in factors) if f.startswith("!") else (f in factors) for f in wanted):
            return True
    return False


def deps_for(env: str, config: configparser.ConfigParser) -> list[str]:
    factors = set(env.split("-"))
    lines: list[str] = []
    for section in ("testenv", f"testenv:{env}"):
        if config.has_option(section, "deps"):
            lines += config.get(section, "deps").splitlines()
    chosen = []
    for line in filter(None, (raw.strip() for raw in lines)):
        condition, colon, dep = line.partition(": ")
        if colon and re.fullmatch(r"[!\w,.\-]+", condition):
            if _applies(condition, factors):
                chosen.append(dep.strip())
        else:
            chosen.append(line)
    return chosen


def render(tox_ini: Path) -> str:
    config = configparser.ConfigParser(interpolation=None)
    config.read(tox_ini)
    names = [name for raw in config.get("tox", "env_list").split() for name in expand(raw)]
    rows = []
    for env in names:
        python = re.match(r"py(3)(\d+)", env)
        if python is None:
            continue
        deps = deps_for(env, config)
        pins = ", ".join(f"`{d}`" for d in deps) or "the versions the extras allow"
        rows.append(f"| `{env}` | {python.group(1)}.{python.group(2)} | {pins} |")
    table = ["| tox environment | Python | libraries |", "|---|---|---|", *rows]
    return INTRO + "\n## The tested matrix\n\n" + "\n".join(table) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the page is stale")
    options = parser.parse_args()
    text = render(ROOT / "tox.ini")
    if options.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE.relative_to(ROOT)} is out of date with tox.ini; regenerate it with "
                  "python scripts/supported_environments.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
