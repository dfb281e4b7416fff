"""A short program whose run/ copy a test edits to make the replay diverge.

Usage: divergence.py HOST PORT PREFIX.
"""

import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=host, port=port)
r.set(prefix + "greeting", "hello")
print("get", r.get(prefix + "greeting"))
print("pipeline", r.pipeline().incr(prefix + "n").incr(prefix + "n").execute())
r.delete(prefix + "greeting", prefix + "n")
