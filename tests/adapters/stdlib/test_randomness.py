"""Randomness replays identically: generators, the OS's entropy, secrets, uuid, hash order."""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.testing import record_and_replay

RANDOM_PROGRAM = textwrap.dedent(
    """
    import os, random, secrets, uuid
    from random import random as alias_random, randint

    print("module", random.random(), alias_random(), randint(1, 10**9), random.choice("abcdef"))
    deck = list(range(20)); random.shuffle(deck); print("shuffle", deck)
    print("sample", random.sample(range(1000), 5), random.gauss(0, 1), random.randbytes(8).hex())
    mine = random.Random(); print("instance", mine.random(), mine.getrandbits(64))
    random.seed(); print("reseeded", random.random())
    seeded = random.Random(42); print("explicit seed", seeded.random())
    system = random.SystemRandom(); print("system", system.random(), system.randint(0, 10**6))
    print("urandom", os.urandom(16).hex())
    if hasattr(os, "getrandom"):
        print("getrandom", os.getrandom(8).hex())
    print("secrets", secrets.token_hex(16), secrets.token_urlsafe(8), secrets.randbelow(10**9),
          secrets.choice(["x", "y", "z"]))
    print("uuid", uuid.uuid4(), uuid.uuid1())
    """
)

HASH_PROGRAM = textwrap.dedent(
    """
    words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
    print(list(words))
    print(list({b"one", b"two", b"three", b"four"}))
    print({k: sorted(v) for k, v in {"x": {"p", "q", "r"}}.items()})
    print(hash("retrace"))
    """
)


def test_every_source_of_randomness_replays_identically(tmp_path: Path) -> None:
    program = tmp_path / "rand.py"
    program.write_text(RANDOM_PROGRAM)
    recorded, _ = record_and_replay(program, tmp_path / "rec", times=3)
    assert "explicit seed 0.6394267984578837" in recorded.stdout


def test_hash_and_set_order_replay_identically(tmp_path: Path) -> None:
    program = tmp_path / "hashes.py"
    program.write_text(HASH_PROGRAM)
    first, _ = record_and_replay(program, tmp_path / "rec1", times=2)
    second, _ = record_and_replay(program, tmp_path / "rec2")
    # Different recordings use different seeds: the order really is random,
    # and replay really restores it.
    assert first.stdout.splitlines()[-1] != second.stdout.splitlines()[-1]


def test_a_fixed_user_hash_seed_is_kept(tmp_path: Path) -> None:
    program = tmp_path / "hashes.py"
    program.write_text(HASH_PROGRAM)
    recorded, _ = record_and_replay(program, tmp_path / "rec", env={"PYTHONHASHSEED": "0"})
    assert recorded.stdout.splitlines()[-1] == str(_hash_with_seed_zero("retrace"))


def _hash_with_seed_zero(text: str) -> int:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", f"print(hash({text!r}))"], capture_output=True,
                          text=True, env={"PYTHONHASHSEED": "0"}, check=True)
    return int(done.stdout)
