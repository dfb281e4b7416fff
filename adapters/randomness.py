"""Randomness: the ``random`` generators, ``os.urandom``/``getrandom``, ``secrets``, ``uuid``.

The generators are made deterministic instead of patched call by call: the
hidden module-level instance is seeded from recorded entropy when the session
starts, and every ``Random()`` or ``seed()`` without an explicit seed draws
recorded entropy too. That costs nothing per ``random.random()`` and covers
every alias (``from random import random`` is a bound method of the hidden
instance). Everything that reads the operating system's entropy
(``SystemRandom``, ``secrets``, ``uuid4``) goes through ``os.urandom`` or
``os.getrandom``, which are boundaries; ``random._urandom``, the private copy,
is caught by the core's alias sweep. ``uuid.uuid1`` reads the clock and the
node id, so it is one boundary of its own.
"""

from __future__ import annotations

import os
import random
from typing import Any

from retrace import Adapter, Boundary, Patch
from retrace.boundary import Args, Kwargs
from retrace.runtime import call

LIBRARY = ("random", "secrets", "uuid", "tempfile")
ENTROPY = Boundary("random.entropy", library=LIBRARY)


def _fresh_entropy() -> int:
    return int.from_bytes(os.urandom(32), "big")


def _arguments(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    return list(args) + sorted(kwargs.items())


def _size(instance: Any, args: Args, kwargs: Kwargs) -> str:
    return f"{args[0] if args else kwargs.get('size')} bytes"


def _seed_wrapper(wrapped: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """``seed()`` / ``seed(None)`` draws recorded entropy; an explicit seed runs as is."""
    explicit = (args and args[0] is not None) or kwargs.get("a") is not None
    if explicit:
        return wrapped(*args, **kwargs)
    rest = args[1:] if args else ()
    kwargs = {k: v for k, v in kwargs.items() if k != "a"}
    return wrapped(call(ENTROPY, _fresh_entropy), *rest, **kwargs)


class RandomnessAdapter(Adapter):
    name = "randomness"
    modules = LIBRARY

    def patches(self) -> list[Patch]:
        found = [
            Patch("os", "urandom", Boundary("os.urandom", fingerprint=_arguments, summary=_size,
                                            library=LIBRARY)),
            Patch("random", "Random.seed", wrapper=_seed_wrapper),
            Patch("random", "seed", wrapper=_seed_wrapper),
            Patch("uuid", "uuid1", Boundary("uuid.uuid1", fingerprint=_arguments,
                                            library=LIBRARY)),
        ]
        if hasattr(os, "getrandom"):
            found.append(Patch("os", "getrandom", Boundary("os.getrandom", fingerprint=_arguments,
                                                           summary=_size, library=LIBRARY)))
        return found

    def start(self, session: Any) -> None:
        random._inst.seed(call(ENTROPY, _fresh_entropy))


adapter = RandomnessAdapter()
