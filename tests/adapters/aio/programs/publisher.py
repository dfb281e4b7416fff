"""Publishes what ``pubsub.py`` expects once it has subscribed to PREFIX+"ready".

Usage: publisher.py HOST PORT PREFIX. A process of its own, so the messages
come from outside the recorded program.
"""

import sys
import time

import redis

HOST, PORT, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=HOST, port=PORT)
deadline = time.monotonic() + 30
while r.pubsub_numsub(PREFIX + "ready")[0][1] == 0:
    if time.monotonic() > deadline:
        sys.exit("nobody subscribed to the ready channel")
    time.sleep(0.01)
for channel, data in [("news", "n1"), ("news", "n2"), ("p.a", "pa1"), ("handled", "h1"), ("handled", "h2")]:
    r.publish(PREFIX + channel, data)
time.sleep(0.3)
for channel, data in [("news", "n3"), ("p.b", "pb1"), ("handled", "stop"), ("news", "stop")]:
    r.publish(PREFIX + channel, data)
    time.sleep(0.02)
r.close()
