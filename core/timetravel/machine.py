"""Commands for programs that drive ``retrace debug`` (the DAP server), answered in JSON.

Each answers with one line, ``@json `` and a JSON object, on the debugger's
output. Arguments are JSON too, so paths and conditions need no quoting.
Frames are numbered from the innermost (0) outwards, as DAP shows them.
"""

from __future__ import annotations

import json
import reprlib
from types import FrameType
from typing import TYPE_CHECKING, Any

MARK = "@json "
PROMPT = "(rdb) "
_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 30


def shown(value: Any) -> str:
    try:
        return _repr.repr(value)
    except Exception as exc:  # a broken __repr__ is the program's, not ours
        return f"<repr failed: {type(exc).__name__}>"


class MachineCommands:
    """Mixed into the debugger; uses pdb's ``stack``, ``message`` and ``set_break``."""

    stack: list[tuple[FrameType, int]]
    breaks: dict[str, list[int]]

    if TYPE_CHECKING:  # pdb's, and the debugger's (declared only: the real ones come later in the MRO)

        def message(self, msg: str) -> None: ...
        def canonic(self, filename: str) -> str: ...
        def set_break(self, *args: Any) -> Any: ...
        def clear_break(self, filename: str, lineno: int) -> Any: ...
        def where_thread(self) -> tuple[str, int]: ...

    def _answer(self, data: dict[str, Any]) -> None:
        self.message(MARK + json.dumps(data))

    def _frames(self) -> list[FrameType]:
        return [frame for frame, _line in reversed(getattr(self, "stack", None) or [])]

    def do__stack(self, arg: str) -> None:
        frames = self._frames()
        thread, step = self.where_thread()
        self._answer(
            {
                "thread": thread,
                "step": step,
                "frames": [
                    {"name": f.f_code.co_name, "path": f.f_code.co_filename, "line": f.f_lineno}
                    for f in frames
                ],
            }
        )

    def _frame(self, index: Any) -> FrameType | None:
        frames = self._frames()
        return frames[index] if isinstance(index, int) and 0 <= index < len(frames) else None

    def do__vars(self, arg: str) -> None:
        request = json.loads(arg)
        frame = self._frame(request.get("frame"))
        if frame is None:
            self._answer({"variables": []})
            return
        scope = frame.f_globals if request.get("scope") == "globals" else frame.f_locals
        names = [n for n in scope if not (n.startswith("__") and n.endswith("__"))]
        self._answer(
            {
                "variables": [
                    {"name": n, "value": shown(scope[n]), "type": type(scope[n]).__name__}
                    for n in sorted(names)
                ]
            }
        )

    def do__eval(self, arg: str) -> None:
        request = json.loads(arg)
        frame = self._frame(request.get("frame", 0))
        if frame is None:
            self._answer({"error": "no frame: the program is not stopped in one"})
            return
        try:
            value = eval(request["expression"], frame.f_globals, frame.f_locals)
        except Exception as exc:
            self._answer({"error": f"{type(exc).__name__}: {exc}"})
            return
        self._answer({"result": shown(value), "type": type(value).__name__})

    def do__breaks(self, arg: str) -> None:
        """Replace the breakpoints of one file: ``{"path": ..., "lines": [[line, cond], ...]}``."""
        request = json.loads(arg)
        filename = self.canonic(request["path"])
        for line in list(self.breaks.get(filename, [])):
            self.clear_break(filename, line)
        verified = []
        for line, condition in request.get("lines", []):
            error = self.set_break(filename, int(line), False, condition or None)
            verified.append({"line": int(line), "verified": error is None, "message": error or ""})
        self._answer({"breakpoints": verified})
