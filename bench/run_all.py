"""Run every benchmark and write its output into docs/performance.md.

Each ``bench/bench_*.py`` prints its own results (ratios against the same
work without retrace, measured in the same run). This runner executes them
one after another, in fresh interpreters, and writes them verbatim, with the
machine, the date and the load average around each, into the page's
"Latest full run" part: the text between ``<!-- run_all: begin -->`` and
``<!-- run_all: end -->`` (added at the end of the page if it has none).
Everything outside those markers is the hand-written analysis of the
numbers, and is left as it is.

    python bench/run_all.py [--only NAME ...] [--output docs/performance.md]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from _result import PREFIX

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN = "<!-- run_all: begin -->"
END = "<!-- run_all: end -->"

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


def _results(output: str) -> list[dict[str, Any]]:
    return [json.loads(line.removeprefix(PREFIX)) for line in output.splitlines()
            if line.startswith(PREFIX)]


def _cell(value: Any, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _micro(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1e6:.2f} µs"


def _summary(results: list[dict[str, Any]]) -> str:
    """The table of ratios: every workload, live against record and replay, from this run."""
    rows = [
        "| workload | live per unit | record | replay | added by record | bytes/event | other |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        live, record, replay = r["live"], r["record"], r["replay"]
        other = ", ".join(part for part in (
            f"peak growth {r['peak_mb']:.1f} MB" if r.get("peak_mb") is not None else "",
            f"start-up +{r['startup_ms']:.0f} ms" if r.get("startup_ms") is not None else "",
            r.get("note") or "",
        ) if part)
        if live is None:
            cells = ["", f"{record * 1e6:.2f} µs", _micro(replay), ""]
        else:
            cells = [f"{live * 1e6:.2f} µs/{r['unit']}", f"{record / live:.2f}x",
                     "" if replay is None else f"{replay / live:.2f}x",
                     f"+{(record - live) * 1e6:.2f} µs"]
        rows.append(f"| {r['workload']} | {' | '.join(cells)} | "
                    f"{_cell(r.get('bytes_per_event'))} | {other} |")
    return "\n".join(rows) + "\n"


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _latest_run(sections: list[str], results: list[dict[str, Any]]) -> str:
    return "\n".join([
        BEGIN,
        "## Latest full run\n",
        "Written by `python bench/run_all.py` (everything between this heading and the "
        "next part is replaced by the next run; the analysis above is not).\n",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})\n",
        "Every workload of this run (time per unit of work; record and replay as a "
        "multiple of live, measured in the same run):\n",
        _summary(results),
        "Goals, and the benchmark that measures each:\n",
        GOALS,
        *sections,
        END,
    ])


def _write(page: Path, block: str) -> None:
    text = page.read_text(encoding="utf-8") if page.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (clock, redis...)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    options = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if options.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in options.only]
    sections = []
    results: list[dict[str, Any]] = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        before = _load()
        output = _run(script)
        results += _results(output)
        output = "\n".join(line for line in output.splitlines() if not line.startswith(PREFIX))
        sections.append(f"### {name}\n\n{_docstring(script)}\n\n"
                        f"Load average (1/5/15 min) before: {before}; after: {_load()}.\n\n"
                        f"```\n{output}\n```\n")
    _write(Path(options.output), _latest_run(sections, results))
    print(f"wrote {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
