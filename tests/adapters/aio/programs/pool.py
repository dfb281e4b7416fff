"""psycopg_pool.AsyncConnectionPool: tasks borrow connections the pool opens in the background."""

import asyncio
import random
import sys

from psycopg_pool import AsyncConnectionPool

DSN = sys.argv[1]


async def task(pool, i):
    await asyncio.sleep(random.random() / 50)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT %s::int * 2, pg_backend_pid() > 0", (i,))
        print("task", i, await cur.fetchone())


async def main():
    async with AsyncConnectionPool(DSN, min_size=2, max_size=4, open=False) as pool:
        await pool.open(wait=True)
        await asyncio.gather(*(task(pool, i) for i in range(20)))
        print(
            "stats",
            {k: v for k, v in pool.get_stats().items() if k in ("pool_min", "pool_max", "requests_num")},
        )


asyncio.run(main())
