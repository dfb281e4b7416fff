"""Each error redis-py raises, caught and printed (class, message, what isinstance says),
then one left uncaught so the program dies the way it died when recorded.

Usage: errors.py HOST PORT PREFIX CLOSED_PORT AUTH_PORT.
"""

import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
closed_port, auth_port = int(sys.argv[4]), int(sys.argv[5])
r = redis.Redis(host=host, port=port)


def attempt(label: str, action) -> None:  # type: ignore[no-untyped-def]
    try:
        print(label, "ok", repr(action()))
    except redis.RedisError as exc:
        print(label, type(exc).__module__, type(exc).__name__, repr(str(exc)),
              "connection-error" if isinstance(exc, redis.ConnectionError) else "-",
              "response-error" if isinstance(exc, redis.ResponseError) else "-")


r.set(prefix + "str", "x")
attempt("wrongtype", lambda: r.lpush(prefix + "str", "y"))
attempt("unknown", lambda: r.execute_command("NOSUCHCOMMAND"))
attempt("noscript", lambda: r.evalsha("0" * 40, 0))
attempt("lua", lambda: r.eval("return redis.call('INCR', KEYS[1])", 1, prefix + "str"))
attempt("data", lambda: r.set(prefix + "bad", {"not": "allowed"}))
attempt("refused", lambda: redis.Redis(host=host, port=closed_port).ping())
attempt("timeout", lambda: redis.Redis(host=host, port=port, socket_timeout=0.2)
        .blpop([prefix + "empty"], timeout=2))
attempt("auth", lambda: redis.Redis(host=host, port=auth_port, password="wrong").ping())
attempt("noauth", lambda: redis.Redis(host=host, port=auth_port).ping())
with r.pipeline() as pipe:
    pipe.watch(prefix + "str")
    redis.Redis(host=host, port=port).set(prefix + "str", "changed")
    pipe.multi()
    pipe.get(prefix + "str")
    attempt("watch", pipe.execute)
r.delete(prefix + "str")
r.set(prefix + "str", "x")
r.lpush(prefix + "str", "uncaught")
