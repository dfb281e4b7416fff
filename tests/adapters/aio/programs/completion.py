"""100 tasks: each sleeps a random time, reads the loop's clock, calls Redis and PostgreSQL, prints."""

import asyncio
import random
import sys

import psycopg
import redis.asyncio as aredis

DSN, HOST, PORT, PREFIX = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


async def task(i, r, conn, lock):
    await asyncio.sleep(random.random() / 20)
    now = asyncio.get_running_loop().time()
    n = await r.incr(PREFIX + "n")
    await r.rpush(PREFIX + "order", i)
    async with lock:
        cur = await conn.execute("INSERT INTO seen (i, n) VALUES (%s, %s) RETURNING id", (i, n))
        (row,) = await cur.fetchone()
    print(f"task {i:3d} n={n:3d} row={row:3d} clock={now % 1000:.6f}")


async def main():
    r = aredis.Redis(host=HOST, port=PORT)
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
        await conn.execute("CREATE TABLE seen (id serial PRIMARY KEY, i int, n int)")
        lock = asyncio.Lock()
        await asyncio.gather(*(task(i, r, conn, lock) for i in range(100)))
        cur = await conn.execute("SELECT count(*), sum(n) FROM seen")
        print("rows", await cur.fetchone())
    print("order", [int(x) for x in await r.lrange(PREFIX + "order", 0, -1)][:10], "...")
    await r.aclose()


asyncio.run(main())
