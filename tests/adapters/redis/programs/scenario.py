"""A small service's day with Redis: rate limiting, a leaderboard, a job queue, pub/sub.

Usage: scenario.py HOST PORT PREFIX. Every value the program gets from Redis
is printed with its type, so a replay that answered differently would show.
"""

import sys
import time

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pool = redis.ConnectionPool(host=host, port=port, db=0)
r = redis.Redis(connection_pool=pool)
other = redis.StrictRedis.from_url(f"redis://{host}:{port}/0", decode_responses=True)


def allow(user: str, limit: int = 3, window: int = 60) -> bool:
    """Fixed-window rate limiter: INCR the window's counter, EXPIRE it on first use."""
    key = f"{prefix}rate:{user}:{int(time.time()) // window}"
    count = r.incr(key)
    if count == 1:
        r.expire(key, window)
    print("rate", user, "count", count, "ttl", r.ttl(key), "allowed", count <= limit)
    return count <= limit


for _ in range(5):
    allow("ada")
allow("bob")

board = prefix + "board"
r.zadd(board, {"ada": 30, "bob": 10, "cy": 20})
print("zincrby", repr(r.zincrby(board, 15, "bob")))
print("top", r.zrange(board, 0, 1, desc=True, withscores=True))
print("rank", r.zrevrank(board, "bob"), "score", repr(r.zscore(board, "cy")))
print("count", r.zcount(board, 15, "+inf"), "card", r.zcard(board))

jobs = prefix + "jobs"
other.rpush(jobs, "resize:1", "email:7")
while True:
    job = r.blpop([jobs], timeout=1)
    print("job", repr(job))
    if job is None:
        break
    r.hincrby(prefix + "done", job[1].split(b":")[0], 1)
print("done", sorted(r.hgetall(prefix + "done").items()))

channel = prefix + "news"
sub = r.pubsub()
sub.subscribe(channel)
sub.psubscribe(prefix + "alerts.*")
print("subscribed", repr(sub.get_message(timeout=1)), repr(sub.get_message(timeout=1)))
print("published", other.publish(channel, "hello"), other.publish(prefix + "alerts.disk", "90%"))
for _ in range(2):
    print("message", repr(sub.get_message(timeout=1)))
print("nothing", repr(sub.get_message(timeout=0.05)))
other.publish(channel, "bye")
sub.unsubscribe(channel)
sub.punsubscribe()
for message in sub.listen():
    print("listen", repr(message))
sub.close()

r.delete(board, jobs, prefix + "done")
print("closing")
other.close()
r.close()
