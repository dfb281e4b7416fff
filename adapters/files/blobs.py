"""File contents stored once, by digest: small ones in the trace, large ones in ``DIR/blobs/``.

A file read during recording is hashed (sha256). Up to :data:`INLINE_MAX`
bytes, the content travels in the trace itself, the first time that digest
is seen (creating a file per small content costs more than reading it);
larger contents are copied (streamed, never held whole in memory) into
``blobs/<first two hex digits>/<sha256>``, owner-only, and the trace holds
only the digest and the size. Either way a content read twice, or by two
names, is stored once. Within a session a file whose identity and change
times have not moved since its last copy is not read again.

A digest comes from a trace, which is never trusted: it must be 64 hex
digits before it becomes a path.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

from retrace.errors import BadRecording

BLOBS = "blobs"
CHUNK = 1 << 20
INLINE_MAX = 64 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")
_open = open


def _sha256(data: bytes = b"") -> Any:
    """A sha256 hash; :mod:`hashlib` (and OpenSSL) load when a program first reads a file."""
    import hashlib

    return hashlib.sha256(data)


class BlobStore:
    """The ``blobs/`` folder of one recording."""

    def __init__(self, recording: Path) -> None:
        self.root = recording / BLOBS
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, ...], tuple[str, int, bytes | None]] = {}
        self._stored: set[str] = set()

    def path(self, digest: str) -> Path:
        """Where ``digest`` lives; refuses anything that is not a digest."""
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise BadRecording(f"{self.root.parent}: the trace names a malformed blob {digest!r}")
        return self.root / digest[:2] / digest

    def existing(self, digest: str) -> Path:
        path = self.path(digest)
        if not path.is_file():
            raise BadRecording(f"{path}: a file content the recording needs is missing")
        return path

    def store_file(self, source: str) -> tuple[str, int, bytes | None]:
        """Take in the content of ``source``: ``(digest, size, content if small)``.

        Raises what reading raises.
        """
        with _open(source, "rb") as handle:
            st = os.fstat(handle.fileno())
            identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            known = self._seen.get(identity) if st.st_size else None
            if known is not None:
                return known
            if st.st_size <= INLINE_MAX:
                content = handle.read(INLINE_MAX + 1)
                if len(content) <= INLINE_MAX:
                    return self._remember(identity, _sha256(content).hexdigest(), content)
                handle.seek(0)
            hexdigest, size = self._copy(handle)
        return self._remember(identity, hexdigest, size)

    def _remember(self, identity: tuple[int, ...], hexdigest: str,
                  content: bytes | int) -> tuple[str, int, bytes | None]:
        result: tuple[str, int, bytes | None] = (
            (hexdigest, len(content), content) if isinstance(content, bytes)
            else (hexdigest, content, None))
        if identity[2]:  # /proc files say 0 and differ at every read: never cached
            self._seen[identity] = result
        return result

    def _copy(self, handle: Any) -> tuple[str, int]:
        self.root.mkdir(mode=0o700, exist_ok=True)
        temporary = self.root / f".incoming-{os.getpid()}-{threading.get_ident()}"
        digest = _sha256()
        size = 0
        with _open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        hexdigest = digest.hexdigest()
        self._publish(temporary, hexdigest)
        return hexdigest, size

    def _publish(self, temporary: Path, hexdigest: str) -> None:
        target = self.path(hexdigest)
        with self._lock:
            if hexdigest in self._stored or target.exists():
                temporary.unlink()
            else:
                target.parent.mkdir(mode=0o700, exist_ok=True)
                os.replace(temporary, target)
            self._stored.add(hexdigest)


def usage(recording: Path) -> tuple[int, int]:
    """``(blob count, total bytes)`` in a recording's ``blobs/``."""
    root = recording / BLOBS
    count = total = 0
    if not root.is_dir():
        return 0, 0
    for folder in root.iterdir():
        if folder.is_dir():
            for blob in folder.iterdir():
                count += 1
                total += blob.stat().st_size
    return count, total
