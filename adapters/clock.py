"""The clock: ``time.*`` readings, ``time.sleep``, and ``datetime`` ``now``/``today``.

Every reading of the wall clock, the monotonic clocks and the CPU clocks is a
boundary. ``localtime``/``gmtime``/``ctime``/``asctime``/``strftime`` are
boundaries only when called without a time (then they read the clock); with
one they are pure functions and run for real. ``datetime.datetime.now``,
``utcnow`` and ``datetime.date.today`` (which ``datetime.today`` inherits) are
patched on the C types themselves, so every datetime stays a real
``datetime``. ``time.sleep`` returns at once on replay unless
``RETRACE_REAL_SLEEP=1``.

``logging`` reads the clock once, when it is imported, for
``%(relativeCreated)d``; retrace imports it before the program starts, so
that reading (``logging._startTime``) is set, in both modes, to the
session's start time from the recording's header: no event is needed.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs

LIBRARY = ("datetime", "_pydatetime", "_strptime")
READINGS = (
    "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
    "process_time", "process_time_ns", "thread_time", "thread_time_ns",
)


def _with_time_argument(position: int) -> Any:
    def given(instance: Any, args: Args, kwargs: Kwargs) -> bool:
        return len(args) > position or bool(kwargs)

    return given


def _struct_time_encode(value: Any, *_: Any) -> Any:
    return [list(value[:9]), value.tm_zone, value.tm_gmtoff]


def _struct_time_decode(plain: Any, *_: Any) -> time.struct_time:
    fields, zone, gmtoff = plain
    return time.struct_time((*fields, zone, gmtoff))


def _as_datetime(value: Any, *_: Any) -> Any:
    if type(value) in (datetime.datetime, datetime.date):
        return value
    if isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day, value.hour, value.minute,
                                 value.second, value.microsecond, value.tzinfo, fold=value.fold)
    return datetime.date(value.year, value.month, value.day)


def _real_sleep(instance: Any, args: Args, kwargs: Kwargs) -> None:
    if os.environ.get("RETRACE_REAL_SLEEP") == "1":
        time.sleep(*args, **kwargs)


def _first_argument(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return list(args) + sorted(kwargs.items())


class ClockAdapter(Adapter):
    name = "clock"
    modules = LIBRARY

    def __init__(self) -> None:
        self._logging_start: Any = None

    def start(self, session: Any) -> None:
        namespace = vars(sys.modules.get("logging", sys))
        current = namespace.get("_startTime")
        started = session.header.get("start_time")
        if isinstance(current, (int, float)) and type(started) is float:
            self._logging_start = current
            # time.time() before 3.13, time.time_ns() since
            namespace["_startTime"] = started if isinstance(current, float) else int(started * 1e9)

    def stop(self, session: Any) -> None:
        logging = sys.modules.get("logging")
        if self._logging_start is not None and logging is not None:
            vars(logging)["_startTime"] = self._logging_start
        self._logging_start = None

    def patches(self) -> list[Patch]:
        found = [
            Patch("time", name, Boundary(f"time.{name}", library=LIBRARY, timing=True))
            for name in READINGS
            if hasattr(time, name)
        ]
        found += [
            Patch("time", "localtime", Boundary("time.localtime", passthrough=_with_time_argument(0),
                                                library=LIBRARY, encode=_struct_time_encode,
                                                decode=_struct_time_decode)),
            Patch("time", "gmtime", Boundary("time.gmtime", passthrough=_with_time_argument(0),
                                             library=LIBRARY, encode=_struct_time_encode,
                                                decode=_struct_time_decode)),
            Patch("time", "ctime", Boundary("time.ctime", passthrough=_with_time_argument(0),
                                            library=LIBRARY)),
            Patch("time", "asctime", Boundary("time.asctime", passthrough=_with_time_argument(0),
                                              library=LIBRARY)),
            Patch("time", "strftime", Boundary("time.strftime", passthrough=_with_time_argument(1),
                                               fingerprint=_first_argument,
                                               summary=lambda i, a, k: repr(a[0]) if a else "",
                                               library=LIBRARY)),
            Patch("time", "sleep", Boundary("time.sleep", fingerprint=_first_argument,
                                            summary=lambda i, a, k: f"{a[0]!r}s" if a else "",
                                            on_replay=_real_sleep, blocking=True,
                                            library=LIBRARY, timing=True)),
            Patch("datetime", "datetime.now", Boundary("datetime.datetime.now",
                                                       fingerprint=_tz_argument,
                                                       encode=_as_datetime, library=LIBRARY)),
            Patch("datetime", "datetime.utcnow", Boundary("datetime.datetime.utcnow",
                                                          encode=_as_datetime, library=LIBRARY)),
            Patch("datetime", "date.today", Boundary("datetime.date.today",
                                                     encode=_as_datetime, library=LIBRARY)),
        ]
        return found


def _tz_argument(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    tz = args[0] if args else kwargs.get("tz")
    return None if tz is None else str(tz)


adapter = ClockAdapter()
