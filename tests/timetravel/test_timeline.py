"""The checkpoint set: ordering, thinning to an even spread, and which checkpoint leads where."""

from __future__ import annotations

from itertools import pairwise

from retrace.timetravel.timeline import Checkpoint, Timeline


def checkpoint(total: int, steps: dict[str, int] | None = None, consumed: int = 0) -> Checkpoint:
    steps = steps if steps is not None else {"MainThread": total}
    return Checkpoint(
        pid=total + 1000,
        thread="MainThread",
        step=steps.get("MainThread", 0),
        total=total,
        steps=steps,
        consumed=consumed,
    )


def test_thinning_keeps_the_origin_and_the_newest_and_spreads_the_rest_evenly() -> None:
    timeline = Timeline(limit=4)
    dropped = []
    for total in range(0, 1000, 10):
        dropped += timeline.add(checkpoint(total))
    kept = [c.total for c in timeline.checkpoints]
    assert len(kept) == 5 and kept[0] == 0 and kept[-1] == 990
    gaps = [b - a for a, b in pairwise(kept)]
    assert max(gaps) <= 2 * min(gaps) + 10  # even, give or take one step of adding
    assert len(dropped) == 100 - 5


def test_a_checkpoint_passed_again_is_not_kept_twice() -> None:
    timeline = Timeline()
    first = checkpoint(50)
    assert timeline.add(first) == []
    again = checkpoint(50)
    assert timeline.add(again) == [again]
    assert timeline.checkpoints == [first]


def test_the_checkpoint_before_a_position_in_any_thread() -> None:
    timeline = Timeline()
    for c in (
        checkpoint(0, {}),
        checkpoint(10, {"MainThread": 10}),
        checkpoint(30, {"MainThread": 12, "worker": 18}),
        checkpoint(40, {"MainThread": 22, "worker": 18}),
    ):
        timeline.add(c)
    assert timeline.latest_before("MainThread", 11).total == 10
    assert timeline.latest_before("MainThread", 10).total == 0  # step 10 is processed at 10
    assert timeline.latest_before("worker", 5).total == 10  # before the worker started
    assert timeline.latest_before("worker", 19).total == 40  # after it ended
    assert timeline.latest_before("MainThread", 1).total == 0
    assert timeline.previous(timeline.checkpoints[2]).total == 10
    assert timeline.previous(timeline.checkpoints[0]) is None


def test_the_checkpoint_before_a_boundary_event() -> None:
    timeline = Timeline()
    for total, consumed in ((0, 1), (10, 3), (20, 7)):
        timeline.add(checkpoint(total, consumed=consumed))
    assert timeline.latest_with_events_below(5).total == 10
    assert timeline.latest_with_events_below(7).total == 10
    assert timeline.latest_with_events_below(1).total == 0  # served before the program began
