"""redis.asyncio pub/sub against messages another process publishes.

Usage: pubsub.py HOST PORT PREFIX. Subscribes to a channel and a pattern on
one PubSub, runs a second one with a handler through ``PubSub.run()``, then
subscribes to PREFIX+"ready", which is what ``publisher.py`` waits for. Reads
with ``get_message(timeout=...)`` (some reads time out), with ``listen()``,
and with ``get_message(timeout=None)``, unsubscribes and closes.
"""

import asyncio
import sys

import redis.asyncio as aredis

HOST, PORT, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]


async def close(pubsub):
    await (pubsub.aclose() if hasattr(pubsub, "aclose") else pubsub.close())


async def main():
    r = aredis.Redis(host=HOST, port=PORT)
    ps = r.pubsub()
    await ps.subscribe(PREFIX + "news")
    await ps.psubscribe(PREFIX + "p.*")
    handled = []
    stopped = asyncio.Event()

    async def handler(message):
        handled.append(message["data"])
        if message["data"] == b"stop":
            stopped.set()

    ps2 = r.pubsub()
    await ps2.subscribe(**{PREFIX + "handled": handler})
    runner = asyncio.create_task(ps2.run(poll_timeout=0.05))
    await ps.subscribe(PREFIX + "ready")

    got, empty = [], 0
    while len(got) < 4:  # the fourth comes 0.3 s after the first three: reads time out meanwhile
        message = await ps.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is None:
            empty += 1
        else:
            got.append((message["type"], message["channel"], message["data"]))
    print("got", got)
    print("empty reads", empty, empty > 3)
    async for message in ps.listen():
        print("listen", message["type"], message["channel"], message["data"])
        if message["data"] == b"stop":
            break
    await stopped.wait()
    runner.cancel()
    try:
        await runner
    except asyncio.CancelledError:
        print("runner cancelled")
    print("handled", handled)
    await ps.unsubscribe(PREFIX + "news")
    print("unsubscribe", await ps.get_message(timeout=None))
    await ps.punsubscribe()
    print("punsubscribe", await ps.get_message(timeout=1.0))
    await ps.ping()
    print("pong", await ps.get_message(timeout=1.0))
    print("still subscribed", ps.subscribed, sorted(ps.channels))
    await close(ps)
    print("after close", ps.subscribed, ps.channels, ps.patterns)
    await close(ps2)
    await r.aclose() if hasattr(r, "aclose") else await r.close()


asyncio.run(main())
