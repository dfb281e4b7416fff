"""The quickstart program: everything it prints comes from the clock and randomness.

Record it, replay it, and the two outputs are identical, although nothing it
prints could be predicted.
"""

import datetime
import random
import time
import uuid
from time import time as wall_clock


def main() -> None:
    started = time.monotonic()
    print("now:          ", datetime.datetime.now().isoformat())
    print("epoch:        ", wall_clock())
    print("dice:         ", [random.randint(1, 6) for _ in range(5)])
    print("request id:   ", uuid.uuid4())
    print("set order:    ", list({"apple", "banana", "cherry", "damson"}))
    print("elapsed (s):  ", round(time.monotonic() - started, 9))


if __name__ == "__main__":
    main()
