"""Two tasks run a slow query each on their own async connection, while a third ticks.

Usage: overlap.py DSN. Prints how long the two queries took together by the
real clock on stderr (not part of what replay compares), and on stdout what
they returned and how the ticker interleaved with them. Also a failing query,
a NOTICE the server sends mid-query, and a query cancelled by a timeout.
"""

import asyncio
import sys
import time

import psycopg

DSN = sys.argv[1]
clock = getattr(time.perf_counter, "__wrapped__", time.perf_counter)  # the real clock, unrecorded


async def slow(i, log):
    async with await psycopg.AsyncConnection.connect(DSN) as conn:
        conn.add_notice_handler(lambda diag: log.append(f"notice {i}: {diag.message_primary}"))
        log.append(f"query {i} starts")
        cur = await conn.execute("SELECT pg_sleep(0.3), %s::int", (i,))
        log.append(f"query {i} returned {await cur.fetchone()}")
        await conn.execute(f"DO $$ BEGIN RAISE NOTICE 'hello from {i}'; END $$")
        try:
            await conn.execute("SELECT 1/0")
        except psycopg.errors.DivisionByZero as exc:
            log.append(f"query {i} failed: {type(exc).__name__} {exc.sqlstate}")


async def ticker(log):
    for n in range(5):
        await asyncio.sleep(0.05)
        log.append(f"tick {n}")


async def cancelled(log):
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
        try:
            await asyncio.wait_for(conn.execute("SELECT pg_sleep(0.2)"), timeout=0.05)
        except asyncio.TimeoutError:
            log.append("timed out")
        cur = await conn.execute("SELECT 'still usable'")
        log.append(f"after the timeout: {await cur.fetchone()}")


async def main():
    log = []
    start = clock()
    await asyncio.gather(slow(0, log), slow(1, log), ticker(log))
    took = clock() - start
    await cancelled(log)
    print("\n".join(log))
    sys.stderr.write(f"took {took:.3f}\n")


asyncio.run(main())
