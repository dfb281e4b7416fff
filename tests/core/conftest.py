"""Fixtures for the core's fault tests: one real recording spanning many blocks, and a way to
craft traces from it (re-framed, so every CRC is right and only the content is hostile)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cbor2
import pytest

from retrace.testing import record
from retrace.trace import MAGIC, PREFIX_SIZE, TraceReader, frame

# Every iteration reads the clock and randomness and sleeps; a sleep is a blocking boundary,
# so the recorder writes one block before each: the trace has some 40 frames.
LOOP = """\
import os
import random
import time

for i in range(40):
    print(i, time.time(), random.random(), os.urandom(2).hex(), flush=True)
    time.sleep(0.015)  # longer than the flusher's interval: a block per iteration
print("done")
"""


@attrs.frozen
class Recorded:
    """A recording made once per session, and what its trace holds, frame by frame."""

    directory: Path
    stdout: str = attrs.field(repr=False)
    data: bytes = attrs.field(repr=False)
    header: dict[str, Any] = attrs.field(repr=False)
    starts: tuple[int, ...] = attrs.field(repr=False)  # offset of every frame; the header's is 3
    ends: tuple[int, ...] = attrs.field(repr=False)
    blocks: tuple[tuple[Any, ...], ...] = attrs.field(repr=False)  # record blocks, header excluded
    events: int = 0

    def frame_of(self, position: int) -> int:
        """Offset of the frame holding byte ``position`` (0 for the magic, len for the end)."""
        if position < len(MAGIC):
            return 0
        if position >= len(self.data):
            return len(self.data)
        return max(s for s in self.starts if s <= position)


def frames_of(data: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    starts, ends = [], []
    offset = len(MAGIC)
    while offset < len(data):
        length = int.from_bytes(data[offset + 7 : offset + PREFIX_SIZE], "big")
        starts.append(offset)
        offset += PREFIX_SIZE + length
        ends.append(offset)
    assert offset == len(data)
    return tuple(starts), tuple(ends)


def count_events(blocks: Any) -> int:
    return sum(1 for block in blocks for code in block[1::5] if code >= 0)


@pytest.fixture(scope="session")
def loop_recording(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    base = tmp_path_factory.mktemp("loop")
    program = base / "loop.py"
    program.write_text(LOOP)
    directory = base / "rec"
    run = record(program, directory, cwd=base)
    assert (run.status, run.stderr) == (0, ""), run.stderr
    assert len(run.stdout.splitlines()) == 41 and run.stdout.endswith("\ndone\n")
    data = (directory / "trace.bin").read_bytes()
    reader = TraceReader(str(directory / "trace.bin"))
    blocks = tuple(tuple(items) for _offset, items in reader.blocks())
    reader.close()
    assert reader.truncated_at is None
    starts, ends = frames_of(data)
    assert len(starts) > 20, "the loop recording should span many blocks"
    return Recorded(directory, run.stdout, data, reader.header, starts, ends, blocks,
                    count_events(blocks))


Craft = Callable[..., Path]


@pytest.fixture
def craft(loop_recording: Recorded, tmp_path: Path) -> Craft:
    """``craft(name, header=..., blocks=...|raw=...)``: a copy of the loop recording whose
    trace is rebuilt from the given header and blocks (each a list, or raw payload bytes)."""

    def make(name: str, header: dict[str, Any] | None = None, blocks: Any = None,
             data: bytes | None = None) -> Path:
        directory = tmp_path / name
        shutil.rmtree(directory, ignore_errors=True)  # hypothesis may try an example twice
        shutil.copytree(loop_recording.directory, directory)
        if data is None:
            header = loop_recording.header if header is None else header
            blocks = loop_recording.blocks if blocks is None else blocks
            data = MAGIC + frame(cbor2.dumps(header)) + b"".join(
                frame(b if isinstance(b, bytes) else cbor2.dumps(list(b))) for b in blocks
            )
        (directory / "trace.bin").write_bytes(data)
        return directory

    return make
