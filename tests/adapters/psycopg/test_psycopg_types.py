"""Types round-trip exactly: every value is printed with its type and repr, then compared."""

from __future__ import annotations

from pathlib import Path

from retrace.testing import record_and_replay

from .conftest import Database, program_env, write_program

TYPES = '''
    import os
    from typing import NamedTuple

    import psycopg
    from psycopg.types.composite import CompositeInfo, register_composite
    from psycopg.types.enum import EnumInfo, register_enum
    from psycopg.types.json import Jsonb

    conn = psycopg.connect(os.environ["APP_DSN"], autocommit=True)
    conn.execute("SET TimeZone = 'Europe/Rome'")
    conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    conn.execute("CREATE TYPE money_amount AS (currency text, cents bigint)")


    class Amount(NamedTuple):
        currency: str
        cents: int


    register_enum(EnumInfo.fetch(conn, "mood"), conn)
    register_composite(CompositeInfo.fetch(conn, "money_amount"), conn, Amount)
    row = conn.execute("""
        SELECT 42::int2, 2147483647::int4, 9223372036854775807::int8,
               12345.678900::numeric, 'NaN'::numeric, 1.5::float8, 'Infinity'::float4,
               'héllo ✓'::text, '\\\\x00ff10'::bytea, true, NULL::int,
               '2024-02-29'::date, '13:14:15.123456'::time, '13:14:15+02'::timetz,
               '2024-02-29 13:14:15.5'::timestamp, '2024-07-01 12:00:00+00'::timestamptz,
               '1 year 2 mons 3 days 04:05:06.7'::interval,
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
               '{"a": [1, 2.5, null], "b": {"c": "d"}}'::json, '{"k": true}'::jsonb,
               ARRAY[1, 2, NULL]::int[], ARRAY[['a', 'b'], ['c', NULL]]::text[],
               '{2024-01-01,2024-12-31}'::date[],
               'happy'::mood, ROW('EUR', 1999)::money_amount,
               '[1,10)'::int4range, '192.168.0.1/24'::inet
    """).fetchone()
    for value in row:
        print(type(value).__name__, repr(value))
    echoed = conn.execute(
        "SELECT %s, %s, %s, ROW(%s, %s)::money_amount, %s, %s",
        (Jsonb({"x": [1, "y"]}), [1.5, None], b"\\x00\\x01", "USD", 5, None, "it's"),
    ).fetchone()
    for value in echoed:
        print("echo", type(value).__name__, repr(value))
    print("timezone:", conn.info.timezone)
    binary = conn.cursor(binary=True).execute(
        "SELECT 3.25::numeric, now() - now(), 'x'::text, ARRAY[7, 8]").fetchone()
    print("binary:", binary)
'''


def test_types_round_trip(tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, TYPES)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    for expected in (
        "int 9223372036854775807", "Decimal Decimal('12345.678900')", "Decimal Decimal('NaN')",
        "float inf", "str 'héllo ✓'", "bytes b'\\x00\\xff\\x10'", "NoneType None",
        "date datetime.date(2024, 2, 29)", "time datetime.time(13, 14, 15, 123456)",
        "datetime datetime.datetime(2024, 2, 29, 13, 14, 15, 500000)",
        "datetime datetime.datetime(2024, 7, 1, 14, 0, "
        "tzinfo=zoneinfo.ZoneInfo(key='Europe/Rome'))",
        "timedelta datetime.timedelta(days=428, seconds=14706, microseconds=700000)",
        "UUID UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
        "dict {'a': [1, 2.5, None], 'b': {'c': 'd'}}", "list [[\'a\', \'b\'], [\'c\', None]]",
        "Mood <Mood.happy: 3>", "Amount Amount(currency='EUR', cents=1999)",
        "echo Amount Amount(currency='USD', cents=5)", "timezone: Europe/Rome",
        "binary: (Decimal('3.25'),",
    ):
        assert expected in out, expected
