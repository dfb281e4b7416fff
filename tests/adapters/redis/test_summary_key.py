"""A redis command's summary key stands for its summary: equal keys, equal summaries.

The recorder formats a summary only for a key it has not seen, so a key that
left out something the summary shows would give a later command an earlier
command's summary in divergence reports.
"""

from __future__ import annotations

import itertools

from retrace.adapters.redis import commands

COMMANDS = [
    ("GET", "user:1"), ("GET", b"user:1"), ("GET", "user:2"), ("get", "user:1"),
    ("SET", "k", 1), ("SET", "k", 2), ("SET", "k", 1, "EX", 5), ("SET", 1, "v"), ("SET", "1", "v"),
    ("SET", 1.0, "v"), ("SET", True, "v"), ("INCR", "n"), ("PING",), ("DEL", "a", "b"),
    ("DEL", "a", "b", "c"), ("SET", "x" * 39, 1), ("SET", "x" * 41, 1), ("SET", "x" * 80, 1),
    ("CONFIG GET", "requirepass"), ("MGET", "a", "b"),
]
WITH_CREDENTIALS = [
    ("AUTH", "s3cret"), ("auth", "user", "s3cret"), ("HELLO", 3, "AUTH", "u", "p"),
    ("CONFIG SET", "requirepass", "p"), ("CONFIG", "SET", "requirepass", "p"),
    ("ACL SETUSER", "u", ">p"), ("MIGRATE", "h", 1, "k", 0, 5, "AUTH", "p"),
]


def test_equal_keys_have_equal_summaries() -> None:
    keyed = [(commands.summary_key(None, c, {}), commands.summary(None, c, {})) for c in COMMANDS]
    # no key (summarised each time): a float or bool argument, a long one, CONFIG
    assert sum(key is None for key, _ in keyed) == 5
    for (key_a, text_a), (key_b, text_b) in itertools.combinations(keyed, 2):
        if key_a is not None and key_a == key_b:
            assert text_a == text_b, (key_a, text_a, text_b)
    # the cases a careless key would merge: 1 and "1", b"x" and "x", the argument count
    for a, b in [(("SET", 1, "v"), ("SET", "1", "v")), (("GET", "user:1"), ("GET", b"user:1")),
                 (("DEL", "a", "b"), ("DEL", "a", "b", "c")), (("SET", "k", 1), ("SET", "k", 1, "EX", 5))]:
        assert commands.summary_key(None, a, {}) != commands.summary_key(None, b, {})
    assert commands.summary_key(None, ("SET", "k", 1), {}) == commands.summary_key(
        None, ("SET", "k", 2), {})


def test_commands_that_may_carry_credentials_have_no_key() -> None:
    for command in WITH_CREDENTIALS:
        assert commands.summary_key(None, command, {}) is None, command
