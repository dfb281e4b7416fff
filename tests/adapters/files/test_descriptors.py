"""``os.open`` and the descriptor calls on a data file replay from the recording."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay

PROGRAM = textwrap.dedent(
    """
    import os, tempfile
    fd = os.open("data.bin", os.O_RDONLY)
    print("size", os.fstat(fd).st_size)
    print("read", os.read(fd, 5), os.read(fd, 100), os.read(fd, 10))
    print("seek", os.lseek(fd, 2, os.SEEK_SET), os.read(fd, 3))
    os.close(fd)
    out = os.open("out.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    print("wrote", os.write(out, b"hello there"))
    os.close(out)
    try:
        os.open("missing.bin", os.O_RDONLY)
    except FileNotFoundError as exc:
        print("missing", exc.errno)
    both = os.open("both.bin", os.O_RDWR)
    os.write(both, b"XY")
    os.lseek(both, 0, os.SEEK_SET)
    with os.fdopen(both, "rb") as handle:  # a file object over the descriptor reads it too
        print("both", handle.read())
    r, w = os.pipe()  # not a data file: passes through in every mode
    os.write(w, b"pipe")
    print("pipe", os.read(r, 10))
    with tempfile.NamedTemporaryFile("w+") as temporary:  # tempfile's own files are real
        temporary.write("temp")
        temporary.seek(0)
        print("temporary", temporary.read())
    """
)


def test_descriptor_reads_and_writes_replay_without_the_files(tmp_path: Path) -> None:
    program = tmp_path / "fds.py"
    program.write_text(PROGRAM)
    data = tmp_path / "data.bin"
    data.write_bytes(b"abcdefghij-data")
    both = tmp_path / "both.bin"
    both.write_bytes(b"--cdef")
    out = tmp_path / "out.bin"

    def break_the_world() -> None:
        assert out.read_bytes() == b"hello there"
        assert both.read_bytes() == b"XYcdef"
        data.unlink()
        out.unlink()
        both.write_bytes(b"changed")

    recorded, _ = record_and_replay(program, tmp_path / "rec", between=break_the_world, times=2)
    assert "read b'abcde' b'fghij-data' b''" in recorded.stdout
    assert "seek 2 b'cde'" in recorded.stdout and "size 15" in recorded.stdout
    assert "wrote 11" in recorded.stdout and "missing 2" in recorded.stdout
    assert "pipe b'pipe'" in recorded.stdout and "temporary temp" in recorded.stdout
    assert "both b'XYcdef'" in recorded.stdout
    assert not out.exists() and not data.exists(), "replay touched the disk"
    assert both.read_bytes() == b"changed", "replay wrote over a file"
