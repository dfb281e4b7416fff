"""``trace.bin``: a framed, append-only CBOR stream, and a reader that trusts nothing.

The file is a CBOR sequence. It opens with the self-describe tag, then every
item is a *frame*: the array ``[crc32, bytes]`` whose byte string is the
CBOR encoding of one block. The first block is the header (a map); every
later block is a flat array of records, five items each::

    thread, code, site, fingerprint, value

``code >= 0`` is an event: ``boundary_id * 2 + raised``. Negative codes are
definitions and markers (see ``DEF_*``, ``FOOTER``, ``STOPPED``): boundary
names and call sites are written once and referred to by number after that.
Records are flat because cbor2 6 encodes and decodes scalars ten times faster
than small arrays, and an event is the hot path.

Frames have a fixed 11-byte prefix, so the reader finds block boundaries
without decoding, bounds every length by what the file holds, and checks
each CRC before it decodes anything: a torn last frame is a truncated tail
(the process died while writing), any other damage is corruption reported
with its byte offset.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import cbor2

from .decoding import safe_loads
from .errors import BadRecording

FORMAT_VERSION = 5  # 2: DEF_THREAD records, ordered and output events; 3: new boundaries (chdir,
#                     kill, access, isatty, thread idents) and asyncio events made by the awaiting task;
#                     4: threads made inside a boundary call are not named, joins at exit are not events;
#                     5: a fingerprint with an interned summary is one int (see with_summary)
MAGIC = b"\xd9\xd9\xf7"
_PREFIX = struct.Struct(">BBIBI")
PREFIX_SIZE = _PREFIX.size
MAX_BLOCK = 1 << 30
RECORD_WIDTH = 5

DEF_BOUNDARY = -1
DEF_SITE = -2
FOOTER = -3
STOPPED = -4
DEF_SUMMARY = -5
DEF_THREAD = -6
TIMING = -7  # (thread, TIMING, nanoseconds, None, None): the real call of that thread's last event

#: Buffered records past which the recorder writes them itself (see :mod:`retrace.flusher`).
FLUSH_RECORDS = 8192
#: The same, in items of a :class:`RecordBuffer`.
FLUSH_ITEMS = FLUSH_RECORDS * RECORD_WIDTH


DIGEST_BITS = 32
DIGEST_MASK = (1 << DIGEST_BITS) - 1


def with_summary(digest: int, summary: Any) -> Any:
    """An event's fingerprint slot: its digest and its summary (an interned id, or text).

    With an interned summary it is one int, the digest in the low 32 bits
    and the summary's id + 1 above them: cbor2 encodes an int about four
    times faster than a two-item array, and every event of a boundary that
    has a summary carries one. A summary kept as text (past the interning
    limit) stays a ``[digest, text]`` pair.
    """
    if type(summary) is int:
        return digest | (summary + 1) << DIGEST_BITS
    return [digest, summary]


def digest_of(fp: Any) -> Any:
    """The argument digest in a recorded fingerprint slot (None: the boundary has none)."""
    kind = type(fp)
    if kind is int:
        return fp & DIGEST_MASK
    if kind is list and fp:
        return fp[0]
    return fp


def summary_of(fp: Any, summaries: dict[int, str]) -> str | None:
    """The summary text in a recorded fingerprint slot, given the trace's interned summaries."""
    kind = type(fp)
    if kind is int:
        interned = fp >> DIGEST_BITS
        return summaries.get(interned - 1) if interned > 0 else None
    if kind is list and len(fp) > 1 and type(fp[1]) is str:
        return fp[1]
    return None


def valid_marker(code: int, ident: Any, value: Any) -> bool:
    """Whether a definition or marker record (``code < 0``) has the shape the writer gives it."""
    if code in (DEF_BOUNDARY, DEF_SUMMARY, DEF_THREAD):
        return type(ident) is int and type(value) is str
    if code == DEF_SITE:
        return (type(ident) is int and type(value) is list and len(value) == 2
                and type(value[0]) is str and type(value[1]) is int)
    if code == FOOTER:
        return type(value) is dict
    if code == STOPPED:
        return type(value) is str
    if code == TIMING:
        return type(ident) is int
    return True


def records_of(items: list[Any]) -> Iterator[tuple[Any, ...]]:
    """A flat block's records, as 5-tuples made in C (``items`` holds whole records)."""
    return zip(*[iter(items)] * RECORD_WIDTH, strict=True)


def frame(payload: bytes) -> bytes:
    """One frame: ``[crc32, payload]`` as CBOR with fixed-width lengths."""
    return _PREFIX.pack(0x82, 0x1A, zlib.crc32(payload), 0x5A, len(payload)) + payload


