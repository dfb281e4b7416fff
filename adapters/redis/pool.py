"""Connection pools: closing one is an event, everything else happens inside commands.

A pool hands out connections only from inside command events, so on replay
it never holds any. Closing it (``Redis.close``, a client being garbage
collected, ``pool.disconnect()``) still runs redis-py code that reads the
process id and closes sockets; as one event it does so in recording only.
"""

from __future__ import annotations

from retrace import Boundary
from retrace.adapters.redis import client

DISCONNECT = Boundary("redis.pool.disconnect", library=client.LIBRARY)
