"""The divergence report: what the recording expected and what the program did.

A report is plain text meant for a person at a terminal: the event number,
the thread, both sides (boundary, argument summary, call site) and a hint
that says what usually causes this kind of difference.
"""

from __future__ import annotations

from .frozen import Value
from .tracebacks import HEADER


class Side(Value):
    """One side of a divergence: a boundary call, recorded or attempted."""

    __slots__ = ("boundary", "site", "summary")

    boundary: str
    summary: str | None
    site: str

    def __init__(self, boundary: str, summary: str | None, site: str) -> None:
        self._set(boundary=boundary, summary=summary, site=site)

    def lines(self) -> list[str]:
        out = [f"    boundary:  {self.boundary}"]
        if self.summary:
            out.append(f"    arguments: {self.summary}")
        out.append(f"    call site: {self.site}")
        return out


HINTS = {
    "boundary": "the program took a different path than when it was recorded. Common causes: "
    "the code in run/ was edited, or a value the program computed did not come from a "
    "boundary (an unpatched source of non-determinism).",
    "arguments": "the same call was made with different arguments. Common causes: an edited "
    "run/, or an argument built from something not recorded (e.g. a clock read through an "
    "alias retrace does not patch).",
    "extra": "the program made a call the recording does not have: it runs longer than the "
    "recorded run did.",
    "missing": "the program finished before using every recorded event: it took a shorter "
    "path than when it was recorded.",
    "exit": "every event matched, but the program ended with a different exit status.",
    "stuck": "no thread can go on: each waits for a turn the recording gives to another "
    "thread. A thread was not started, or took a different path.",
    "crashed": "the program raised an exception the recorded run did not raise: something it "
    "used answered differently on replay. Common causes: a library retrace does not record "
    "(it ran for real, against what is there now: stdlib sqlite3 needs the example adapter "
    "in examples/retrace-sqlite3), or an edited run/.",
    "output": "the program wrote something different from what it wrote when recorded. When "
    "the program's threads share data without a lock (an unsynchronised race), the replayed "
    "interleaving between two recorded events can differ; see docs/adapters/threading.md. "
    "A program that prints a value redaction replaced differs too: replay it with "
    "RETRACE_CHECK_OUTPUT=0.",
    "sync": "a synchronisation call performed at its recorded turn ended differently than when "
    "recorded (a lock that was free is held, a queue that had an item is empty). The program "
    "took a different path, or its threads race on state no lock protects.",
}


def report(
    kind: str,
    event: int,
    thread: int | str,
    expected: Side | None,
    actual: Side | None,
    detail: str = "",
) -> str:
    """Format a divergence report; ``kind`` is a key of :data:`HINTS`."""
    lines = [f"retrace: replay diverged at event #{event} (thread {thread})"]
    if detail:
        lines.append(f"  {detail}")
    if expected is not None:
        lines.append("  the recording expected:")
        lines += expected.lines()
    if actual is not None:
        lines.append("  the program did:")
        lines += actual.lines()
    lines.append(f"  hint: {HINTS[kind]}")
    lines.append("  (see docs/troubleshooting.md, 'Replay diverges')")
    return "\n".join(lines)


#: How :func:`written` starts the summary of a traceback.
TRACEBACK = "a traceback"


def written(text: str, limit: int = 160) -> str:
    """What the replayed program tried to write, for the report's "the program did" side.

    Only the replay's own text is shown (the recording holds digests of
    output, never the text). An uncaught exception the recorded run did not
    have is the most common reason a replay writes something else, so a
    traceback is shown by its last line, the exception.
    """
    if HEADER in text:
        last = [line for line in text.strip().splitlines() if line and not line[0].isspace()]
        return f"{TRACEBACK} ending in {last[-1][:limit]!r}" if last else TRACEBACK
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
