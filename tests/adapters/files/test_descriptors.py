"""``os.open`` and the descriptor calls on a data file replay from the recording."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay

PROGRAM = textwrap.dedent(
    """
    import os, select
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
    r, w = os.pipe()  # not a data file: passes through in every mode
    os.write(w, b"pipe")
    print("pipe", os.read(r, 10))
    """
)


def test_descriptor_reads_and_writes_replay_without_the_files(tmp_path: Path) -> None:
    program = tmp_path / "fds.py"
    program.write_text(PROGRAM)
    data = tmp_path / "data.bin"
    data.write_bytes(b"abcdefghij-data")
    out = tmp_path / "out.bin"

    def break_the_world() -> None:
        assert out.read_bytes() == b"hello there"
        data.unlink()
        out.unlink()

    recorded, _ = record_and_replay(program, tmp_path / "rec", between=break_the_world, times=2)
    assert "read b'abcde' b'fghij-data' b''" in recorded.stdout
    assert "seek 2 b'cde'" in recorded.stdout and "size 15" in recorded.stdout
    assert "wrote 11" in recorded.stdout and "missing 2" in recorded.stdout
    assert "pipe b'pipe'" in recorded.stdout
    assert not out.exists() and not data.exists(), "replay touched the disk"