#: The failure of a trace whose file was deleted while it was being written.
DELETED = "{path} was deleted while the program ran (nothing of this recording is kept)"


class Pending:
    """A buffered event whose fingerprint and value are made when it is written at the latest.

    It stands in both slots of its record (see :mod:`retrace.later`).
    """

    __slots__ = ()

    def made(self, wait: bool) -> tuple[Any, Any] | None:
        """The fingerprint and the value; None if they cannot be made now without ``wait``."""
        raise NotImplementedError

    def marker(self) -> tuple[Any, ...] | None:
        """The stop marker written in the record's place if it could not be made, or None."""
        return None


def _make_pending(batch: list[Any], wait: bool) -> int | None:
    """Put what each buffered :class:`Pending` event makes in its record; where the first
    one that cannot be made now (without ``wait``) starts, or None.

    One pass over the fingerprint slots in Python costs far less than
    cbor2's ``default`` hook, which calls into Python for each item.
    """
    for index, fp in enumerate(batch[3::RECORD_WIDTH]):
        if isinstance(fp, Pending):
            at = index * RECORD_WIDTH
            made = fp.made(wait)
            if made is None:
                return at
            marker = fp.marker()
            if marker is None:
                batch[at + 3], batch[at + 4] = made
            else:
                batch[at:at + RECORD_WIDTH] = marker
    return None


class RecordBuffer(list[Any]):
    """Records waiting to be written, flat: five items each, as a block holds them.

    ``append(record)`` and ``extend(records)`` take whole records (5-tuples).
    The recorder's hot path adds one with ``buffer += record``: ``list``'s
    own in-place concatenation, one C call, so it is atomic and threads need
    no lock. A buffer of record tuples kept every record a GC-tracked object
    until its flush (a garbage collection every 700 events) and needed a
    flattening copy per block; this one holds only the items, and a flush
    encodes a slice of it as it is.
    """

    __slots__ = ()

    def append(self, record: tuple[Any, ...]) -> None:
        self += record

    def extend(self, records: Iterable[tuple[Any, ...]]) -> None:
        for record in records:
            self += record


class TraceWriter:
    """Appends records to a trace file; flushes by size and on demand.

    Records go into a :class:`RecordBuffer` (one atomic addition per record,
    so threads need no lock to record); a flush drains what is there into one
    frame, from a recording thread or the flusher's (:mod:`retrace.flusher`),
    one at a time. Writing goes straight to the file descriptor, so what a
    flush wrote survives SIGKILL. A failed write (disk full, the file gone) is kept in
    :attr:`failure` instead of raised: the recorder decides what the program
    sees, and it must never be an error from us.
    """

    def __init__(self, path: str, header: dict[str, Any]) -> None:
        self.path = path
        self.records = RecordBuffer()
        #: Whether records may hold :class:`Pending` items (set by whoever adds the first).
        self.pending = False
        self.failure: str | None = None
        #: Bytes written so far, and the size past which the recorder stops (None: no limit).
        self.written = 0
        self.limit: int | None = None
        self._flushing = threading.RLock()
        self._in_flush = False
        self._final = False
        self._end = 0  # bytes of whole frames in the file
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._write(MAGIC + frame(cbor2.dumps(header)))

    @property
    def writing(self) -> bool:
        """Whether records buffered now will still be written (not closed, not failed)."""
        return self._fd >= 0 and self.failure is None

    def due(self) -> bool:
        """Whether buffered records should be written now."""
        return len(self.records) >= FLUSH_ITEMS

    def flush(self) -> None:
        """Write every buffered record as one frame (one flusher at a time).

        A signal handler can run in the middle of a flush, on the flushing
        thread, and record events of its own: they wait for the next flush
        (waiting for the lock here would wait for ourselves, forever).
        """
        with self._flushing:  # reentrant: the handler runs on the thread holding it
            if self._in_flush:
                return
            self._in_flush = True
            try:
                self._flush()
            finally:
                self._in_flush = False

    def _flush(self) -> None:
        records = self.records
        count = len(records)
        if not count:
            return
        batch = records[:count]  # threads add on meanwhile, after these: each step is one C call
        del records[:count]
        if self.failure is not None:  # broken off: only the marker saying so still goes in
            batch = list(chain.from_iterable(
                record for record in records_of(batch) if record[1] == STOPPED))
            if not batch:
                return
        try:
            if self.pending:
                rest = _make_pending(batch, self._final)
                if rest is not None:  # another thread is making an event: it waits its turn
                    records[0:0] = batch[rest:]  # one C call: ahead of what came meanwhile
                    del batch[rest:]
                    if not batch:
                        return
            payload = cbor2.dumps(batch)
        except Exception as exc:  # an adapter gave us a value cbor2 refuses
            self.failure = f"a value could not be encoded ({exc})"
            return
        except BaseException:  # a signal handler's exception while events were made: keep them
            records[0:0] = batch
            raise
        self._write(frame(payload))
        self._check_still_there()

    def _check_still_there(self) -> None:
        """A trace whose file was deleted (its directory removed) is written into the void.

        Writes to an unlinked file succeed, so without this a recording
        removed mid-run would fail silently; it is a failure like a full disk.
        """
        try:
            deleted = self.failure is None and os.fstat(self._fd).st_nlink == 0
        except OSError:
            return
        if deleted:
            self.failure = DELETED.format(path=self.path)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                done = os.write(self._fd, view)
                self.written += done
                view = view[done:]
        except OSError as exc:
            if self.failure is None:
                self.failure = f"{self.path}: {exc.strerror or exc}"
            if len(view) < len(data):  # take back the torn frame (disk full), so a marker fits
                try:
                    os.ftruncate(self._fd, self._end)
                except OSError:
                    pass
            return
        self._end += len(data)

    def detach(self) -> None:
        """Forget the file without writing to it (in a forked child)."""
        self.records = RecordBuffer()
        self.failure = "detached"
        self._fd = -1

    def close(self) -> None:
        self._final = True  # every event is made now, waiting for a thread making one if need be
        self.flush()
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1


