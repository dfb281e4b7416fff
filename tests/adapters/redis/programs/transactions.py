"""Pipelines and transactions: plain and MULTI/EXEC batches, WATCH with a conflicting writer
and a retry, the transaction() helper, errors inside batches, scripts in a pipeline.

Usage: transactions.py HOST PORT PREFIX.
"""

import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=host, port=port)
blocking_pool = redis.BlockingConnectionPool(host=host, port=port, max_connections=2)
rival = redis.Redis(connection_pool=blocking_pool)
balance = prefix + "balance"
r.set(balance, 100)

plain = r.pipeline(transaction=False)
for i in range(5):
    plain.set(f"{prefix}p:{i}", i).incr(f"{prefix}p:{i}")
print("plain", plain.execute())
print("plain-len-after", len(plain))

with r.pipeline() as tx:
    tx.get(balance).incrby(balance, 5).lrange(prefix + "none", 0, -1)
    print("multi", tx.execute())

attempts = 0
with r.pipeline() as pipe:
    while True:
        attempts += 1
        try:
            pipe.watch(balance)
            current = int(pipe.get(balance))
            if attempts == 1:
                rival.incrby(balance, 1000)
            pipe.multi()
            pipe.set(balance, current - 30)
            pipe.get(balance)
            print("watched", pipe.execute())
            break
        except redis.WatchError as exc:
            print("conflict", attempts, type(exc).__name__, exc)


def spend(pipe: redis.client.Pipeline) -> int:
    value = int(pipe.get(balance))
    pipe.multi()
    pipe.decrby(balance, 7)
    return value


print("transaction", r.transaction(spend, balance, value_from_callable=True))

with r.pipeline() as pipe:
    pipe.watch(balance)
    print("peek", pipe.get(balance))
    print("unwatch", pipe.unwatch())

with r.pipeline() as pipe:
    pipe.watch(balance)
    print("abandoned", pipe.get(balance))

errors = r.pipeline(transaction=False)
errors.set(prefix + "str", "x").lpush(prefix + "str", "y").get(prefix + "str")
print("no-raise", [(type(v).__name__, str(v)) for v in errors.execute(raise_on_error=False)])
errors.set(prefix + "str", "x").lpush(prefix + "str", "y").get(prefix + "str")
try:
    errors.execute()
except redis.ResponseError as exc:
    print("raised", type(exc).__name__, exc)

bad = r.pipeline()
bad.set(prefix + "a", 1).execute_command("NOSUCHCOMMAND", "x")
try:
    bad.execute()
except redis.ResponseError as exc:
    print("execabort", type(exc).__name__, exc)

script = r.register_script("return redis.call('GET', KEYS[1])")
r.script_flush()
scripted = r.pipeline()
script(keys=[balance], client=scripted)
scripted.incr(balance)
print("script-pipeline", scripted.execute())
print("empty", r.pipeline().execute())

r.delete(balance, prefix + "str", prefix + "a", *[f"{prefix}p:{i}" for i in range(5)])
rival.close()
blocking_pool.disconnect()
r.close()
