"""``python -m retrace.autoenable [--uninstall]``: record any Python process with ``RETRACE=1``.

Installs one ``.pth`` file into this environment's site-packages. Its single
line costs a scan of the environment's variable names at interpreter start
and imports retrace only when a ``RETRACE*`` variable is set.
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
from pathlib import Path

PTH_NAME = "retrace-autoenable.pth"
PTH_LINE = (
    "import os; any(k.startswith('RETRACE') for k in os.environ) and "
    "__import__('retrace.bootstrap').bootstrap.boot()\n"
)


def pth_path() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / PTH_NAME


def install() -> Path:
    path = pth_path()
    path.write_text(PTH_LINE, encoding="utf-8")
    return path


def uninstall() -> Path | None:
    path = pth_path()
    if path.exists():
        path.unlink()
        return path
    return None


def installed() -> bool:
    path = pth_path()
    return path.exists() and path.read_text(encoding="utf-8") == PTH_LINE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrace.autoenable", description=__doc__)
    parser.add_argument("--uninstall", action="store_true", help="remove the hook again")
    options = parser.parse_args(argv)
    try:
        if options.uninstall:
            removed = uninstall()
            print(f"retrace: autoenable removed ({removed})" if removed
                  else "retrace: autoenable was not installed")
            return 0
        path = install()
    except OSError as exc:
        print(f"retrace: cannot write {pth_path()}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"retrace: autoenable installed ({path}); record with "
          "RETRACE=1 RETRACE_RECORDING_PATH=DIR python app.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
