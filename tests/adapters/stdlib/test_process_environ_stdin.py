"""Process facts, environment reads and standard input replay from the trace."""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections import Counter
from pathlib import Path
from urllib.request import getproxies_environment

import cbor2

from retrace.events import read_events
from retrace.testing import record, record_and_replay, replay
from retrace.trace import DEF_BOUNDARY, MAGIC, RECORD_WIDTH, TraceReader, frame

PROCESS_PROGRAM = textwrap.dedent(
    """
    import os, socket, sys
    print("pid", os.getpid(), "ppid", os.getppid(), "host", socket.gethostname())
    print("argv", sys.argv)
    print("home", os.environ.get("HOME"), "missing", os.getenv("APP_TEST_MISSING", "dflt"))
    print("shell" in os.environ, "APP_TEST_PLAIN" in os.environ, os.environ["APP_TEST_PLAIN"])
    print("names", sorted(k for k in os.environ if k.startswith("APP_TEST")))
    print("count", len(os.environ) > 0)
    try:
        os.environ["APP_TEST_ABSENT"]
    except KeyError as exc:
        print("KeyError", exc)
    """
)


def test_process_facts_and_environment_replay(tmp_path: Path) -> None:
    program = tmp_path / "proc.py"
    program.write_text(PROCESS_PROGRAM)
    env = {"APP_TEST_PLAIN": "hello"}
    recorded, replayed = record_and_replay(program, tmp_path / "rec", "--flag", "value",
                                           env=env, replay_env={"APP_TEST_PLAIN": "changed"})
    assert "argv ['" in recorded.stdout and "'--flag', 'value']" in recorded.stdout
    assert "hello" in replayed.stdout and "changed" not in replayed.stdout


def test_platform_queries_replay(tmp_path: Path) -> None:
    """The recorder does not warm ``platform``'s caches: the program's own queries are the
    recorded ones (``processor()`` runs ``uname -p`` through subprocess, an event)."""
    program = tmp_path / "plat.py"
    program.write_text("import platform\nprint(platform.processor(), platform.platform(), "
                       "platform.machine(), platform.system())\n")
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=2)
    assert recorded.status == 0 and recorded.stdout.strip()


def test_secret_environment_values_never_reach_the_recording(tmp_path: Path) -> None:
    secret = "s3cr3t-Zq9-value"
    program = tmp_path / "secret.py"
    program.write_text(textwrap.dedent(
        """
        import hashlib, os
        token = os.environ["MY_SERVICE_TOKEN"].encode()
        print(hashlib.sha256(token).hexdigest() == os.environ.get("EXPECTED_SHA", ""))
        print(os.environ["DB_URL"].split("@")[-1])
        print(os.environ["DB_URL"].startswith("postgres://app:"))
        print(os.environ["MY_SERVICE_TOKEN"])
        """
    ))
    env = {"MY_SERVICE_TOKEN": secret, "EXPECTED_SHA": hashlib.sha256(secret.encode()).hexdigest(),
           "DB_URL": f"postgres://app:{secret}@db/x"}
    recorded = record(program, tmp_path / "rec", env=env)
    assert recorded.stdout.splitlines()[0] == "True"
    for path in (tmp_path / "rec").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    # The replayed program prints what redaction gave it, so its output differs on purpose.
    replayed = replay(tmp_path / "rec", env={"RETRACE_CHECK_OUTPUT": "0"})
    lines = replayed.stdout.splitlines()
    assert lines == ["False", "db/x", "True", "<retrace:redacted>"]


def test_the_whole_environment_is_one_event_per_read(tmp_path: Path) -> None:
    """``items()``, ``values()`` and ``copy()`` read every variable in one event, not one per
    variable (urllib's proxy lookup walks the environment twice per call); replay gives the
    recorded variables whatever the replaying machine has, secrets redacted (in
    ``os.environb`` too, a URL's password included)."""
    secret = "s3cr3t-Zq9-value"
    program = tmp_path / "whole.py"
    program.write_text(textwrap.dedent(
        """
        import os, urllib.request
        print(sorted((k, v) for k, v in os.environ.items() if k.startswith("APP_TEST")))
        print(sorted(v for v in os.environ.values() if v.startswith("app-")))
        child = os.environ.copy()
        child["APP_TEST_CHILD"] = "1"
        print(type(child).__name__, child["APP_TEST_PLAIN"], "APP_TEST_CHILD" in os.environ)
        print(urllib.request.getproxies().get("http", "").endswith("@proxy.example:3128"))
        print(sorted(k for k, v in os.environb.items() if k.startswith(b"APP_TEST")))
        """
    ))
    env = {"APP_TEST_PLAIN": "app-1", "APP_TEST_TOKEN": secret,
           "http_proxy": f"http://user:{secret}@proxy.example:3128"}
    recorded = record(program, tmp_path / "rec", env=env)
    # The replayed program prints what redaction gave it, so its output differs on purpose.
    replayed = replay(tmp_path / "rec",
                      env={"APP_TEST_PLAIN": "changed", "RETRACE_CHECK_OUTPUT": "0"})
    assert (recorded.status, replayed.status) == (0, 0), replayed.stderr
    assert recorded.stdout.splitlines() == [
        f"[('APP_TEST_PLAIN', 'app-1'), ('APP_TEST_TOKEN', '{secret}')]",
        "['app-1']", "dict app-1 False", "True",
        "[b'APP_TEST_PLAIN', b'APP_TEST_TOKEN']",
    ]
    assert replayed.stdout.splitlines() == [
        "[('APP_TEST_PLAIN', 'app-1'), ('APP_TEST_TOKEN', '<retrace:redacted>')]",
        "['app-1']", "dict app-1 False", "True",
        "[b'APP_TEST_PLAIN', b'APP_TEST_TOKEN']",
    ]
    for path in (tmp_path / "rec").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    events = Counter(event.boundary for event in read_events(tmp_path / "rec"))
    # items, values, copy, environb, and urllib's two walks where it walks with items()
    # (3.11.7 does; 3.10, 3.12 and 3.13 walk the names and read the few *_proxy ones).
    urllib_walks = 2 if "os.environ.items()" in inspect.getsource(getproxies_environment) else 0
    assert events["os.environ.items"] == 4 + urllib_walks
    assert events.get("os.environ[]", 0) < 5  # urllib's 'REQUEST_METHOD' in os.environ


