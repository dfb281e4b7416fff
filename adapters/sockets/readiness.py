"""Waiting for a recorded socket to be ready: ``select.select`` and the ``selectors`` classes.

Whether a socket had data (or room) when the program asked depends on the
server and the network, so the answer is an event when a socket the
adapter adopted is among those asked about: which of the objects were
ready (by position, so replay hands back the program's own objects), and
for a selector which registered keys with which events (by registration
order). On replay nothing waits. Calls about other descriptors only
(pipes, an event loop's, a server's listening socket: how often a server's
loop polls it depends on timing) are left alone.
"""

from __future__ import annotations

from typing import Any

from retrace import Patch
from retrace.boundary import Args, Kwargs
from retrace.errors import BadRecording
from retrace.runtime import call

from . import _active, _adopted, _boundary, _listening

SELECT = _boundary("select.select", blocking=True)
SELECTOR = _boundary("selectors.select", blocking=True)


def _watched(obj: Any) -> bool:
    return obj in _adopted and obj not in _listening


def _unwatched() -> bool:
    """Whether no call can be about a socket of ours: recording or replaying is off, a boundary
    call is in flight, or no socket was adopted. An event loop polls its selector several
    times per task step; this answers those polls without looking at what is registered."""
    return not _adopted or not _active()


def _positions(found: Any, asked: list[Any]) -> list[int]:
    return [i for i, obj in enumerate(asked) if any(obj is f for f in found)]


def _checked(value: Any, sizes: list[int]) -> Any:
    if (type(value) is list and len(value) == len(sizes)
            and all(type(v) is list and all(type(i) is int and 0 <= i < n for i in v)
                    for v, n in zip(value, sizes, strict=True))):
        return value
    raise BadRecording("a select event in the trace is malformed")


def select_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if _unwatched():
        return wrapped(*args, **kwargs)
    lists = [list(a) for a in args[:3]]
    if len(lists) < 3 or not any(_watched(obj) for objs in lists for obj in objs):
        return wrapped(*args, **kwargs)
    timeout = args[3] if len(args) > 3 else kwargs.get("timeout")

    def really(*_: Any) -> list[list[int]]:
        ready = wrapped(*lists, timeout)
        return [_positions(found, asked) for found, asked in zip(ready, lists, strict=True)]

    sizes = [len(objs) for objs in lists]
    key = f"select {sizes[0]} {sizes[1]} {sizes[2]} {timeout is None}"
    found = _checked(call(SELECT, really, key, key), sizes)
    return tuple([asked[i] for i in positions] for positions, asked in zip(found, lists, strict=True))


def selector_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if _unwatched():
        return wrapped(*args, **kwargs)
    keys = list(instance.get_map().values())
    if not any(_watched(key.fileobj) for key in keys):
        return wrapped(*args, **kwargs)
    timeout = args[0] if args else kwargs.get("timeout")

    def really(*_: Any) -> list[list[int]]:
        ready = wrapped(*args, **kwargs)
        return [[i, int(events)] for key, events in ready
                for i, known in enumerate(keys) if known is key]

    key = f"selector {len(keys)} {timeout is None}"
    found = call(SELECTOR, really, key, key)
    if not (type(found) is list and all(
            type(pair) is list and len(pair) == 2 and type(pair[0]) is int
            and 0 <= pair[0] < len(keys) and type(pair[1]) is int for pair in found)):
        raise BadRecording("a selector event in the trace is malformed")
    return [(keys[i], events) for i, events in found]


def patches() -> list[Patch]:
    import selectors

    found = [Patch("select", "select", wrapper=select_wrapper),
             Patch("selectors", "SelectSelector.select", wrapper=selector_wrapper),
             Patch("selectors", "_PollLikeSelector.select", wrapper=selector_wrapper)]
    found += [Patch("selectors", f"{name}.select", wrapper=selector_wrapper)
              for name in ("EpollSelector", "KqueueSelector")
              if name in selectors.__dict__ and "select" in getattr(selectors, name).__dict__]
    return found
