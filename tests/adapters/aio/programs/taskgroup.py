"""A TaskGroup whose member fails: its siblings are cancelled, in the recorded order."""

import asyncio
import random
import sys

import redis.asyncio as aredis

HOST, PORT, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]


async def sibling(r, i):
    try:
        while True:
            await asyncio.sleep(random.random() / 100)
            print(f"sibling {i} counted {await r.incr(PREFIX + str(i))}")
    except asyncio.CancelledError:
        print(f"sibling {i} cancelled at {asyncio.get_running_loop().time() % 1000:.6f}")
        raise


async def failing(r):
    await asyncio.sleep(0.03)
    await r.set(PREFIX + "failing", "about to fail")
    raise ValueError("member failed")


async def main():
    r = aredis.Redis(host=HOST, port=PORT)
    try:
        async with asyncio.TaskGroup() as group:
            for i in range(6):
                group.create_task(sibling(r, i))
            group.create_task(failing(r))
    except Exception as errors:  # an ExceptionGroup (Python 3.11+)
        print("group failed:", [str(e) for e in errors.exceptions])
    await r.delete(*[PREFIX + str(i) for i in range(6)], PREFIX + "failing")
    await r.aclose()


asyncio.run(main())
