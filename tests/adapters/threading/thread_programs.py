"""The programs the threading tests record and replay (each a complete script)."""

COUNTERS = '''
import sys, threading, time
N = int(sys.argv[1])
lock = threading.Lock()
rlock = threading.RLock()
state = {"n": 0, "stamps": [], "order": []}

def work(i):
    for _ in range(10):
        with lock:
            state["n"] += 1
            state["stamps"].append(time.perf_counter())
            state["order"].append(i)
        with rlock:
            with rlock:
                state["n"] += 1
        if _ % 3 == 0:
            time.sleep(0)

threads = [threading.Thread(target=work, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("count", state["n"])
print("order", "".join(chr(65 + i % 26) for i in state["order"]))
print("stamps", sum(state["stamps"]))
'''

QUEUES = '''
import queue, sys, threading, time
N = int(sys.argv[1])
jobs = queue.Queue(maxsize=4)
done = queue.SimpleQueue()
lifo = queue.LifoQueue()
prio = queue.PriorityQueue()

def worker(w):
    while True:
        job = jobs.get()
        if job is None:
            jobs.task_done()
            return
        done.put((w, job, round(time.time() % 1000, 6)))
        lifo.put(job)
        prio.put((-job, w))
        jobs.task_done()

threads = [threading.Thread(target=worker, args=(w,)) for w in range(N)]
for t in threads:
    t.start()
for job in range(6 * N):
    jobs.put(job)
for _ in threads:
    jobs.put(None)
jobs.join()
for t in threads:
    t.join()
results = [done.get() for _ in range(6 * N)]
print("who", [(w, j) for w, j, _ in results])
print("when", [t for _, _, t in results][:5])
print("lifo", [lifo.get() for _ in range(5)], "prio", [prio.get() for _ in range(5)])
'''

POOL = '''
import random, sys, time
from concurrent.futures import ThreadPoolExecutor, as_completed
N = int(sys.argv[1])

def task(i):
    start = time.monotonic()
    value = random.random()
    time.sleep(random.random() / 200)
    return i, round(value, 6), round(time.monotonic() - start, 6)

with ThreadPoolExecutor(max_workers=N) as pool:
    futures = [pool.submit(task, i) for i in range(3 * N)]
    for future in as_completed(futures):
        print("done", *future.result())
'''

CONDITION = '''
import sys, threading, time
N = int(sys.argv[1])
items, cond = [], threading.Condition()
finished = threading.Event()
consumed = []

def producer(p):
    for k in range(10):
        with cond:
            items.append((p, k, time.time()))
            cond.notify()

def consumer(c):
    while True:
        with cond:
            while not items:
                if finished.is_set():
                    return
                cond.wait(0.01)
            p, k, _ = items.pop(0)
        consumed.append((c, p, k))

consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(N)]
producers = [threading.Thread(target=producer, args=(p,)) for p in range(N)]
for t in consumers + producers:
    t.start()
for t in producers:
    t.join()
with cond:
    finished.set()
    cond.notify_all()
for t in consumers:
    t.join()
print("consumed", len(consumed))
print("by", [c for c, _, _ in consumed])
timer = threading.Timer(0.05, lambda: print("timer fired"))
timer.start()
timer.join()
semaphore, barrier = threading.Semaphore(2), threading.Barrier(N)
def gate(i):
    with semaphore:
        time.sleep(0.001)
    print("through", barrier.wait(), i)
gates = [threading.Thread(target=gate, args=(i,)) for i in range(N)]
for t in gates:
    t.start()
for t in gates:
    t.join()
'''

RACE = '''
import sys, threading
N = int(sys.argv[1])
shared = []

def racer(i):
    for k in range(300000):
        shared.append(i)

threads = [threading.Thread(target=racer, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
changes = sum(1 for a, b in zip(shared, shared[1:]) if a != b)
print("switches", changes)
'''

UNSHUT_POOL = '''
import time
from concurrent.futures import ThreadPoolExecutor
pool = ThreadPoolExecutor(max_workers=3)
print(sorted(pool.map(lambda i: (i, time.time() > 0), range(6))))
'''

SOAK = '''
import hashlib, os, random, sys, threading, time
THREADS, EVENTS = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock()
log = []

def work(i):
    digest = hashlib.sha256()
    for n in range(EVENTS // 4):  # four events a round: two clock reads, acquire, release
        stamp = time.time()
        digest.update(repr((stamp, time.perf_counter_ns() % 997)).encode())
        with lock:  # the generator is shared: drawing from it outside the lock would be a race
            log.append(i)
            digest.update(repr(random.random()).encode())
    with lock:
        log.append(digest.hexdigest()[:12])

threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(log), hashlib.sha256(repr(log).encode()).hexdigest())
print(" ".join(x for x in log if isinstance(x, str)))
'''

# A library (installed under a site-packages folder by the test) with threads of its own:
# two workers race for tasks on the library's queue, and a poller paces itself with the clock.
BACKGROUND_LIBRARY = '''
import os, queue, threading, time

_tasks = queue.Queue()
_answers = queue.Queue()
_done = threading.Event()


def _worker():
    while True:
        name = _tasks.get()
        if name is None:
            return
        _answers.put((name, os.environ.get(name, "?")))  # a boundary, on whichever worker is free


def _poller():
    polls = 0
    while not _done.wait(0.001):
        time.monotonic()
        polls += 1


def start():
    threads = [threading.Thread(target=_worker, daemon=True) for _ in range(2)]
    threads.append(threading.Thread(target=_poller, daemon=True))
    for thread in threads:
        thread.start()
    return threads


def lookup(names):
    for name in names:
        _tasks.put(name)
    return dict(_answers.get() for _ in names)


def stop(threads):
    _done.set()
    for _ in range(2):
        _tasks.put(None)
    for thread in threads:
        thread.join()
'''

USES_BACKGROUND_LIBRARY = '''
import time
import bglib

threads = bglib.start()
found = bglib.lookup(["HOME_REGION", "APP_MODE", "MISSING_ONE", "APP_TIER"])
print(sorted(found.items()))
print("at", time.time() > 0)
bglib.stop(threads)
print("stopped")
'''

POLLS_A_THREAD = '''
import threading, time

def work():
    for _ in range(3):
        time.sleep(0.002)

worker = threading.Thread(target=work)
worker.start()
polls = 0
while worker.is_alive():  # how often depends on the scheduler, and on replay the sleeps are instant
    polls += 1
print("polls", polls)
worker.join()
print("after join", worker.is_alive())
'''
