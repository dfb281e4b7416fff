"""Process facts, environment reads and standard input replay from the trace."""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections import Counter
from pathlib import Path
from urllib.request import getproxies_environment

from retrace.events import read_events
from retrace.testing import record, record_and_replay, replay

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
