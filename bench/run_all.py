"""Run every benchmark and write docs/performance.md from what they print.

Each ``bench/bench_*.py`` prints its own results (ratios against the same
work without retrace, measured in the same run). This runner executes them
one after another, in fresh interpreters, and writes the page: the machine,
the goals and where each stands, and every benchmark's output verbatim.

    python bench/run_all.py [--only NAME ...] [--output docs/performance.md]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

GOALS = """\
| goal | where it is measured |
|---|---|
| record ≤ 2 µs per event, replay ≤ 2 µs per event, ≤ 16 bytes per event | clock |
| `retrace record` start-up ≤ 50 ms | clock |
| memory growth ≤ 20 MB over 10⁶ events; cost flat along the trace | memory |
| record ≤ 1.05x live, replay ≤ 0.2x live, linear in requests | requests |
| record ≤ 1.10x live, replay ≤ 0.2x live | psycopg, redis, asyncio |
| a realistic service recorded as a whole process: record ≤ 1.05x live, replay ≤ 0.2x live | service |
| `rstep`, `rcontinue` ≤ 200 ms anywhere in a 10⁶-line, 100,000-event replay; checkpoint memory | timetravel |
"""


def _docstring(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def _run(path: Path) -> str:
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=1800)
    text = done.stdout.strip()
    if done.returncode != 0:
        text += f"\n(exit status {done.returncode})\n{done.stderr.strip()[-2000:]}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (clock, redis...)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    options = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if options.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in options.only]
    sections = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        sections.append(f"## {name}\n\n{_docstring(script)}\n\n```\n{_run(script)}\n```\n")
    notes = HERE / "NOTES.md"
    page = [
        "# Performance\n",
        "Written by `python bench/run_all.py`; every number below comes from one run of the "
        "benchmarks on the machine described, each ratio against the same work without "
        "retrace measured in the same run.\n",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})\n",
        "## Goals\n",
        GOALS,
        notes.read_text(encoding="utf-8") if notes.exists() else "",
        *sections,
    ]
    Path(options.output).write_text("\n".join(page), encoding="utf-8")
    print(f"wrote {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
