"""An atheris fuzz target for the trace reader, for runs longer than the test suite's.

The suite's hypothesis tests (``tests/core/test_trace_reader.py``) damage
real traces for a bounded time on every run; this target lets libFuzzer's
coverage guidance search for hours. It is not collected by pytest (its name
does not start with ``test_``) and atheris is no dependency of retrace:
``tox -e fuzz`` installs it, or see docs/fuzzing.md.

Each input is read three ways: as a whole ``trace.bin``; as frames made with
correct checksums around fuzzed payloads (so the fuzzer gets past the CRC to
the CBOR decoder); and as fuzzed blocks behind a valid header. Every read
goes through what replay and ``retrace inspect`` use (``TraceReader``,
the header checks, the record checks of ``summarize_recording``, the codec
registry of every installed adapter), and must either succeed or raise
``BadRecording`` whose message names a byte offset. Any other exception,
a decoded object of a type no codec registered, more than the memory limit
(``-rss_limit_mb``) or more than the time limit (``-timeout``) is a finding.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import cbor2

    from retrace import layout, trace
    from retrace.codecs import SCALARS, CodecRegistry, Pending
    from retrace.errors import BadRecording
    from retrace.registry import discover_adapters
    from retrace.session import check_compatible
    from retrace.summary import summarize_recording

HEADER = cbor2.dumps({
    "format": trace.FORMAT_VERSION, "retrace": "0.1.0", "python": list(sys.version_info[:3]),
    "implementation": "cpython", "platform": "fuzz", "argv": ["app.py"], "cwd": "/",
    "main": {"kind": "path", "path": "app.py"}, "sys_path": ["/"], "adapters": [],
    "hash_seed": "0", "start_time": 0.0, "pid": 1, "timings": False,
})
# cbor2 gives arrays and maps used as map keys as tuple and frozendict: plain data too.
PLAIN = (list, tuple, dict, cbor2.frozendict, Pending, cbor2.CBORSimpleValue, type(cbor2.undefined))
OFFSET = re.compile(r"\bbyte \d+\b")
FOLDER = Path(tempfile.mkdtemp(prefix="retrace-fuzz-"))
PATH = layout.trace_path(FOLDER)
CODECS = CodecRegistry()
for _entry in discover_adapters():
    _entry.adapter.register_codecs(CODECS)


def _only_plain(value: Any, depth: int = 0) -> None:
    """Decoding builds plain data and codec placeholders, nothing else."""
    kind = type(value)
    if kind in SCALARS:
        return
    if not isinstance(value, PLAIN):
        raise AssertionError(f"decoding built a {kind.__module__}.{kind.__qualname__}")
    if isinstance(value, (list, tuple)):
        for item in value:
            _only_plain(item, depth + 1)
    elif isinstance(value, (dict, cbor2.frozendict)):
        for key, item in value.items():
            _only_plain(key, depth + 1)
            _only_plain(item, depth + 1)
    elif isinstance(value, Pending):
        _only_plain(value.payload, depth + 1)


def _read(data: bytes) -> None:
    PATH.write_bytes(data)
    try:
        reader = trace.TraceReader(str(PATH))
        try:
            check_compatible(reader.header, PATH)
            for _offset, items in reader.blocks():
                _only_plain(items)
                for value in items:
                    try:
                        CODECS.materialize(value)
                    except (MemoryError, RecursionError):
                        raise
                    except Exception:  # replay reports these as "holds a value replay cannot rebuild"
                        pass
        finally:
            reader.close()
        summarize_recording(FOLDER)
    except BadRecording as exc:
        if not OFFSET.search(str(exc)) and "trace format" not in str(exc) \
                and "recorded with Python" not in str(exc):
            raise AssertionError(f"no byte offset in: {exc}") from None


def one_input(data: bytes) -> None:
    fuzzed = atheris.FuzzedDataProvider(data)
    way = fuzzed.ConsumeIntInRange(0, 2)
    if way == 0:
        _read(fuzzed.ConsumeBytes(fuzzed.remaining_bytes()))
        return
    payloads = []
    for _ in range(fuzzed.ConsumeIntInRange(1, 8)):
        payloads.append(fuzzed.ConsumeBytes(fuzzed.ConsumeIntInRange(0, 4096)))
    if way == 2:
        payloads.insert(0, HEADER)
    _read(trace.MAGIC + b"".join(trace.frame(p) for p in payloads))


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
