"""The DAP server, driven by a small DAP client over TCP as VS Code drives it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from timetravel_kit import environment, wait_until_gone

from retrace.testing import record

LOOP = """\
import time

total = 0
for i in range(4):
    stamp = time.time()
    total += i
    print("iteration", i, stamp)
print("done", total)
"""


class Client:
    """Requests out, responses and events in, Content-Length framed."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.reader = self.sock.makefile("rb")
        self.seq = 0
        self.events: list[dict[str, Any]] = []

    def _read(self) -> dict[str, Any]:
        length = 0
        while (line := self.reader.readline().strip()) != b"":
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(self.reader.read(length))
        return message

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        while True:
            message = self._read()
            if message["type"] == "event":
                self.events.append(message)
            elif message["request_seq"] == self.seq:
                return message

    def event(self, name: str) -> dict[str, Any]:
        """The next event ``name`` not seen yet (events before it are kept)."""
        for index, message in enumerate(self.events):
            if message["event"] == name:
                return self.events.pop(index)
        while True:
            message = self._read()
            if message["type"] == "event" and message["event"] == name:
                return message
            self.events.append(message)

    def output(self) -> str:
        return "".join(
            e["body"]["output"]
            for e in self.events
            if e["event"] == "output" and e["body"]["category"] == "stdout"
        )

    def where(self) -> tuple[int, dict[str, str]]:
        frames = self.request("stackTrace", threadId=1)["body"]["stackFrames"]
        scopes = self.request("scopes", frameId=frames[0]["id"])["body"]["scopes"]
        names = self.request("variables", variablesReference=scopes[0]["variablesReference"])
        return frames[0]["line"], {v["name"]: v["value"] for v in names["body"]["variables"]}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The loop, recorded once for the module: the recording and what it printed."""
    base = tmp_path_factory.mktemp("dap")
    (base / "app.py").write_text(LOOP)
    recorded = record(base / "app.py", base / "rec", cwd=base)
    assert recorded.status == 0, recorded.stderr
    return base / "rec", recorded.stdout


@pytest.fixture
def server(recording: tuple[Path, str]) -> Iterator[tuple[Client, subprocess.Popen[str], str]]:
    _rec, recorded = recording
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrace", "dap", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=environment(),
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("retrace dap: listening on 127.0.0.1:"), line
    client = Client(int(line.rsplit(":", 1)[1]))
    yield client, proc, recorded
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_step_back_and_reverse_continue_over_dap(
    server: tuple[Client, subprocess.Popen[str], str], recording: tuple[Path, str]
) -> None:
    client, proc, recorded = server
    rec = recording[0]
    capabilities = client.request("initialize", adapterID="retrace")["body"]
    assert capabilities["supportsStepBack"] is True
    assert client.request("launch", recording=str(rec))["success"]
    client.event("initialized")
    app = str((rec / "run" / "app.py").resolve())
    marks = client.request("setBreakpoints", source={"path": app}, breakpoints=[{"line": 6}])["body"][
        "breakpoints"
    ]
    assert marks == [{"line": 6, "verified": True, "message": ""}]
    client.request("configurationDone")
    assert client.event("stopped")["body"]["reason"] == "breakpoint"
    assert client.request("threads")["body"]["threads"] == [{"id": 1, "name": "MainThread"}]
    client.request("continue", threadId=1)
    client.event("stopped")
    line, names = client.where()
    assert (line, names["i"]) == (6, "1")
    stamp = names["stamp"]
    client.request("next", threadId=1)
    client.event("stopped")
    assert client.where()[0] == 7
    client.request("stepBack", threadId=1)
    client.event("stopped")
    assert client.where() == (line, names)  # same line, same values as stepping forward
    client.request("reverseContinue", threadId=1)
    client.event("stopped")
    line, names = client.where()
    assert (line, names["i"]) == (6, "0")
    assert names["stamp"] != stamp
    evaluated = client.request("evaluate", expression="i + 100", frameId=1)["body"]
    assert evaluated["result"] == "100"
    client.request("reverseContinue", threadId=1)
    stopped = client.event("stopped")
    assert "no earlier breakpoint hit" in json.dumps(client.events) + json.dumps(stopped)
    for _ in range(4):
        client.request("continue", threadId=1)
        client.event("stopped")
    deadline = time.monotonic() + 10
    while "done 6" not in client.output() and time.monotonic() < deadline:
        time.sleep(0.05)
        client.request("threads")
    assert client.output() == recorded  # the program's output, once, in order
    client.request("disconnect")
    assert proc.wait(20) == 0
    assert wait_until_gone(proc.pid) == []  # the engine and its checkpoints too


def test_the_recordings_vscode_files_start_and_reach_the_time_travel_server(
    recording: tuple[Path, str],
) -> None:
    """What VS Code does with the files: run the task, wait for its pattern, connect, launch."""
    rec = recording[0]
    launch = json.loads((rec / ".vscode" / "launch.json").read_text())
    tasks = json.loads((rec / ".vscode" / "tasks.json").read_text())
    workspace = json.loads((rec / "replay.code-workspace").read_text())
    configuration = launch["configurations"][1]
    assert configuration["name"] == "retrace: time travel (step back)"
    assert workspace["launch"]["configurations"][1]["debugServer"] == configuration["debugServer"]
    assert workspace["tasks"] == tasks
    task = tasks["tasks"][0]
    assert task["label"] == configuration["preLaunchTask"]
    assert str(configuration["debugServer"]) in task["args"]
    ready = re.compile(task["problemMatcher"]["background"]["endsPattern"])
    proc = subprocess.Popen(
        [task["command"], *task["args"]],
        stdout=subprocess.PIPE,
        text=True,
        env=environment(),
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert ready.search(proc.stdout.readline())
        client = Client(configuration["debugServer"])
        assert client.request("initialize", adapterID="debugpy")["body"]["supportsStepBack"]
        arguments = {
            k: v.replace("${workspaceFolder}", str(rec)) if isinstance(v, str) else v
            for k, v in configuration.items()
        }
        assert client.request("launch", **arguments)["success"]
        client.event("initialized")
        client.request(
            "setBreakpoints", source={"path": str(rec / "run" / "app.py")}, breakpoints=[{"line": 7}]
        )
        client.request("configurationDone")
        client.event("stopped")
        client.request("continue", threadId=1)
        client.event("stopped")
        assert client.where()[1]["i"] == "1"
        client.request("stepBack", threadId=1)
        client.event("stopped")
        assert client.where()[0] == 6
        client.request("disconnect")
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
