"""The realistic scenario: a small order service recorded, then replayed with its database gone."""

from __future__ import annotations

from pathlib import Path

from retrace.testing import record_and_replay

from .conftest import Database, program_env, write_program

ORDER_SERVICE = '''
    import os
    from decimal import Decimal

    import psycopg
    from psycopg import errors
    from psycopg.rows import dict_row

    print("impl:", psycopg.pq.__impl__)
    conn = psycopg.connect(os.environ["APP_DSN"])
    with conn.transaction():
        conn.execute("""
            CREATE TABLE customers (
                id serial PRIMARY KEY,
                email text UNIQUE NOT NULL,
                created timestamptz NOT NULL DEFAULT now())""")
        conn.execute("""
            CREATE TABLE orders (
                id serial PRIMARY KEY,
                customer_id int NOT NULL REFERENCES customers(id),
                sku text NOT NULL,
                quantity int NOT NULL CHECK (quantity > 0),
                price numeric(10, 2) NOT NULL)""")


    def add_customer(email):
        """Insert a customer; on a duplicate email, retry once with a suffixed one."""
        for attempt in range(2):
            try:
                with conn.transaction():
                    row = conn.execute(
                        "INSERT INTO customers (email) VALUES (%s) RETURNING id, created",
                        (email,)).fetchone()
                    print("customer", email, "->", row[0], "created is tz-aware:",
                          row[1].tzinfo is not None)
                    return row[0]
            except errors.UniqueViolation as exc:
                print("duplicate:", type(exc).__name__, exc.sqlstate, exc.diag.constraint_name,
                      exc.diag.table_name, "|", exc.diag.message_detail)
                email = email.replace("@", f"+{attempt + 1}@")
        raise RuntimeError("could not add customer")


    alice = add_customer("alice@example.com")
    bob = add_customer("bob@example.com")
    again = add_customer("alice@example.com")
    print("retried customer id:", again)

    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO orders (customer_id, sku, quantity, price) VALUES (%s, %s, %s, %s)",
            [(alice, "apple", 3, Decimal("0.50")), (alice, "pear", 1, Decimal("1.25")),
             (bob, "apple", 10, Decimal("0.45")), (again, "fig", 2, Decimal("2.10"))])
        print("executemany rowcount:", cur.rowcount)
    conn.commit()

    try:
        with conn.transaction():
            conn.execute("UPDATE orders SET quantity = quantity * 100 WHERE sku = 'apple'")
            conn.execute("INSERT INTO orders (customer_id, sku, quantity, price) "
                         "VALUES (%s, 'bad', 0, 1)", (bob,))
    except errors.CheckViolation as exc:
        print("rolled back:", type(exc).__name__, exc.sqlstate, exc.diag.constraint_name)

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("""
            SELECT c.email, count(o.id) AS orders, sum(o.quantity) AS items,
                   sum(o.quantity * o.price) AS total, max(o.price) AS top_price
            FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
            GROUP BY c.email ORDER BY total DESC NULLS LAST""")
        print("report columns:", [d.name for d in cur.description], cur.rowcount,
              cur.statusmessage)
        for row in cur:
            print("report:", row)
    total = conn.execute("SELECT sum(quantity * price) FROM orders").fetchone()[0]
    print("grand total:", repr(total), type(total).__name__)
    print("transaction status:", conn.info.transaction_status.name)
    conn.close()
    print("closed:", conn.closed)
'''


def test_order_service_replays_without_the_database(
        tmp_path: Path, database: Database, impl: str) -> None:
    program = write_program(tmp_path, ORDER_SERVICE)
    recorded, replayed = record_and_replay(program, tmp_path / "rec", between=database.drop,
                                           env=program_env(database, impl))
    assert not database.exists()
    out = recorded.stdout
    assert f"impl: {impl}" in out
    assert "duplicate: UniqueViolation 23505 customers_email_key customers |" in out
    assert "Key (email)=(alice@example.com) already exists." in out
    assert "customer alice+1@example.com -> 4 created is tz-aware: True" in out
    assert "executemany rowcount: 4" in out
    assert "rolled back: CheckViolation 23514 orders_quantity_check" in out
    assert "report columns: ['email', 'orders', 'items', 'total', 'top_price'] 3 SELECT 3" in out
    assert ("report: {'email': 'bob@example.com', 'orders': 1, 'items': 10, "
            "'total': Decimal('4.50'), 'top_price': Decimal('0.45')}") in out
    assert "grand total: Decimal('11.45') Decimal" in out
    assert "transaction status: INTRANS" in out
    assert "closed: True" in out
    assert replayed.stdout == out
