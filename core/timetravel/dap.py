"""``retrace dap``: the time-travel debugger over the Debug Adapter Protocol (VS Code).

debugpy cannot step back, so this is a small adapter of our own. It runs
``retrace debug --machine`` (the same engine as ``retrace debug``) and
translates: DAP requests become debugger commands (``continue`` is ``c``,
``stepBack`` is ``rstep``, ``reverseContinue`` is ``rc``...), the engine's
JSON answers become DAP responses, and the program's output becomes
``output`` events. It advertises ``supportsStepBack``, so VS Code shows its
step-back and reverse-continue buttons.

VS Code connects to it through the launch configuration's ``debugServer``
port (a task started before the launch runs ``retrace dap --port N``; see
docs/guides/time-travel.md); tests and other clients can use ``--stdio``.
One connection is one debugging session; the server ends with it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
from typing import IO, Any

from ..errors import EXIT_USAGE
from .machine import MARK, PROMPT

NAME = "dap"
CAPABILITIES = {
    "supportsConfigurationDoneRequest": True,
    "supportsStepBack": True,
    "supportsConditionalBreakpoints": True,
    "supportsEvaluateForHovers": True,
    "supportsTerminateRequest": True,
}
RUN_COMMANDS = {
    "continue": ("c", "breakpoint"),
    "next": ("n", "step"),
    "stepIn": ("s", "step"),
    "stepOut": ("r", "step"),
    "stepBack": ("rstep", "step"),
    "reverseContinue": ("rc", "breakpoint"),
}
FINISHED = "The program finished with exit status "


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(NAME, help="serve the time-travel debugger over DAP (for VS Code)")
    parser.add_argument(
        "recording",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the recording (or give 'recording' in the launch request)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, help="listen on 127.0.0.1:PORT (0: any free port)")
    where.add_argument("--stdio", action="store_true", help="speak DAP on stdin and stdout")


def run(options: argparse.Namespace) -> int:
    if options.stdio or options.port is None:
        Adapter(Wire(sys.stdin.buffer, sys.stdout.buffer), options.recording).serve()
        return 0
    try:
        server = socket.create_server(("127.0.0.1", options.port))
    except OSError as exc:
        print(
            f"retrace dap: error: cannot listen on 127.0.0.1:{options.port} ({exc.strerror or exc})",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_USAGE
    print(f"retrace dap: listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
    connection, _address = server.accept()
    server.close()
    with connection, connection.makefile("rb") as reader, connection.makefile("wb") as writer:
        Adapter(Wire(reader, writer), options.recording).serve()
    return 0


class Wire:
    """DAP framing: ``Content-Length: N`` headers, a blank line, N bytes of JSON."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self.reader = reader
        self.writer = writer
        self._lock = threading.Lock()
        self._seq = 0

    def read(self) -> dict[str, Any] | None:
        length = None
        while True:
            line = self.reader.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            return None
        message = json.loads(self.reader.read(length))
        return message if isinstance(message, dict) else None

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            message["seq"] = self._seq
            body = json.dumps(message).encode()
            self.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.writer.flush()

    def event(self, event: str, body: dict[str, Any] | None = None) -> None:
        self.send({"type": "event", "event": event, "body": body or {}})


