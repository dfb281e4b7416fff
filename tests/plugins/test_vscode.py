"""The VS Code files: what they hold, and a real debugpy session that replays through them.

The session test plays VS Code's part over the Debug Adapter Protocol: it
starts debugpy's adapter on a socket, sends the launch configuration from the
recording's ``.vscode/launch.json`` (variables substituted the way VS Code
does), answers the adapter's ``runInTerminal`` request by starting the
process itself, stops at a breakpoint in ``run/app.py``, evaluates variables
that hold a recorded timestamp and a row read from PostgreSQL (whose
database is dropped before the replay), reads the real clock from the debug
console (which must not touch the recording), and continues to the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import retrace
import retrace.adapters
from retrace.plugins import vscode
from retrace.testing import record, run_retrace

debugpy = pytest.importorskip("debugpy")

APP = textwrap.dedent(
    """
    import time


    def main():
        stamp = time.time()
        print("stamp", repr(stamp), flush=True)
        return 3


    raise SystemExit(main())
    """
).lstrip()
DB_APP = textwrap.dedent(
    """
    import os
    import time

    import psycopg


    def main():
        stamp = time.time()
        with psycopg.connect(os.environ["APP_DSN"]) as conn:
            row = conn.execute("SELECT id, name, balance, joined FROM customers WHERE id = %s",
                               (7,)).fetchone()
        print("stamp", repr(stamp), flush=True)
        print("row", repr(row), flush=True)
        return 3


    raise SystemExit(main())
    """
).lstrip()
BREAK_LINE = 13
ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
TIMEOUT = 20.0


class DapClient:
    """Just enough of VS Code's side of the Debug Adapter Protocol for one session."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""
        self.seq = 0
        self.backlog: list[dict[str, Any]] = []
        self.terminal: subprocess.Popen[str] | None = None
        self.output: tuple[str, str] = ("", "")

    def send(self, message: dict[str, Any]) -> None:
        self.seq += 1
        message = {"seq": self.seq, **message}
        body = json.dumps(message).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, command: str, **arguments: Any) -> int:
        self.send({"type": "request", "command": command, "arguments": arguments})
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = int(dict(line.split(b": ", 1) for line in head.split(b"\r\n"))[b"Content-Length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        message: dict[str, Any] = json.loads(body)
        if message["type"] == "request" and message["command"] == "runInTerminal":
            self._run_in_terminal(message)
        return message

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        self.buffer += chunk

    def _run_in_terminal(self, message: dict[str, Any]) -> None:
        arguments = message["arguments"]
        env = dict(os.environ)
        for name, value in (arguments.get("env") or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.terminal = subprocess.Popen(arguments["args"], cwd=arguments["cwd"], env=env,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, start_new_session=True)
        self.send({"type": "response", "request_seq": message["seq"], "success": True,
                   "command": "runInTerminal", "body": {"processId": self.terminal.pid}})

    def wait_for(self, kind: str, name: str, request_seq: int | None = None) -> dict[str, Any]:
        """The next event (or response) called ``name``; others are kept for later waits."""
        key = "event" if kind == "event" else "command"
        for i, message in enumerate(self.backlog):
            if message["type"] == kind and message.get(key) == name and (
                    request_seq is None or message.get("request_seq") == request_seq):
                return self.backlog.pop(i)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = self._read()
            if message["type"] == kind and message.get(key) == name and (
                    request_seq is None or message.get("request_seq") == request_seq):
                if kind == "response":
                    assert message["success"], message
                return message
            if message["type"] != "request":
                self.backlog.append(message)
        raise TimeoutError(f"no {kind} {name} within {TIMEOUT}s; saw {self.backlog}")

    def call(self, command: str, **arguments: Any) -> dict[str, Any]:
        return self.wait_for("response", command, self.request(command, **arguments))

    def close(self) -> None:
        """Disconnect; a debuggee still running (a failed test) is killed with its launcher."""
        self.sock.close()
        if self.terminal is None:
            return
        try:
            self.output = self.terminal.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.terminal.pid, signal.SIGKILL)
            self.output = self.terminal.communicate()


def _substituted(configuration: dict[str, Any], folder: Path) -> dict[str, Any]:
    text = json.dumps(configuration).replace("${workspaceFolder}", str(folder))
    return dict(json.loads(text))


@pytest.fixture
def adapter_port(tmp_path: Path) -> Any:
    """debugpy's adapter listening on a free port, as VS Code starts it."""
    endpoints = tmp_path / "endpoints.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRACE")}
    env["DEBUGPY_ADAPTER_ENDPOINTS"] = str(endpoints)
    adapter = subprocess.Popen([sys.executable, "-m", "debugpy.adapter", "--port", "0"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (endpoints.exists() and endpoints.read_text().strip()):
            assert adapter.poll() is None, "the debug adapter exited"
            assert time.monotonic() < deadline, "the debug adapter did not start"
            time.sleep(0.05)
        yield json.loads(endpoints.read_text())["client"]["port"]
    finally:
        adapter.kill()
        adapter.wait()


@pytest.fixture
def recording(tmp_path: Path) -> tuple[Path, str]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP)
    rec = tmp_path / "rec"
    run = record(project / "app.py", rec, cwd=project)
    assert run.status == 3, run.stderr
    return rec.resolve(), run.stdout


@pytest.fixture
def db_recording(tmp_path: Path, postgres_service: tuple[str, int]) -> tuple[Path, str]:
    """``DB_APP`` recorded against a database of its own, dropped before the test replays it."""
    psycopg = pytest.importorskip("psycopg")
    from psycopg import sql

    name = f"retrace_dap_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    ident = sql.Identifier(name)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        dsn = f"host=127.0.0.1 port=5432 dbname={name} user=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, "
                         "balance numeric(10, 2), joined timestamptz)")
            conn.execute("INSERT INTO customers VALUES (7, 'Ada Lovelace', 1234.50, "
                         "'2024-03-01 12:30:00+00')")
        project = tmp_path / "project"
        project.mkdir()
        (project / "app.py").write_text(DB_APP)
        rec = tmp_path / "rec"
        run = record(project / "app.py", rec, cwd=project, env={"APP_DSN": dsn})
        assert run.status == 3, run.stderr
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
    return rec.resolve(), run.stdout


