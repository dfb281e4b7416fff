"""An event's fingerprint slot: the digest and the summary, one int when the summary is interned.

The recorder packs them (``trace.with_summary``); replay, ``retrace inspect``
and the library-thread matcher read them back (``digest_of``, ``summary_of``).
A damaged slot is a divergence named at its call site, never a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

from retrace import trace
from retrace.testing import replay

SUMMARIES = {0: "GET 'a'", 5: "urandom(2)", 65535: "the last interned one"}


@pytest.mark.parametrize("digest", [0, 1, 0x7FFFFFFF, trace.DIGEST_MASK])
@pytest.mark.parametrize("summary", [0, 5, 65535])
def test_an_interned_summary_and_its_digest_are_one_int(digest: int, summary: int) -> None:
    fp = trace.with_summary(digest, summary)
    assert type(fp) is int and fp > trace.DIGEST_MASK
    assert trace.digest_of(fp) == digest
    assert trace.summary_of(fp, SUMMARIES) == SUMMARIES[summary]


def test_a_summary_kept_as_text_stays_a_pair() -> None:
    fp = trace.with_summary(7, "SELECT 1 (past the interning limit)")
    assert fp == [7, "SELECT 1 (past the interning limit)"]
    assert trace.digest_of(fp) == 7
    assert trace.summary_of(fp, SUMMARIES) == "SELECT 1 (past the interning limit)"


def test_a_digest_without_a_summary_reads_as_itself() -> None:
    assert trace.digest_of(12345) == 12345
    assert trace.summary_of(12345, SUMMARIES) is None
    assert trace.digest_of(None) is None and trace.summary_of(None, SUMMARIES) is None


@pytest.mark.parametrize("slot", ["text", {"a": 1}, [], [1, [2]], [1, 99], 1.5, -3,
                                  trace.with_summary(1, 4242)])
def test_damaged_slots_read_without_raising(slot: Any) -> None:
    trace.digest_of(slot)
    assert trace.summary_of(slot, SUMMARIES) is None


def _first_summarized(blocks: tuple[tuple[Any, ...], ...]) -> tuple[int, int]:
    """``(block, item index)`` of the fingerprint slot of the first event with a summary."""
    for index, block in enumerate(blocks):
        for at in range(0, len(block), trace.RECORD_WIDTH):
            code, fp = block[at + 1], block[at + 3]
            if code >= 0 and type(fp) is int and fp > trace.DIGEST_MASK:
                return index, at + 3
    raise AssertionError("the loop recording has no event with a summary")


@pytest.mark.parametrize("slot", ["text", {"a": 1}, [], trace.with_summary(1, 4242)])
def test_a_damaged_slot_is_a_divergence_at_its_call_site(loop_recording, craft, slot) -> None:
    blocks = [list(block) for block in loop_recording.blocks]
    index, at = _first_summarized(loop_recording.blocks)
    blocks[index][at] = slot
    run = replay(craft(f"slot-{abs(hash(repr(slot)))}", blocks=blocks))
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert run.status == 86, run
    assert "loop.py:" in run.stderr, run.stderr
    assert loop_recording.stdout.startswith(run.stdout)