WALKS_PROGRAM = textwrap.dedent(
    """
    import os, threading
    def walk(label):
        print(label, sorted((k, v) for k, v in os.environ.items() if k.startswith("APP_TEST")))
    for i in range(3):
        walk("main")
    os.environ["APP_TEST_LATER"] = "set"
    walk("changed")
    copy = os.environ.copy()
    copy["APP_TEST_COPY"] = "mine"
    walk("after a copy")
    print("bytes", sorted(k for k, v in os.environb.items() if k.startswith(b"APP_TEST")))
    thread = threading.Thread(target=walk, args=("thread",))
    thread.start()
    thread.join()
    print("values", sorted(v for v in os.environ.values() if v.startswith("app-")))
    del os.environ["APP_TEST_PLAIN"]
    walk("deleted")
    """
)


def test_a_walk_of_an_unchanged_environment_is_recorded_as_the_same(tmp_path: Path) -> None:
    """urllib walks the environment up to four times per request: a walk finding it as the
    thread's last walk did is one short event, and replay gives the program the same
    variables as that walk (a copy the program changed, another thread, ``os.environb`` and
    a variable set or deleted in between each keep their own)."""
    program = tmp_path / "walks.py"
    program.write_text(WALKS_PROGRAM)
    env = {"APP_TEST_PLAIN": "app-1", "APP_TEST_OTHER": "app-2"}
    recorded = record(program, tmp_path / "rec", env=env)
    replayed = replay(tmp_path / "rec", env={"APP_TEST_PLAIN": "elsewhere"})
    assert (recorded.status, replayed.status) == (0, 0), replayed.stderr
    assert replayed.stdout == recorded.stdout
    both = "('APP_TEST_OTHER', 'app-2'), ('APP_TEST_PLAIN', 'app-1')"
    later = "('APP_TEST_LATER', 'set'), " + both
    assert recorded.stdout.splitlines() == [
        f"main [{both}]", f"main [{both}]", f"main [{both}]", f"changed [{later}]",
        f"after a copy [{later}]", "bytes [b'APP_TEST_LATER', b'APP_TEST_OTHER', b'APP_TEST_PLAIN']",
        f"thread [{later}]", "values ['app-1', 'app-2']",
        "deleted [('APP_TEST_LATER', 'set'), ('APP_TEST_OTHER', 'app-2')]",
    ]
    walks = [event.value for event in read_events(tmp_path / "rec")
             if event.boundary == "os.environ.items"]
    same = "<retrace:same-environment>"
    # main x3, changed, copy, after a copy, environb, thread, values, deleted
    assert [w if w == same else "all" for w in walks] == [
        "all", same, same, "all", same, same, "all", "all", same, "all"]


def test_a_walk_recorded_as_the_same_as_none_is_a_clear_error(tmp_path: Path) -> None:
    """A trace whose first walk says "the same" (damaged, or cut and spliced) stops the
    replay with a message naming the boundary, never a traceback of retrace's."""
    program = tmp_path / "walks.py"
    program.write_text(WALKS_PROGRAM)
    directory = tmp_path / "rec"
    assert record(program, directory, env={"APP_TEST_PLAIN": "app-1"}).status == 0
    path = directory / "trace.bin"
    reader = TraceReader(str(path))
    blocks = [list(items) for _offset, items in reader.blocks()]
    reader.close()
    walk = next(ident for block in blocks for i in range(0, len(block), RECORD_WIDTH)
                if block[i + 1] == DEF_BOUNDARY and block[i + 4] == "os.environ.items"
                for ident in [block[i + 2]])
    first = next((block, i) for block in blocks for i in range(0, len(block), RECORD_WIDTH)
                 if block[i + 1] == walk * 2)
    first[0][first[1] + 4] = "<retrace:same-environment>"
    path.write_bytes(MAGIC + frame(cbor2.dumps(reader.header))
                     + b"".join(frame(cbor2.dumps(block)) for block in blocks))
    run = replay(directory)
    assert run.status != 0 and run.stdout == ""
    assert "os.environ.items" in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_stdin_and_input_replay_without_input(tmp_path: Path) -> None:
    program = tmp_path / "ask.py"
    program.write_text(textwrap.dedent(
        """
        import sys
        name = input("name? ")
        rest = sys.stdin.readline()
        tail = sys.stdin.read()
        print(f"hello {name}; next={rest!r}; tail={tail!r}")
        """
    ))
    recorded = record(program, tmp_path / "rec", stdin="Ada\nsecond line\nthird\nfourth\n")
    assert "hello Ada; next='second line\\n'; tail='third\\nfourth\\n'" in recorded.stdout
    replayed = replay(tmp_path / "rec")
    assert replayed.observable() == recorded.observable()
