"""No code runs because of what a trace holds: CBOR tags cbor2 would turn into objects, codec
values naming classes no adapter vouches for, and malformed records are all refused with one
message and exit 88; the modules that load traces use no pickle, marshal, eval or exec."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import cbor2
import pytest

import retrace
from retrace.codecs import CODEC_TAG, CodecRegistry, Pending, Unencodable, safe_loads
from retrace.testing import replay, run_retrace

CORE = Path(retrace.__file__).parent
LOADING_MODULES = ("trace.py", "decoding.py", "codecs.py", "cursor.py", "summary.py")
ZEN = "Beautiful is better than ugly"


def with_event_value(rec: Any, block: int, value: Any, raised: bool = False) -> list[list[Any]]:
    """The loop recording's blocks with the first event of ``block`` answering ``value``."""
    blocks = [list(b) for b in rec.blocks]
    items = blocks[block]
    for i in range(0, len(items), 5):
        if items[i + 1] >= 0:
            items[i + 1] = (items[i + 1] & ~1) | int(raised)
            items[i + 4] = value
            return blocks
    raise AssertionError(f"block {block} holds no event")


def offset_of_block(rec: Any, block: int) -> int:
    return rec.starts[block + 1]


def assert_refused(run: Any, directory: Path, fragment: str, rec: Any) -> None:
    assert run.status == 88, run
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert ZEN not in run.stdout
    lines = run.stdout.splitlines()
    assert lines == rec.stdout.splitlines()[: len(lines)]
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"retrace: {directory.resolve() / 'trace.bin'}: "), run.stderr
    assert fragment in last, run.stderr


REFUSED_TAGS = {
    "regex": (35, "(a+)+$"),
    "mime": (36, "Content-Type: text/plain\n\nhello"),
    "shareable": (28, ["x"]),
    "sharedref": (29, 0),
    "rational": (30, [1, 3]),
    "set": (258, [1, 2]),
    "ipaddress": (52, b"\x7f\x00\x00\x01"),
    "stringref namespace": (256, ["a"]),
    "unknown tag": (12345, "x"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_TAGS))
def test_object_building_cbor_tags_are_refused(name):
    tag, value = REFUSED_TAGS[name]
    with pytest.raises(cbor2.CBORDecodeError, match=rf"(CBOR tag {tag} is not allowed in a trace"
                                                     rf"|unknown CBOR tag {tag})"):
        safe_loads(cbor2.dumps([0, 0, 0, None, cbor2.CBORTag(tag, value)]))


@pytest.mark.parametrize(("name", "block"), [("regex", 0), ("mime", 12), ("sharedref", 12)])
def test_cli_refuses_object_building_tags(loop_recording, craft, name, block):
    tag, value = REFUSED_TAGS[name]
    directory = craft(f"tag-{tag}-{block}",
                      blocks=with_event_value(loop_recording, block, cbor2.CBORTag(tag, value)))
    run = replay(directory)
    offset = offset_of_block(loop_recording, block)
    assert_refused(run, directory, f"undecodable block at byte {offset} (", loop_recording)
    assert f"CBOR tag {tag} is not allowed in a trace" in run.stderr
    if block == 0:
        assert run.stdout == ""


def exception_value(module: str, qualname: str, args: list[Any]) -> cbor2.CBORTag:
    return cbor2.CBORTag(CODEC_TAG, ["exception", [module, qualname, args, {}, "boom"]])


UNVOUCHED = {
    "os.system": ("os", "system"),
    "subprocess.Popen": ("subprocess", "Popen"),
    "builtins.eval": ("builtins", "eval"),
    "this.s": ("this", "s"),
    "antigravity.geohash": ("antigravity", "geohash"),
}


@pytest.mark.parametrize("name", sorted(UNVOUCHED))
def test_exceptions_from_unvouched_modules_are_not_built(name):
    module, qualname = UNVOUCHED[name]
    before = set(sys.modules)
    with pytest.raises(Unencodable, match=rf"^the recording holds an exception {module}\.{qualname} "
                                          "that no installed adapter vouches for$"):
        CodecRegistry().materialize(Pending("exception", [module, qualname, ["true"], {}, ""]))
    assert set(sys.modules) - before == set()


