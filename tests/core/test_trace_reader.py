"""Corrupted and truncated traces: every damaged ``trace.bin`` is either a clean partial read
(``truncated_at`` set) or one ``BadRecording`` naming the file and the byte offset of the damaged
frame; never a crash, a silent wrong read or a big allocation. In-process through ``TraceReader``
(hypothesis-generated damage) and, for a subset, through ``retrace replay``."""

from __future__ import annotations

import re
import resource
import struct
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import attrs
import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrace.errors import BadRecording
from retrace.testing import _env, replay, run_retrace
from retrace.trace import FORMAT_VERSION, MAGIC, MAX_BLOCK, PREFIX_SIZE, TraceReader, frame

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=6, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@attrs.frozen
class Read:
    """What reading a trace gave: the blocks before any failure, and how it ended."""

    blocks: tuple[tuple[Any, ...], ...]
    error: str | None
    truncated_at: int | None


def read(path: Path) -> Read:
    blocks = []
    try:
        reader = TraceReader(str(path))
    except BadRecording as exc:
        return Read((), str(exc), None)
    try:
        for _offset, items in reader.blocks():
            blocks.append(tuple(items))
    except BadRecording as exc:
        return Read(tuple(blocks), str(exc), reader.truncated_at)
    finally:
        reader.close()
    return Read(tuple(blocks), None, reader.truncated_at)


def read_bytes(scratch: Path, data: bytes) -> Read:
    path = scratch / "trace.bin"
    path.write_bytes(data)
    return read(path)


def blocks_before(rec: Any, offset: int) -> tuple[tuple[Any, ...], ...]:
    """The original record blocks whose frames end at or before ``offset``."""
    return tuple(b for b, end in zip(rec.blocks, rec.ends[1:], strict=True) if end <= offset)


def assert_damage_at(rec: Any, got: Read, offset: int, path: Path) -> None:
    """A failure reported at ``offset`` (or a truncated tail there), everything before it intact."""
    if got.error is not None:
        assert got.error.startswith(f"{path}: "), got.error
        assert re.search(rf"\bbyte {offset}\b", got.error), (offset, got.error)
        assert got.truncated_at is None
    else:
        assert got.truncated_at == offset, (offset, got)
    if offset > rec.starts[0]:
        assert got.blocks == blocks_before(rec, offset)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch")


def test_the_untouched_trace_reads_whole(loop_recording, scratch):
    got = read_bytes(scratch, loop_recording.data)
    assert got == Read(loop_recording.blocks, None, None)
    assert loop_recording.blocks[-1][-4] == -3  # the footer closes it


@FAST
@given(data=st.data())
def test_truncated_anywhere(loop_recording, scratch, data):
    rec = loop_recording
    cut = data.draw(st.integers(0, len(rec.data) - 1))
    got = read_bytes(scratch, rec.data[:cut])
    path = scratch / "trace.bin"
    if cut < len(MAGIC):
        assert got.error == f"{path}: not a retrace trace (bad magic at byte 0)"
    elif cut < rec.ends[0]:
        assert got.error == f"{path}: the trace is truncated inside its header (byte 3)"
    else:
        assert got.error is None
        assert got.blocks == blocks_before(rec, cut)
        assert got.truncated_at == (None if cut in rec.starts else rec.frame_of(cut))


@FAST
@given(data=st.data())
def test_flipped_bit_anywhere(loop_recording, scratch, data):
    rec = loop_recording
    at = data.draw(st.integers(0, len(rec.data) - 1))
    bit = data.draw(st.integers(0, 7))
    damaged = bytearray(rec.data)
    damaged[at] ^= 1 << bit
    got = read_bytes(scratch, bytes(damaged))
    start = rec.frame_of(at)
    assert_damage_at(rec, got, start, scratch / "trace.bin")
    if got.error is None:  # only a length grown past the end of the file reads as a torn tail
        assert start + 7 <= at < start + PREFIX_SIZE


@FAST
@given(data=st.data())
def test_inserted_or_deleted_byte(loop_recording, scratch, data):
    rec = loop_recording
    insert = data.draw(st.booleans())
    at = data.draw(st.integers(0, len(rec.data) - (0 if insert else 1)))
    if insert:
        damaged = rec.data[:at] + bytes([data.draw(st.integers(0, 255))]) + rec.data[at:]
    else:
        damaged = rec.data[:at] + rec.data[at + 1 :]
    got = read_bytes(scratch, damaged)
    assert_damage_at(rec, got, rec.frame_of(at), scratch / "trace.bin")


HUGE = (2**30, 2**30 + 1, 2**31 - 1, 2**32 - 1)


