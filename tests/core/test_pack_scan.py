"""``retrace scan`` finds secret-shaped strings; ``retrace pack`` shares a recording as one file."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import tempfile
import textwrap
from pathlib import Path

from retrace.errors import EXIT_BAD_RECORDING
from retrace.testing import record, run_retrace

TOKEN = "ghp_" + "a1B2c3D4e5" * 4
AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
PROGRAM = textwrap.dedent(
    """
    import os, time
    import config

    note = os.environ.get("DEPLOY_NOTE")
    hidden = os.environ.get("API_TOKEN")
    print(time.time(), len(note), hidden)
    """
).lstrip()


def _recorded(tmp_path: Path, secret_in_source: bool = True) -> tuple[Path, str]:
    (tmp_path / "config.py").write_text(f"KEY = {AWS!r}\n" if secret_in_source else "KEY = None\n")
    (tmp_path / "app.py").write_text(PROGRAM)
    run = record(tmp_path / "app.py", tmp_path / "rec", cwd=tmp_path,
                 env={"DEPLOY_NOTE": f"deployed with {TOKEN}", "API_TOKEN": "s3cr3t-value-123"})
    assert run.status == 0, run.stderr
    return tmp_path / "rec", run.stdout


def test_scan_finds_secret_shapes_in_events_and_sources_masked(tmp_path: Path) -> None:
    rec, _ = _recorded(tmp_path)
    run = run_retrace(["scan", str(rec)])
    assert run.status == 1
    assert "GitHub token ghp_a1" in run.stdout
    assert "(os.environ[] at app.py:4)" in run.stdout
    assert "run/config.py:1: AWS access key AKIAAB" in run.stdout
    assert TOKEN not in run.stdout and AWS not in run.stdout
    assert "s3cr3t" not in run.stdout  # redacted by name when recorded: nothing to find


def test_a_clean_recording_scans_clean(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text("import time\nprint(time.time())\n")
    record(program, tmp_path / "rec", cwd=tmp_path)
    run = run_retrace(["scan", str(tmp_path / "rec")])
    assert (run.status, run.stdout) == (0, "no secrets found\n")


def test_pack_refuses_secrets_unless_forced(tmp_path: Path) -> None:
    rec, _ = _recorded(tmp_path)
    refused = run_retrace(["pack", str(rec), "-o", str(tmp_path / "rec.tgz")])
    assert refused.status == 1 and "not packed" in refused.stdout
    assert not (tmp_path / "rec.tgz").exists()
    forced = run_retrace(["pack", str(rec), "-o", str(tmp_path / "rec.tgz"), "--force"])
    assert forced.status == 0
    assert stat.S_IMODE((tmp_path / "rec.tgz").stat().st_mode) == 0o600


def test_replay_a_pack_file_directly(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    rec, stdout = _recorded(project, secret_in_source=False)
    archive = tmp_path / "shared.tgz"
    assert run_retrace(["pack", str(rec), "-o", str(archive), "--force"]).status == 0
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    unpacked = Path(tempfile.gettempdir()) / f"retrace-{os.getuid()}" / digest
    replayed = run_retrace(["replay", str(archive)], cwd=tmp_path)
    redacted = stdout.replace("s3cr3t-value-123", "<retrace:redacted>")  # as in any replay
    assert (replayed.status, replayed.stdout) == (0, redacted), replayed.stderr
    # Only this archive's own folder: other test runs may unpack theirs meanwhile.
    assert not unpacked.exists()  # cleaned up


def test_an_archive_reaching_outside_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"owned"
        member = tarfile.TarInfo("recording/../../evil.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    run = run_retrace(["replay", str(archive)], cwd=tmp_path)
    assert run.status == EXIT_BAD_RECORDING
    assert "refusing archive member 'recording/../../evil.txt'" in run.stderr
    assert not list(Path(tempfile.gettempdir()).glob("evil.txt"))
