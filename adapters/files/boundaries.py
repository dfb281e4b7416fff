"""Every file boundary, by name. Arguments reach them already normalised.

The wrappers call each boundary with the absolute path(s) as the program
meant them (see :mod:`.policy`) followed by the flags that change the
outcome, so the fingerprint is simply those arguments and the summary is the
first path.
"""

from __future__ import annotations

import os
from typing import Any

from retrace import Boundary
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording

LIBRARY = ("os", "posixpath", "genericpath", "pathlib", "shutil", "glob", "fnmatch", "io",
           "codecs", "tempfile")


def arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return [a for a in args if isinstance(a, (str, bytes, int, bool, type(None)))]


def first_path(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return str(args[0]) if args else ""


def _boundary(name: str, **extra: Any) -> Boundary:
    return Boundary(name, fingerprint=arguments, summary=first_path, library=LIBRARY, **extra)


def stat_encode(value: Any, *_: Any) -> Any:
    """``os.stat_result`` as its ``__reduce__`` state: the sequence and the named extras."""
    sequence, extras = value.__reduce__()[1]
    return [list(sequence), dict(extras)]


def stat_decode(plain: Any, *_: Any) -> os.stat_result:
    try:
        sequence, extras = plain
        return os.stat_result(tuple(sequence), dict(extras))
    except (TypeError, ValueError) as exc:
        raise BadRecording(f"a stat result in the trace is malformed ({exc})") from None


def stat_boundary(name: str) -> Boundary:
    return _boundary(name, encode=stat_encode, decode=stat_decode)


def _open_summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return f"{args[1]} {args[0]}" if len(args) > 1 else first_path(instance, args, kwargs)


OPEN = Boundary("open", fingerprint=lambda i, a, k: [a[0], a[1]], summary=_open_summary,
                library=LIBRARY, encode=lambda outcome, *_: outcome.info,
                decode=lambda recorded, i, a, k: _decode_open(recorded, a))
STREAM_READ = _boundary("open.stream.read", blocking=True)
STREAM_WRITE = _boundary("open.stream.write")
DIRENTRY_STAT = stat_boundary("os.DirEntry.stat")
STAT = stat_boundary("os.stat")
LSTAT = stat_boundary("os.lstat")
LISTDIR = _boundary("os.listdir")
SCANDIR = _boundary("os.scandir")
READLINK = _boundary("os.readlink")
REALPATH = _boundary("os.path.realpath")
GLOB = _boundary("glob.glob")
TOUCH = _boundary("pathlib.Path.touch")
CHDIR = _boundary("os.chdir")
ACCESS = _boundary("os.access")

#: ``os`` functions that change the filesystem: (name, how many leading path arguments).
OS_CHANGES = (("remove", 1), ("unlink", 1), ("rmdir", 1), ("removedirs", 1), ("mkdir", 1),
              ("makedirs", 1), ("rename", 2), ("renames", 2), ("replace", 2), ("chmod", 1),
              ("chown", 1), ("utime", 1), ("symlink", 2), ("link", 2), ("truncate", 1))
#: ``shutil`` functions that copy, move or delete trees of files.
SHUTIL_CHANGES = (("copyfile", 2), ("copy", 2), ("copy2", 2), ("copytree", 2), ("move", 2),
                  ("rmtree", 1), ("copymode", 2), ("copystat", 2))
CHANGES = {f"os.{name}": _boundary(f"os.{name}") for name, _ in OS_CHANGES}
CHANGES.update({f"shutil.{name}": _boundary(f"shutil.{name}") for name, _ in SHUTIL_CHANGES})


def _decode_open(recorded: Any, args: Args) -> Any:
    from .opening import replayed_open

    return replayed_open(recorded, args)