class TraceReader:
    """Reads a trace block by block, never holding more than one block.

    ``truncated_at`` is set when the file ends inside a frame: everything
    before that offset is good, the rest was never completely written.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.truncated_at: int | None = None
        try:
            self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise BadRecording(f"{path}: no trace here; is this a recording directory?") from None
        except OSError as exc:
            raise BadRecording(f"{path}: cannot read the trace ({exc.strerror})") from None
        self.size = os.fstat(self._file.fileno()).st_size
        if self._file.read(len(MAGIC)) != MAGIC:
            raise BadRecording(f"{path}: not a retrace trace (bad magic at byte 0)")
        header_block = self._next_payload()
        if header_block is None:
            raise BadRecording(f"{path}: the trace is truncated inside its header (byte 3)")
        header = self._decode(header_block, len(MAGIC))
        if not isinstance(header, dict) or "format" not in header:
            raise BadRecording(f"{path}: the header at byte 3 is not a retrace header")
        self.header: dict[str, Any] = header

    def _next_payload(self) -> bytes | None:
        offset = self._file.tell()
        prefix = self._file.read(PREFIX_SIZE)
        if not prefix:
            return None
        if len(prefix) < PREFIX_SIZE:
            self.truncated_at = offset
            return None
        array, crc_head, crc, bytes_head, length = _PREFIX.unpack(prefix)
        if (array, crc_head, bytes_head) != (0x82, 0x1A, 0x5A) or length > MAX_BLOCK:
            raise BadRecording(f"{self.path}: corrupt frame at byte {offset}")
        if length > self.size - offset - PREFIX_SIZE:
            self.truncated_at = offset
            return None
        payload = self._file.read(length)
        if len(payload) != length:
            self.truncated_at = offset
            return None
        if zlib.crc32(payload) != crc:
            raise BadRecording(f"{self.path}: corrupt block at byte {offset} (checksum mismatch)")
        self._offset = offset
        return payload

    def _decode(self, payload: bytes, offset: int) -> Any:
        try:
            return safe_loads(payload)
        except Exception as exc:
            raise BadRecording(f"{self.path}: undecodable block at byte {offset} ({exc})") from None

    def blocks(self) -> Iterator[tuple[int, list[Any]]]:
        """Yield ``(byte offset, flat record list)`` for every complete block."""
        while True:
            payload = self._next_payload()
            if payload is None:
                return
            items = self._decode(payload, self._offset)
            if not isinstance(items, list) or len(items) % RECORD_WIDTH:
                raise BadRecording(f"{self.path}: malformed block at byte {self._offset}")
            yield self._offset, items

    def tell(self) -> int:
        """Where the next block starts."""
        return self._file.tell()

    def reopen(self, offset: int) -> None:
        """Read on from ``offset`` through a file of this process's own.

        A forked process shares its parent's file offset: the time-travel
        debugger's runners read the trace as of their checkpoint this way.
        """
        old, self._file = self._file, open(self.path, "rb")  # noqa: SIM115 - closed by close()
        old.close()
        self._file.seek(offset)

    def close(self) -> None:
        self._file.close()
