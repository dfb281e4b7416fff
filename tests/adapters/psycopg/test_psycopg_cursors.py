"""Cursors: row factories, named (server-side) cursors, prepared statements and transactions."""

from __future__ import annotations

from pathlib import Path

from retrace.testing import record_and_replay

from .conftest import Database, program_env, write_program

CURSORS = '''
    import os
    from dataclasses import dataclass

    import psycopg
    from psycopg.rows import class_row, dict_row, namedtuple_row

    conn = psycopg.connect(os.environ["APP_DSN"])
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO items VALUES (%s, %s, %s)",
                        [(i, f"item-{i}", i * 1.5) for i in range(1, 26)])
    conn.commit()


    @dataclass
    class Item:
        id: int
        name: str
        price: object


    query = "SELECT id, name, price FROM items WHERE id <= %s ORDER BY id"
    for factory in (dict_row, namedtuple_row, class_row(Item)):
        with conn.cursor(row_factory=factory) as cur:
            cur.execute(query, (3,))
            print("one:", cur.fetchone())
            print("many:", cur.fetchmany(1))
            print("all:", cur.fetchall(), cur.rowcount, cur.rownumber)

    with conn.cursor() as cur:
        cur.execute("SELECT name FROM items WHERE id > %(low)s AND id < %(high)s ORDER BY id",
                    {"low": 20, "high": 24})
        print("iter:", [row for row in cur], cur.description[0].name,
              cur.description[0].type_code)
        cur.execute("UPDATE items SET price = price + 1 WHERE id > 22")
        print("update:", cur.rowcount, cur.statusmessage)
        cur.execute("SELECT 1; SELECT 'two'")
        print("multi:", cur.fetchall(), cur.nextset(), cur.fetchall())

    with conn.cursor("big", row_factory=dict_row) as named:
        named.itersize = 4
        named.execute("SELECT id, name FROM items ORDER BY id")
        print("named first:", named.fetchone())
        print("named many:", named.fetchmany(3))
        named.scroll(10, mode="absolute")
        print("named after scroll:", named.fetchone(), named.rownumber)
        print("named rest:", [r["id"] for r in named])
    with conn.cursor("held", withhold=True, scrollable=True) as held:
        held.execute("SELECT id FROM items WHERE id < 5 ORDER BY id")
        conn.commit()
        print("held:", held.fetchall(), held.description[0].name)

    for i in range(7):
        conn.execute("SELECT price FROM items WHERE id = %s", (i,)).fetchone()
    print("prepared:", conn.execute("SELECT name FROM items WHERE id = %s", (5,),
                                    prepare=True).fetchone())
    print("prepared again:", conn.execute("SELECT name FROM items WHERE id = %s", (6,),
                                          prepare=True).fetchone())

    with conn.transaction() as outer:
        conn.execute("DELETE FROM items WHERE id = 1")
        try:
            with conn.transaction(savepoint_name="inner"):
                conn.execute("DELETE FROM items WHERE id = 2")
                raise RuntimeError("undo the inner delete")
        except RuntimeError as exc:
            print("savepoint rolled back:", exc)
        with conn.transaction():
            conn.execute("DELETE FROM items WHERE id = 3")
        print("inside:", conn.info.transaction_status.name, outer.savepoint_name)
    print("count after tx:", conn.execute("SELECT count(*) FROM items").fetchone())
    conn.execute("DELETE FROM items")
    conn.rollback()
    print("after rollback:", conn.execute("SELECT count(*) FROM items").fetchone())
    conn.commit()
    conn.autocommit = True
    conn.execute("DELETE FROM items WHERE id = 25")
    print("autocommit:", conn.autocommit, conn.info.transaction_status.name)
    conn.close()
'''


def test_row_factories_named_cursors_prepared_and_transactions(
        tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, CURSORS)
    recorded, _ = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                    env=program_env(database, impl))
    out = recorded.stdout
    for expected in (
        "one: {'id': 1, 'name': 'item-1', 'price': Decimal('1.5')}",
        "one: Row(id=1, name='item-1', price=Decimal('1.5'))",
        "one: Item(id=1, name='item-1', price=Decimal('1.5'))",
        "iter: [('item-21',), ('item-22',), ('item-23',)] name 25",
        "update: 3 UPDATE 3", "multi: [(1,)] True [('two',)]",
        "named first: {'id': 1, 'name': 'item-1'}",
        "named after scroll: {'id': 11, 'name': 'item-11'} 11",
        "held: [(1,), (2,), (3,), (4,)] id", "prepared: ('item-5',)",
        "savepoint rolled back: undo the inner delete", "count after tx: (23,)",
        "after rollback: (25,)", "autocommit: True IDLE",
    ):
        assert expected in out, expected