def test_every_recording_gets_owner_only_vscode_files(recording: tuple[Path, str]) -> None:
    rec, _ = recording
    workspace = json.loads((rec / vscode.WORKSPACE).read_text())
    launch = json.loads((rec / vscode.LAUNCH).read_text())
    assert workspace["folders"] == [{"path": "run", "name": "run"}]
    for config, cwd in ((workspace["launch"]["configurations"][0], "${workspaceFolder:run}"),
                        (launch["configurations"][0], "${workspaceFolder}/run")):
        assert config["module"] == "retrace"
        assert config["args"] == ["--recording", ".."]
        assert config["cwd"] == cwd
        assert config["justMyCode"] is True
        assert {"module": "retrace", "include": False} in config["rules"]
    for path in (rec / vscode.WORKSPACE, rec / vscode.LAUNCH):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_scoped_recording_gets_no_vscode_files(tmp_path: Path) -> None:
    with retrace.recording(tmp_path / "rec"):
        time.time()
    assert not (tmp_path / "rec" / vscode.WORKSPACE).exists()
    assert not (tmp_path / "rec" / vscode.LAUNCH).exists()


def test_f5_replays_under_debugpy_and_stops_at_a_breakpoint(
    db_recording: tuple[Path, str], adapter_port: int
) -> None:
    rec, recorded_stdout = db_recording
    recorded_stamp = recorded_stdout.split()[1]
    recorded_row = recorded_stdout.splitlines()[1].removeprefix("row ")
    assert "Ada Lovelace" in recorded_row
    configuration = _substituted(json.loads((rec / vscode.LAUNCH).read_text())["configurations"][0],
                                 rec)
    app = rec / "run" / "app.py"
    client = DapClient(adapter_port)
    try:
        client.call("initialize", clientID="retrace-tests", adapterID="debugpy",
                    pathFormat="path", linesStartAt1=True, columnsStartAt1=True,
                    supportsRunInTerminalRequest=True)
        launched = client.request("launch", **configuration)
        client.wait_for("event", "initialized")
        breakpoints = client.call("setBreakpoints", source={"path": str(app)},
                                  breakpoints=[{"line": BREAK_LINE}])
        assert breakpoints["body"]["breakpoints"][0]["verified"], breakpoints
        client.call("configurationDone")
        client.wait_for("response", "launch", launched)

        stopped = client.wait_for("event", "stopped")["body"]
        assert stopped["reason"] == "breakpoint"
        frames = client.call("stackTrace", threadId=stopped["threadId"])["body"]["stackFrames"]
        assert Path(frames[0]["source"]["path"]) == app
        assert frames[0]["line"] == BREAK_LINE
        shown = [f["source"]["path"] for f in frames if "source" in f and "path" in f["source"]]
        own = [Path(m.__file__).resolve().parent for m in (retrace, retrace.adapters, vscode)]
        assert not [p for p in shown if any(Path(p).resolve().is_relative_to(d) for d in own)], shown
        assert [f["name"] for f in frames] == ["main", "<module>"]

        def watch(expression: str) -> str:
            body = client.call("evaluate", expression=expression, frameId=frames[0]["id"],
                               context="watch")["body"]
            return str(body["result"])

        assert watch("stamp") == recorded_stamp
        # The row came from a database that no longer exists: the recording answered.
        assert watch("row") == recorded_row
        assert watch("row[2]") == "Decimal('1234.50')"
        assert watch("type(row[3]).__name__") == "'datetime'"
        assert watch("row[3].timestamp()") == "1709296200.0"
        # The debug console reads the real clock; it must not take (or run past) the recording.
        live = client.call("evaluate", expression="time.time()", frameId=frames[0]["id"],
                           context="repl")["body"]["result"]
        assert float(live) > float(recorded_stamp)

        client.call("continue", threadId=stopped["threadId"])
        assert client.wait_for("event", "exited")["body"]["exitCode"] == 3
        client.wait_for("event", "terminated")
    finally:
        client.close()
    assert client.terminal is not None
    assert client.terminal.returncode == 3
    assert client.output == (recorded_stdout, "")


def test_the_command_line_replay_ignores_the_vscode_files(recording: tuple[Path, str]) -> None:
    rec, recorded_stdout = recording
    again = run_retrace(["--recording", ".."], cwd=rec / "run")
    assert (again.status, again.stdout) == (3, recorded_stdout)
