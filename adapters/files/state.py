"""The files adapter's state for the running session (one session per process at a time)."""

from __future__ import annotations

from typing import Any

from .blobs import BlobStore
from .policy import FilePolicy


class FilesState:
    """What every file wrapper consults: the path policy and the blob store."""

    __slots__ = ("blobs", "contents", "fds", "policy", "sent", "session")

    def __init__(self, policy: FilePolicy, blobs: BlobStore, session: Any) -> None:
        self.policy = policy
        self.blobs = blobs
        self.session = session
        #: Small contents already in the trace, per (thread, digest): a thread's events keep
        #: their order, so the first event of each thread with a digest carries the content.
        self.sent: set[tuple[int, str]] = set()
        #: Small contents met in the trace so far (replay), by digest.
        self.contents: dict[str, bytes] = {}
        #: Descriptors of data files the program got from ``os.open`` (the stand-ins, on replay).
        self.fds: dict[int, str] = {}

    def give_up(self, reason: str) -> None:
        """Stop recording (the program goes on) when file contents cannot be stored."""
        recorder = getattr(self.session, "recorder", None)
        if recorder is not None:
            recorder.stop(reason)


#: Set by the adapter's ``start`` and cleared by ``stop``; None means every call passes through.
current: FilesState | None = None
