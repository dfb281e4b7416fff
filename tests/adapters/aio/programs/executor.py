"""Executor calls (to_thread, run_in_executor on a one-worker pool) racing a ticking task."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor


def blocking(i):
    time.sleep(0.01 * (i % 3))
    return i, round(time.time() % 100, 4)


async def ticker():
    for k in range(8):
        await asyncio.sleep(0.004)
        print("tick", k, round(asyncio.get_running_loop().time() % 100, 4))


async def main():
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
    t = asyncio.create_task(ticker())
    for i in range(4):
        print("thread done", await asyncio.to_thread(blocking, i))
    print(await loop.run_in_executor(None, blocking, 9))
    await t


asyncio.run(main())
