"""Positions in a replay, and the bounded set of checkpoints that lead back to them.

A **position** is ``(thread, step)``: the thread's name and how many trace
events (calls, lines, returns, exceptions in the program's own code) that
thread has seen. Each thread's steps are deterministic on replay even when
threads interleave differently, so a position names the same moment in every
re-run. ``step n`` is *being processed* at the position; a checkpoint taken
"at step n" has processed steps up to ``n`` of its thread and none after.

Checkpoints are taken only while one thread runs (a fork copies only the
calling thread), so at a checkpoint every other thread has either not
started or finished: the sum of all threads' steps (``total``) is then
deterministic too, and orders checkpoints along the run.
"""

from __future__ import annotations

import attrs

#: How many dormant checkpoints a session keeps (besides the origin).
DEFAULT_LIMIT = 24


@attrs.define
class Checkpoint:
    pid: int
    thread: str
    step: int
    total: int
    steps: dict[str, int]
    consumed: int
    channel: object = attrs.field(default=None, repr=False, eq=False)

    def before(self, thread: str, step: int) -> bool:
        """Whether a run from here processes step ``step`` of ``thread``."""
        return self.steps.get(thread, 0) < step


@attrs.define
class Timeline:
    """The checkpoints, ordered along the run, thinned to a bound.

    Thinning drops the checkpoint whose neighbours are closest together, so
    the gaps stay even and the cost of reaching any position stays bounded by
    the widest gap; the origin (the program's first step) and the newest
    checkpoint are never dropped.
    """

    limit: int = DEFAULT_LIMIT
    checkpoints: list[Checkpoint] = attrs.field(factory=list)

    def add(self, checkpoint: Checkpoint) -> list[Checkpoint]:
        """Add ``checkpoint``; return the checkpoints to drop to stay within the limit."""
        if any(c.total == checkpoint.total for c in self.checkpoints):
            return [checkpoint]  # a re-run passed an existing one again
        self.checkpoints.append(checkpoint)
        self.checkpoints.sort(key=lambda c: c.total)
        dropped = []
        while len(self.checkpoints) > self.limit + 1:
            dropped.append(self._thin())
        return dropped

    def _thin(self) -> Checkpoint:
        cps = self.checkpoints
        best = min(range(1, len(cps) - 1), key=lambda i: cps[i + 1].total - cps[i - 1].total)
        return cps.pop(best)

    def remove(self, pid: int) -> None:
        self.checkpoints = [c for c in self.checkpoints if c.pid != pid]

    @property
    def frontier(self) -> int:
        return self.checkpoints[-1].total if self.checkpoints else -1

    def latest_before(self, thread: str, step: int) -> Checkpoint | None:
        """The last checkpoint from which a run reaches step ``step`` of ``thread``."""
        found = None
        for c in self.checkpoints:
            if c.before(thread, step):
                found = c
            else:
                break
        return found

    def latest_with_events_below(self, consumed: int) -> Checkpoint | None:
        """The last checkpoint taken before boundary event ``consumed`` was served."""
        found = self.checkpoints[0] if self.checkpoints else None
        for c in self.checkpoints:
            if c.consumed < consumed:
                found = c
            else:
                break
        return found

    def previous(self, checkpoint: Checkpoint) -> Checkpoint | None:
        earlier = [c for c in self.checkpoints if c.total < checkpoint.total]
        return earlier[-1] if earlier else None
