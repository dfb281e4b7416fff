"""Timeouts that sometimes fire: wait_for, asyncio.timeout, wait(FIRST_COMPLETED), as_completed."""

import asyncio
import random
import sys

import redis.asyncio as aredis

HOST, PORT, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]


async def slow(r, i):
    # Either well inside the 50 ms timeouts below or well past them, so both outcomes come up
    # on a loaded machine too; which one, and where a timeout cuts in, is the recording's.
    await asyncio.sleep(random.choice((0, 0.001, 0.003, 0.2)))
    return await r.incr(PREFIX + "slow")


async def main():
    r = aredis.Redis(host=HOST, port=PORT)
    fired = 0
    for i in range(30):
        try:
            value = await asyncio.wait_for(slow(r, i), timeout=0.05)
            print(f"round {i:2d} wait_for finished: {value}")
        except asyncio.TimeoutError:
            fired += 1
            print(f"round {i:2d} wait_for timed out")
    if sys.version_info >= (3, 11):
        for i in range(10):
            try:
                async with asyncio.timeout(0.05):
                    print(f"timeout block {i}: {await slow(r, i)}")
            except TimeoutError:
                fired += 1
                print(f"timeout block {i}: fired")
    tasks = [asyncio.create_task(slow(r, i)) for i in range(5)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    print("first completed", sorted(t.result() for t in done), "pending", len(pending))
    for t in pending:
        t.cancel()
    print("cancelled", await asyncio.gather(*pending, return_exceptions=True))
    print("as_completed", [await f for f in asyncio.as_completed([slow(r, i) for i in range(5)])])
    print("fired", fired)
    await r.delete(PREFIX + "slow")
    await r.aclose()


asyncio.run(main())
