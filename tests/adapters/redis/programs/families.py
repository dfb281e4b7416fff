"""Every command family once, printed with types: strings, hashes, lists, sets, sorted sets,
streams, scripts, SCAN iterators, locks, server commands.

Usage: families.py HOST PORT PREFIX PROTOCOL DECODE (PROTOCOL 2 or 3, DECODE 0 or 1).
"""

import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
protocol, decode = int(sys.argv[4]), sys.argv[5] == "1"
options = {"protocol": protocol} if protocol == 3 else {}
r = redis.Redis(host=host, port=port, decode_responses=decode, **options)


def show(label: str, value: object) -> None:
    print(f"{label}: {type(value).__name__} {value!r}")


def k(name: str) -> str:
    return prefix + name


show("set", r.set(k("s"), "v1", ex=100))
show("get", r.get(k("s")))
show("getex", r.getex(k("s"), px=50000))
show("mset", r.mset({k("m1"): 1, k("m2"): "two"}))
show("mget", r.mget([k("m1"), k("m2"), k("missing")]))
show("incrbyfloat", r.incrbyfloat(k("f"), 1.5))
show("append", r.append(k("s"), "+"))
show("getrange", r.getrange(k("s"), 0, 1))
show("setnx", r.setnx(k("s"), "no"))
show("exists", r.exists(k("s"), k("missing")))
show("type", r.type(k("s")))

show("hset", r.hset(k("h"), mapping={"a": 1, "b": "x"}))
show("hgetall", r.hgetall(k("h")))
show("hmget", r.hmget(k("h"), ["a", "zz"]))
show("hincrby", r.hincrby(k("h"), "a", 2))
show("hexists", r.hexists(k("h"), "b"))
show("hkeys", sorted(r.hkeys(k("h"))))

show("rpush", r.rpush(k("l"), "a", "b", "c"))
show("lrange", r.lrange(k("l"), 0, -1))
show("lpop", r.lpop(k("l")))
show("lmove", r.lmove(k("l"), k("l2"), "LEFT", "RIGHT"))
show("llen", r.llen(k("l")))

show("sadd", r.sadd(k("set"), "x", "y", "z"))
show("smembers", sorted(r.smembers(k("set"))))
show("smembers-type", type(r.smembers(k("set"))).__name__)
show("sismember", r.sismember(k("set"), "x"))
show("smismember", r.smismember(k("set"), ["x", "q"]))
show("sinter", sorted(r.sinter([k("set"), k("set")])))

show("zadd", r.zadd(k("z"), {"a": 1.5, "b": 2, "c": 3}))
show("zrange", r.zrange(k("z"), 0, -1, withscores=True))
show("zrangebyscore", r.zrangebyscore(k("z"), 2, "+inf"))
show("zpopmin", r.zpopmin(k("z")))
show("zscore", r.zscore(k("z"), "b"))
show("zmscore", r.zmscore(k("z"), ["b", "nope"]))

first = r.xadd(k("x"), {"event": "signup", "user": "ada"}, id="1-1")
show("xadd", first)
show("xadd2", r.xadd(k("x"), {"event": "login"}, id="2-1"))
show("xlen", r.xlen(k("x")))
show("xrange", r.xrange(k("x")))
show("xread", r.xread({k("x"): "0-0"}, count=1))
show("xgroup", r.xgroup_create(k("x"), "workers", id="0"))
show("xreadgroup", r.xreadgroup("workers", "w1", {k("x"): ">"}, count=2))
show("xack", r.xack(k("x"), "workers", "1-1"))
show("xpending", r.xpending(k("x"), "workers"))

show("eval", r.eval("return {KEYS[1], ARGV[1], 3}", 1, k("s"), "arg"))
bump = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
r.script_flush()
show("script-after-flush", bump(keys=[k("counter")], args=[5]))
show("script-again", bump(keys=[k("counter")], args=[2]))
show("evalsha", r.evalsha(bump.sha, 1, k("counter"), 1))

for i in range(25):
    r.set(k(f"scan:{i:02d}"), i)
show("scan_iter", sorted(r.scan_iter(match=k("scan:*"), count=7)))
show("hscan_iter", sorted(r.hscan_iter(k("h"))))
show("sscan_iter", sorted(r.sscan_iter(k("set"))))
show("zscan_iter", list(r.zscan_iter(k("z"))))

lock = r.lock(k("lock"), timeout=5)
show("lock-acquire", lock.acquire(blocking=False))
show("lock-owned", lock.owned())
show("lock-second", r.lock(k("lock")).acquire(blocking=False))
lock.release()

show("ping", r.ping())
show("echo", r.echo("hi"))
show("dbsize-type", type(r.dbsize()).__name__)
show("time-type", type(r.time()).__name__)
show("config", r.config_get("maxmemory-policy"))
show("object", r.object("encoding", k("l2")))

show("delete", r.delete(*r.keys(k("*"))))
r.close()