@FAST
@given(data=st.data())
def test_length_field_overwritten(loop_recording, scratch, data):
    rec = loop_recording
    index = data.draw(st.integers(0, len(rec.starts) - 1))
    start = rec.starts[index]
    room = len(rec.data) - start - PREFIX_SIZE
    length = data.draw(st.sampled_from(HUGE) | st.integers(0, room + 64) | st.just(room + 1))
    damaged = bytearray(rec.data)
    damaged[start + 7 : start + PREFIX_SIZE] = struct.pack(">I", length)
    got = read_bytes(scratch, bytes(damaged))
    path = scratch / "trace.bin"
    original = rec.ends[index] - start - PREFIX_SIZE
    if length == original:
        assert got == Read(rec.blocks, None, None)
        return
    if length > MAX_BLOCK:
        assert got.error == f"{path}: corrupt frame at byte {start}"
    elif length > room:
        if index == 0:
            assert got.error == f"{path}: the trace is truncated inside its header (byte 3)"
        else:
            assert (got.error, got.truncated_at) == (None, start)
    else:
        assert got.error == f"{path}: corrupt block at byte {start} (checksum mismatch)"
    assert_damage_at(rec, got, start, path)


def test_huge_lengths_allocate_nothing_big(loop_recording, scratch):
    """A length field claiming more than the file holds is never allocated (Python heap)."""
    rec = loop_recording
    start = rec.starts[5]
    cases = []
    for length in HUGE:
        damaged = bytearray(rec.data)
        damaged[start + 7 : start + PREFIX_SIZE] = struct.pack(">I", length)
        cases.append(bytes(damaged))
    # an 8-byte length head claiming 2**60 bytes
    cases.append(rec.data[:start] + struct.pack(">BBIBQ", 0x82, 0x1A, 0, 0x5B, 2**60))
    # well-framed blocks whose CBOR claims 2**60 bytes, items or pairs
    for claim in (b"\x5b", b"\x7b", b"\x9b", b"\xbb"):
        cases.append(rec.data[:start] + frame(claim + struct.pack(">Q", 2**60)))
    tracemalloc.start()
    try:
        outcomes = [read_bytes(scratch, case) for case in cases]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(rec.data) + (1 << 20), peak
    for got in outcomes:
        assert got.error is not None or got.truncated_at == start, got
        assert got.error is None or f"byte {start}" in got.error
        assert got.blocks == blocks_before(rec, start)


