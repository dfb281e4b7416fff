"""``retrace pack RECORDING -o FILE``: one shareable file, and replaying it directly.

A pack is a gzipped tar of the recording (trace, ``run/``, the VS Code
files) under one top folder, written owner-only, and only after
:mod:`retrace.scan` found no secrets (``--force`` to pack anyway).
``retrace replay FILE`` unpacks it into a private folder named after the
archive's digest (so the replay's hash-seed restart finds it unpacked
already) and replays from there; nothing is ever written outside that
folder, and members that are not plain files and folders inside it are
refused.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from . import layout
from .errors import BadRecording, UsageError
from .scan import report, scan_recording

NAME = "pack"
TOP = "recording"


def pack(directory: Path, archive: Path) -> None:
    """Write the recording at ``directory`` into ``archive`` (owner-only)."""
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file() or path.is_dir():
                tar.add(path, arcname=str(PurePosixPath(TOP, *path.relative_to(directory).parts)),
                        recursive=False)
    os.chmod(archive, 0o600)


def is_archive(path: str | os.PathLike[str]) -> bool:
    return os.path.isfile(path) and tarfile.is_tarfile(path)


def _check(member: tarfile.TarInfo) -> None:
    parts = PurePosixPath(member.name).parts
    if (not (member.isfile() or member.isdir()) or not parts or parts[0] != TOP
            or ".." in parts or PurePosixPath(member.name).is_absolute()):
        raise BadRecording(f"refusing archive member {member.name!r}: not a file of a recording")


def unpack(archive: Path) -> Path:
    """The recording inside ``archive``, unpacked once into a private folder."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    uid = os.getuid()
    base = Path(tempfile.gettempdir()) / f"retrace-{uid}"
    base.mkdir(mode=0o700, exist_ok=True)
    info = base.stat()
    if info.st_uid != uid or info.st_mode & 0o077:
        raise UsageError(f"{base} is not a private folder of this user; remove it and retry")
    target = base / digest
    if not layout.holds_recording(target / TOP):
        staging = Path(tempfile.mkdtemp(dir=base))
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    _check(member)
                for member in members:
                    destination = staging.joinpath(*PurePosixPath(member.name).parts)
                    if member.isdir():
                        destination.mkdir(mode=0o700, parents=True, exist_ok=True)
                        continue
                    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None
                    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(source, out)
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BadRecording(f"{archive}: cannot unpack ({exc})") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    atexit.register(shutil.rmtree, target, True)
    return target / TOP


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(NAME, help="one shareable file of a recording, after a secret scan")
    cmd.add_argument("recording", metavar="RECORDING")
    cmd.add_argument("-o", "--output", required=True, metavar="FILE")
    cmd.add_argument("--force", action="store_true", help="pack even if the scan finds secrets")


def run(options: argparse.Namespace) -> int:
    directory = layout.locate(options.recording)
    findings = scan_recording(directory)
    if findings and not options.force:
        print(report(findings))
        print("not packed; pass --force to pack anyway")
        return 1
    archive = Path(options.output).expanduser().resolve()
    pack(directory, archive)
    print(f"packed {directory} into {archive} ({archive.stat().st_size} bytes); "
          f"replay it with `retrace replay {options.output}`")
    return 0
