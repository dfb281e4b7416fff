"""Authenticate every way redis-py can, with a password that must never reach the trace.

Usage: auth.py HOST PORT PREFIX; the password comes from $RD_PASSWORD.
"""

import asyncio
import os
import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
password = os.environ["RD_PASSWORD"]
r = redis.Redis(host=host, port=port, password=password)
print("ping", r.ping())
print("auth", r.auth(password))
print("auth-user", r.auth(password, username="default"))
print("config-set", r.config_set("requirepass", password))
print("config-get", sorted(r.config_get("requirepass")))
resp3 = {"protocol": 3} if int(redis.__version__.split(".")[0]) >= 5 else {}
r3 = redis.Redis.from_url(f"redis://default:{password}@{host}:{port}/0", **resp3)
print("resp3", r3.set(prefix + "k", "v"), r3.get(prefix + "k"))
pipe = r.pipeline()
pipe.execute_command("AUTH", password).get(prefix + "k")
print("pipeline", pipe.execute())
for transaction in (True, False):
    pipe = r.pipeline(transaction=transaction)
    pipe.config_get("requirepass").get(prefix + "k")
    config, value = pipe.execute()
    print("pipeline-config", transaction, sorted(config), value)
sub = r.pubsub()
sub.subscribe(prefix + "c")
print("pubsub", sub.get_message(timeout=1)["type"])
sub.close()
r.delete(prefix + "k")
print("hello", r.execute_command("HELLO", 2, "AUTH", "default", password)[:2])
r.close()
r3.close()


async def through_asyncio() -> None:
    import redis.asyncio

    client = redis.asyncio.Redis(host=host, port=port, password=password)
    pipe = client.pipeline(transaction=False)
    pipe.config_get("requirepass").ping()
    config, pong = await pipe.execute()
    print("async-pipeline-config", sorted(config), pong)
    await (client.aclose() if hasattr(client, "aclose") else client.close())


asyncio.run(through_asyncio())
