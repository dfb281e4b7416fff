"""Sets of tasks in creation order: asyncio's own iteration orders made reproducible.

Tasks, futures and coroutines hash by memory address, and replay allocates
differently from the recorded run, so wherever asyncio iterates a set of
them the order can change between the two runs: ``as_completed`` creates
its tasks from a set of the awaitables given, ``asyncio.wait`` and
``all_tasks`` hand the program sets, and a ``TaskGroup`` cancels its tasks
in set order when one fails. While a session runs, every task made through
a loop gets a serial in creation order, and those places use
:class:`TaskSet`, a ``set`` that iterates in that order (tasks it does not
know come last). ``as_completed`` first wraps its awaitables in tasks in the
order given, which is what the program wrote.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

from retrace import runtime
from retrace.boundary import Args, Kwargs

_serials: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_counter = itertools.count()
_LAST = float("inf")


def _key(item: Any) -> float:
    try:
        return _serials.get(item, _LAST)
    except TypeError:
        return _LAST


class TaskSet(set[Any]):
    """A set of tasks or futures that iterates in their creation order."""

    def __iter__(self) -> Any:
        return iter(sorted(set.__iter__(self), key=_key))


def _active() -> bool:
    return not isinstance(runtime.active(), runtime.Passthrough)


def create_task(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """A task the program makes gets its serial; one made inside a boundary call (an awaited
    call's real coroutine, recorded runs only) needs none: replay has no such task."""
    task = wrapped(*args, **kwargs)
    if not runtime.LOCAL.busy and _active():
        _serials[task] = next(_counter)
    return task


def as_completed(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    if _active() and args:
        import asyncio

        loop = kwargs.get("loop")
        ordered = [asyncio.ensure_future(aw, loop=loop) for aw in dict.fromkeys(args[0])]
        args = (ordered, *args[1:])
    return wrapped(*args, **kwargs)


async def wait(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    done, pending = await wrapped(*args, **kwargs)
    if _active():
        return TaskSet(done), TaskSet(pending)
    return done, pending


def all_tasks(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    tasks = wrapped(*args, **kwargs)
    return TaskSet(tasks) if _active() else tasks


def task_group_init(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    wrapped(*args, **kwargs)
    if _active():
        instance._tasks = TaskSet(instance._tasks)
