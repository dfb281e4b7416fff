"""Pub/sub and a job queue across threads: a listener thread that reacts to messages,
and a consumer blocking in BLPOP while a producer thread pushes.

Usage: threads.py HOST PORT PREFIX. How often each thread calls Redis depends
only on the messages and jobs (no polling on a timer), and threads start in a
fixed order relative to their first Redis call: the core tells threads apart
by that order, and it does not order unsynchronised polling.
"""

import sys
import threading
import time

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=host, port=port, decode_responses=True)
publisher = redis.Redis(host=host, port=port)
received: list[str] = []
first = threading.Event()
sub = r.pubsub(ignore_subscribe_messages=True)
sub.subscribe(prefix + "events")


def listen() -> None:
    for message in sub.listen():
        received.append(message["data"])
        first.set()
        if message["data"] == "stop":
            return


def produce() -> None:
    producer = redis.Redis(host=host, port=port)
    time.sleep(0.05)
    producer.rpush(prefix + "jobs", "late-job")
    producer.close()


listener = threading.Thread(target=listen)
listener.start()
publisher.publish(prefix + "events", "one")
print("first message", first.wait(5))
producer = threading.Thread(target=produce)
producer.start()
print("job", r.blpop([prefix + "jobs"], timeout=5))
producer.join()
for word in ("two", "stop"):
    publisher.publish(prefix + "events", word)
listener.join()
sub.close()
print("received", received)
publisher.close()
r.close()