class Engine:
    """``retrace debug --machine FD``: commands in on stdin, answers on FD, output on 1 and 2."""

    def __init__(self, recording: str, cwd: str | None, wire: Wire) -> None:
        control_read, control_write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "retrace", "debug", "--machine", str(control_write), recording],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            pass_fds=(control_write,),
        )
        os.close(control_write)
        self.control = os.fdopen(control_read, "rb", buffering=0)
        self.wire = wire
        self.readers = [
            threading.Thread(target=self._forward, args=(stream, category), daemon=True)
            for stream, category in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr"))
        ]
        for reader in self.readers:
            reader.start()
        self.first = self._until_prompt()

    def _forward(self, stream: IO[bytes] | None, category: str) -> None:
        assert stream is not None
        for line in iter(stream.readline, b""):
            self.wire.event("output", {"category": category, "output": line.decode("utf-8", "replace")})

    def _until_prompt(self) -> str | None:
        data = b""
        marker = PROMPT.encode()
        while not data.endswith(marker):
            chunk = self.control.read(65536)
            if not chunk:
                return None
            data += chunk
        return data[: -len(marker)].decode("utf-8", "replace")

    def command(self, text: str) -> str | None:
        """Run one debugger command; its answer, or None when the engine is gone."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        return self._until_prompt()

    def ask(self, name: str, argument: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.command(f"{name} {json.dumps(argument or {})}") or ""
        for line in answer.splitlines():
            if line.startswith(MARK):
                data = json.loads(line[len(MARK) :])
                return data if isinstance(data, dict) else {}
        return {"error": answer.strip() or "the debugger ended"}

    def close(self) -> None:
        self.command("q")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for reader in self.readers:
            reader.join(5)


class Adapter:
    """One DAP session over one engine."""

    def __init__(self, wire: Wire, recording: str | None) -> None:
        self.wire = wire
        self.recording = recording
        self.engine: Engine | None = None
        self.stop_on_entry = False
        self.thread = "MainThread"
        self.finished = False

    def serve(self) -> None:
        try:
            while (request := self.wire.read()) is not None:
                if not self._handle(request):
                    break
        finally:
            if self.engine is not None:
                self.engine.close()

    def _respond(
        self, request: dict[str, Any], body: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        response = {
            "type": "response",
            "request_seq": request.get("seq"),
            "command": request.get("command"),
            "success": error is None,
            "body": body or {},
        }
        if error is not None:
            response["message"] = error
        self.wire.send(response)

    def _handle(self, request: dict[str, Any]) -> bool:
        command = request.get("command", "")
        arguments = request.get("arguments") or {}
        if command == "initialize":
            self._respond(request, CAPABILITIES)
        elif command == "launch":
            self._launch(request, arguments)
        elif command in ("disconnect", "terminate"):
            self._respond(request)
            if command == "terminate":
                self.wire.event("terminated")
            return False
        elif self.engine is None:
            self._respond(request, error="launch first")
        elif command == "configurationDone":
            self._respond(request)
            if self.stop_on_entry:
                self._stopped("entry", self.engine.first or "")
            else:
                self._run("c", "breakpoint")
        elif command in RUN_COMMANDS:
            self._respond(request, {"allThreadsContinued": True} if command == "continue" else {})
            self._run(*RUN_COMMANDS[command])
        else:
            self._inspect(request, command, arguments)
        return True

    def _launch(self, request: dict[str, Any], arguments: dict[str, Any]) -> None:
        recording = arguments.get("recording") or self.recording
        if not recording:
            self._respond(request, error="no recording: give 'recording' in the launch request")
            return
        self.stop_on_entry = bool(arguments.get("stopOnEntry"))
        self.engine = Engine(str(recording), arguments.get("cwd"), self.wire)
        if self.engine.first is None:
            self._respond(request, error=f"retrace debug could not start on {recording}")
            self.engine = None
            return
        self._respond(request)
        self.wire.event("initialized")

    def _run(self, command: str, reason: str) -> None:
        assert self.engine is not None
        answer = self.engine.command(command)
        if answer is None:
            self.wire.event("terminated")
            return
        self._stopped(reason, answer)

    def _stopped(self, reason: str, answer: str) -> None:
        body: dict[str, Any] = {"reason": reason, "threadId": 1, "allThreadsStopped": True}
        notes = [line for line in answer.splitlines() if line and not line.startswith(("> ", "-> ", MARK))]
        if any(line.startswith(FINISHED) for line in notes):
            self.finished = True
            body.update(
                reason="pause", description="the program has finished: step back, reverse-continue or stop"
            )
        elif notes:
            body["text"] = notes[-1]
        for note in notes:
            if note.startswith(("***", FINISHED)) or "no earlier" in note or "no caller" in note:
                self.wire.event("output", {"category": "console", "output": note + "\n"})
        self.wire.event("stopped", body)

    def _inspect(self, request: dict[str, Any], command: str, arguments: dict[str, Any]) -> None:
        engine = self.engine
        assert engine is not None
        if command == "threads":
            stack = engine.ask("_stack")
            self.thread = stack.get("thread", self.thread)
            self._respond(request, {"threads": [{"id": 1, "name": self.thread}]})
        elif command == "stackTrace":
            frames = engine.ask("_stack").get("frames", [])
            self._respond(
                request,
                {
                    "totalFrames": len(frames),
                    "stackFrames": [
                        {
                            "id": i + 1,
                            "name": f["name"],
                            "line": f["line"],
                            "column": 1,
                            "source": {"name": os.path.basename(f["path"]), "path": f["path"]},
                        }
                        for i, f in enumerate(frames)
                    ],
                },
            )
        elif command == "scopes":
            frame = int(arguments.get("frameId", 1))
            self._respond(
                request,
                {
                    "scopes": [
                        {"name": "Locals", "variablesReference": frame * 2, "expensive": False},
                        {"name": "Globals", "variablesReference": frame * 2 + 1, "expensive": False},
                    ]
                },
            )
        elif command == "variables":
            reference = int(arguments.get("variablesReference", 0))
            scope = "globals" if reference % 2 else "locals"
            found = engine.ask("_vars", {"frame": reference // 2 - 1, "scope": scope})
            self._respond(
                request, {"variables": [dict(v, variablesReference=0) for v in found.get("variables", [])]}
            )
        elif command == "evaluate":
            frame = int(arguments.get("frameId", 1)) - 1
            found = engine.ask("_eval", {"frame": frame, "expression": arguments.get("expression", "")})
            if "error" in found:
                self._respond(request, error=str(found["error"]))
            else:
                self._respond(
                    request, {"result": found["result"], "type": found.get("type"), "variablesReference": 0}
                )
        elif command == "setBreakpoints":
            path = (arguments.get("source") or {}).get("path", "")
            lines = [[b.get("line"), b.get("condition")] for b in arguments.get("breakpoints", [])]
            found = engine.ask("_breaks", {"path": path, "lines": lines})
            self._respond(request, {"breakpoints": found.get("breakpoints", [])})
        elif command == "setExceptionBreakpoints":
            self._respond(request, {"breakpoints": []})
        else:
            self._respond(request, error=f"{command} is not supported")
