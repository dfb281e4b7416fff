"""One machine-readable line per measured workload, for ``run_all.py``'s summary table.

Every benchmark prints its own human-readable report; this line repeats the
figures the summary compares across benchmarks, so the table is built from
what the benchmark measured instead of parsed out of its prose.
"""

from __future__ import annotations

import json

PREFIX = "result: "


def emit(workload: str, unit: str, live: float | None, record: float,
         replay: float | None = None, **extra: float | str | None) -> None:
    """Print the result of one workload: seconds per ``unit`` in each phase.

    ``live`` is None for a workload with nothing to compare against (the
    table then shows the times themselves).

    ``extra`` carries what the table shows besides the ratios:
    ``bytes_per_event``, ``peak_mb``, ``startup_ms`` (added over plain
    Python), ``note``.
    """
    print(PREFIX + json.dumps({"workload": workload, "unit": unit, "live": live,
                               "record": record, "replay": replay, **extra}), flush=True)