@pytest.mark.parametrize("name", ["os.system", "this.s"])
def test_cli_refuses_exceptions_from_unvouched_modules(loop_recording, craft, tmp_path, name):
    module, qualname = UNVOUCHED[name]
    marker = tmp_path / "pwned"
    value = exception_value(module, qualname, [f"touch {marker}"])
    directory = craft(f"exc-{name}", blocks=with_event_value(loop_recording, 6, value, raised=True))
    run = replay(directory)
    assert_refused(run, directory, f"the recording holds an exception {module}.{qualname} that no "
                   "installed adapter vouches for", loop_recording)
    assert not marker.exists()
    assert 3 <= len(run.stdout.splitlines()) < 40  # it replayed up to that event


MALFORMED_VALUES = {
    "unknown codec": (cbor2.CBORTag(CODEC_TAG, ["pickle", b"cos\nsystem\n"]),
                      "holds a 'pickle' value but no installed adapter registers that codec"),
    "exception payload not a list": (cbor2.CBORTag(CODEC_TAG, ["exception", 5]), ""),
    "datetime payload wrong": (cbor2.CBORTag(CODEC_TAG, ["datetime", "tomorrow"]), ""),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_VALUES))
def test_cli_refuses_values_no_codec_can_rebuild(loop_recording, craft, name):
    value, fragment = MALFORMED_VALUES[name]
    directory = craft(f"value-{name.replace(' ', '-')}",
                      blocks=with_event_value(loop_recording, 6, value))
    run = replay(directory)
    assert_refused(run, directory, fragment, loop_recording)
    assert "holds a value replay cannot rebuild" in run.stderr


MALFORMED_RECORDS = {
    "call site not a pair": lambda rec: [
        [7 if (i % 5 == 4 and b[i - 3] == -2) else v for i, v in enumerate(b)] for b in rec.blocks],
    "boundary name not a string": lambda rec: [
        [["x"] if (i % 5 == 4 and b[i - 3] == -1) else v for i, v in enumerate(b)]
        for b in rec.blocks],
    "code not an integer": lambda rec: [["a", "b", 1, 2, 3], *rec.blocks[1:]],
    "footer not a map": lambda rec: [
        *rec.blocks[:-1],
        [5 if (i % 5 == 4 and rec.blocks[-1][i - 3] == -3) else v
         for i, v in enumerate(rec.blocks[-1])]],
}


@pytest.mark.parametrize("name", sorted(MALFORMED_RECORDS))
def test_cli_refuses_malformed_records(loop_recording, craft, name):
    directory = craft(f"record-{name.replace(' ', '-')}",
                      blocks=MALFORMED_RECORDS[name](loop_recording))
    run = replay(directory)
    assert_refused(run, directory, "malformed record in block at byte ", loop_recording)
    if name == "code not an integer":
        inspected = run_retrace(["inspect", str(directory)])
        assert (inspected.status, inspected.stdout) == (88, "")
        assert inspected.stderr == run.stderr.strip().splitlines()[-1] + "\n"


MALFORMED_HEADERS = {
    "no main": (lambda h: {k: v for k, v in h.items() if k != "main"}, "main"),
    "unknown main kind": (lambda h: dict(h, main={"kind": "shell", "code": "true"}), "main"),
    "argv not a list": (lambda h: dict(h, argv="loop.py"), "argv"),
    "python not a list": (lambda h: dict(h, python=5), "python"),
    "adapter not a map": (lambda h: dict(h, adapters=[5]), "adapters"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_HEADERS))
def test_cli_refuses_malformed_headers(loop_recording, craft, name):
    change, field = MALFORMED_HEADERS[name]
    directory = craft(f"header-{name.replace(' ', '-')}", header=change(dict(loop_recording.header)))
    run = replay(directory)
    assert_refused(run, directory, f"the header at byte 3 is malformed (its {field!r} field)",
                   loop_recording)
    assert run.stdout == ""
    # inspect still shows what the header holds, as far as it makes sense
    inspected = run_retrace(["inspect", str(directory)])
    assert (inspected.status, inspected.stderr) == (0, "")
    assert inspected.stdout.startswith(f"recording   {directory.resolve()}\nprogram     ")
    assert "\nstate       complete; exit status 0\n" in inspected.stdout


@pytest.mark.parametrize("module", LOADING_MODULES)
def test_trace_loading_modules_use_no_pickle_marshal_eval_or_exec(module):
    source = (CORE / module).read_text(encoding="utf-8")
    for word in ("pickle", "marshal", "eval(", "exec("):
        assert word not in source, f"{module} mentions {word!r}"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"eval", "exec", "compile", "__import__"}, (module, node.lineno)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not {"pickle", "marshal", "shelve", "dill", "cloudpickle"} & set(names), module