def test_huge_claims_stay_small_under_an_address_space_limit(loop_recording, tmp_path):
    """The same files read in a process that cannot map 1 GiB: no MemoryError, small RSS."""
    rec = loop_recording
    start = rec.starts[5]
    files = []
    for n, body in enumerate([
        struct.pack(">BBIBI", 0x82, 0x1A, 0, 0x5A, 2**31 - 1),
        struct.pack(">BBIBI", 0x82, 0x1A, 0, 0x5A, MAX_BLOCK),
        struct.pack(">BBIBQ", 0x82, 0x1A, 0, 0x5B, 2**60),
        frame(b"\x5b" + struct.pack(">Q", 2**60)),
        frame(b"\x9b" + struct.pack(">Q", 2**60)),
    ]):
        path = tmp_path / f"t{n}.bin"
        path.write_bytes(rec.data[:start] + body + b"\0" * 64)
        files.append(str(path))
    code = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from retrace.errors import BadRecording
        from retrace.trace import TraceReader
        for path in sys.argv[1:]:
            try:
                reader = TraceReader(path)
                n = sum(1 for _ in reader.blocks())
                print("partial", n, reader.truncated_at)
            except BadRecording as exc:
                print("bad", exc)
        print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    done = subprocess.run([sys.executable, "-c", code, *files], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"bad {files[0]}: corrupt frame at byte {start}"
    assert lines[1] == "partial 4 " + str(start)  # 4 blocks after the header, then a torn frame
    assert lines[2] == f"bad {files[2]}: corrupt frame at byte {start}"
    assert lines[3].startswith(f"bad {files[3]}: undecodable block at byte {start} (")
    assert lines[4].startswith(f"bad {files[4]}: undecodable block at byte {start} (")
    assert int(lines[5].split()[1]) < 200 * 1024  # KiB


# -- through the real CLI ---------------------------------------------------------------------


def assert_prefix_of(replayed: str, recorded: str) -> None:
    """A replay that stops early printed the start of what the recording printed.

    Output is replayed write by write, so it can stop inside a line.
    """
    assert recorded.startswith(replayed), (replayed, recorded)


def check_cli(rec: Any, directory: Path, expect: Read) -> None:
    """``retrace replay`` of a damaged copy agrees with what the reader said about it."""
    run = replay(directory)
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert run.status in (0, 86, 87, 88), run
    assert_prefix_of(run.stdout, rec.stdout)
    trace = directory.resolve() / "trace.bin"
    if expect.error is not None:
        message = expect.error.split(": ", 1)[1]
        assert run.status == 88, run
        assert run.stderr.strip().splitlines()[-1] == f"retrace: {trace}: {message}", run.stderr
    elif len(expect.blocks) == len(rec.blocks) or (
        expect.blocks == rec.blocks[:-1] and rec.blocks[-1][1::5] == (-3,)
    ):
        assert run.status == 0  # nothing but the footer was lost
    else:
        assert run.status == 87, run
        assert "the recording ends here, after event #" in run.stderr, run.stderr
        consumed = int(re.search(r"after event #(\d+)", run.stderr)[1])
        kept = sum(1 for block in expect.blocks for code in block[1::5] if code >= 0)
        assert consumed == kept
        if expect.truncated_at is not None:
            assert f"ends in an incomplete block at byte {expect.truncated_at}" in run.stderr


@SLOW
@given(data=st.data())
def test_cli_replays_damaged_traces_cleanly(loop_recording, craft, scratch, data):
    rec = loop_recording
    # damage a block after the header, so the replay runs a while before it meets it
    index = data.draw(st.integers(1, len(rec.starts) - 1), label="frame")
    at = data.draw(st.integers(rec.starts[index], rec.ends[index] - 1), label="byte")
    damaged = bytearray(rec.data)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[:at]
    else:
        damaged[at] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    expect = read_bytes(scratch, bytes(damaged))
    directory = craft(f"cli-{abs(hash(bytes(damaged)))}", data=bytes(damaged))
    check_cli(rec, directory, expect)


@pytest.mark.parametrize("where", ["header", "middle", "last"])
def test_cli_corruption_is_88_naming_the_byte(loop_recording, craft, where):
    rec = loop_recording
    index = {"header": 0, "middle": len(rec.starts) // 2, "last": len(rec.starts) - 1}[where]
    start = rec.starts[index]
    damaged = bytearray(rec.data)
    damaged[start + PREFIX_SIZE + 1] ^= 0x10
    directory = craft(f"corrupt-{where}", data=bytes(damaged))
    run = replay(directory)
    trace = directory.resolve() / "trace.bin"
    assert run.status == 88, run
    assert run.stderr == f"retrace: {trace}: corrupt block at byte {start} (checksum mismatch)\n"
    assert_prefix_of(run.stdout, rec.stdout)
    lines = run.stdout.splitlines()
    if where == "middle":
        assert 5 < len(lines) < 40  # it replayed up to the damage, then stopped


def test_cli_truncated_in_the_middle_is_87(loop_recording, craft):
    rec = loop_recording
    index = len(rec.starts) // 2
    cut = rec.starts[index] + 20
    directory = craft("torn", data=rec.data[:cut])
    run = replay(directory)
    trace = directory.resolve() / "trace.bin"
    kept = sum(1 for block in rec.blocks[: index - 1] for code in block[1::5] if code >= 0)
    assert run.status == 87, run
    assert run.stderr.startswith(
        f"retrace: the recording ends here, after event #{kept}: the recorded process died; "
        f"{trace} ends in an incomplete block at byte {rec.starts[index]}.\n"
    ), run.stderr
    lines = run.stdout.splitlines()
    assert lines == rec.stdout.splitlines()[: len(lines)] and len(lines) > 5


def test_cli_inspect_reports_corruption(loop_recording, craft):
    rec = loop_recording
    start = rec.starts[7]
    damaged = bytearray(rec.data)
    damaged[start + 3] ^= 1
    directory = craft("inspect-corrupt", data=bytes(damaged))
    run = run_retrace(["inspect", str(directory)])
    trace = directory.resolve() / "trace.bin"
    assert (run.status, run.stdout) == (88, "")
    assert run.stderr == f"retrace: {trace}: corrupt block at byte {start} (checksum mismatch)\n"


# -- other versions, missing pieces ------------------------------------------------------------


def test_another_format_version_is_one_clear_message(loop_recording, craft):
    trace_format = loop_recording.header["format"]
    assert trace_format == FORMAT_VERSION
    directory = craft("format1", header=dict(loop_recording.header, format=1))
    run = replay(directory)
    trace = directory.resolve() / "trace.bin"
    assert (run.status, run.stdout) == (88, "")
    assert run.stderr == (
        f"retrace: {trace}: trace format 1 is not supported by retrace "
        f"{loop_recording.header['retrace']} (format {trace_format}); replay it with the retrace version "
        f"that recorded it ({loop_recording.header['retrace']})\n"
    )


def test_another_python_version_is_one_clear_message(loop_recording, craft):
    directory = craft("py399", header=dict(loop_recording.header, python=[3, 99, 0]))
    run = replay(directory)
    trace = directory.resolve() / "trace.bin"
    assert (run.status, run.stdout) == (88, "")
    assert run.stderr == (
        f"retrace: {trace}: recorded with Python 3.99, this is Python "
        f"{sys.version_info[0]}.{sys.version_info[1]}; replay with the same minor version\n"
    )


def test_malformed_file_globs_in_the_header_are_one_clear_message(loop_recording, craft):
    assert isinstance(loop_recording.header.get("files"), dict)  # the files adapter wrote them
    directory = craft("globs", header=dict(loop_recording.header, files={"include": "*.txt"}))
    run = replay(directory)
    assert (run.status, run.stdout) == (88, "")
    assert run.stderr == (f"retrace: {directory.resolve()}: the header's 'files' globs are "
                          "malformed; record the program again\n")


def test_a_recording_of_older_adapter_events_is_one_clear_message(loop_recording, craft):
    adapters = [dict(a, events=0) if a["name"] == "clock" else a
                for a in loop_recording.header["adapters"]]
    assert any(a["name"] == "clock" and a["events"] == 1 for a in loop_recording.header["adapters"])
    directory = craft("old-events", header=dict(loop_recording.header, adapters=adapters))
    run = replay(directory)
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.startswith(f"retrace: {directory.resolve() / 'trace.bin'} was recorded by a "
                                 "clock adapter whose events are version 0; the one installed "
                                 "here (retrace ")
    assert run.stderr.endswith(") writes version 1. Replay it with the retrace that recorded it "
                               f"({loop_recording.header['retrace']}), or record it again\n")


def test_an_adapter_replays_the_older_events_it_still_reads(loop_recording, craft):
    """The environment adapter writes version 2 (a walk may be "the same as the last") and
    still reads version 1, which never says so; a version it does not list is refused."""
    environ = next(a for a in loop_recording.header["adapters"] if a["name"] == "environ")
    assert environ["events"] == 2

    def with_environ_events(name, events):
        adapters = [dict(a, events=events) if a["name"] == "environ" else a
                    for a in loop_recording.header["adapters"]]
        return craft(name, header=dict(loop_recording.header, adapters=adapters))

    older = replay(with_environ_events("environ-1", 1))
    assert (older.status, older.stdout, older.stderr) == (0, loop_recording.stdout, "")
    newer = replay(with_environ_events("environ-3", 3))
    assert newer.status == 2 and "environ adapter whose events are version 3" in newer.stderr


def test_a_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    run = replay(missing)
    assert run == run.__class__(88, "", f"retrace: {missing}: no such recording directory\n")


def test_a_directory_without_a_trace(tmp_path):
    (tmp_path / "empty").mkdir()
    run = replay(tmp_path / "empty")
    assert run.status == 88
    assert run.stderr == (f"retrace: {tmp_path / 'empty'}: not a recording (no trace.bin); "
                          "record one with `retrace record`\n")


def test_not_a_trace_at_all(craft):
    directory = craft("text", data=b"hello, I am not a trace\n")
    run = replay(directory)
    assert (run.status, run.stdout) == (88, "")
    trace = directory.resolve() / "trace.bin"
    assert run.stderr == f"retrace: {trace}: not a retrace trace (bad magic at byte 0)\n"


def test_an_empty_trace(craft):
    directory = craft("empty-trace", data=b"")
    run = replay(directory)
    assert (run.status, run.stdout) == (88, "")
    assert "trace.bin: not a retrace trace (bad magic at byte 0)" in run.stderr


def test_a_header_that_is_not_a_map(craft):
    directory = craft("listheader", data=MAGIC + frame(cbor2.dumps([1, 2, 3])))
    run = replay(directory)
    assert (run.status, run.stdout) == (88, "")
    assert run.stderr == (f"retrace: {directory.resolve()}/trace.bin: the header at byte 3 is "
                          "not a retrace header\n")


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("claim", ["frame length 2**30", "CBOR byte string of 2**60"])
def test_cli_replay_of_huge_claims_fits_in_one_gib(loop_recording, craft, claim):
    rec = loop_recording
    start = rec.starts[5]
    if claim == "frame length 2**30":
        body = struct.pack(">BBIBI", 0x82, 0x1A, 0, 0x5A, MAX_BLOCK) + b"\0" * 64
    else:
        body = frame(b"\x5b" + struct.pack(">Q", 2**60))
    directory = craft(f"huge-{claim[:5]}", data=rec.data[:start] + body)
    done = subprocess.run([sys.executable, "-m", "retrace", "replay", str(directory)],
                          capture_output=True, text=True, env=_env(None), timeout=120,
                          preexec_fn=_limit_address_space)
    trace = directory.resolve() / "trace.bin"
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert lines == rec.stdout.splitlines()[: len(lines)] and len(lines) >= 1
    if claim == "frame length 2**30":
        assert done.returncode == 87, done
        assert f"{trace} ends in an incomplete block at byte {start}" in done.stderr
    else:
        assert done.returncode == 88, done
        assert done.stderr.startswith(f"retrace: {trace}: undecodable block at byte {start} (")
