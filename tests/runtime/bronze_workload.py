#!/usr/bin/env python3
"""bronze_workload: the deterministic workload of the lake_bronze* tests, as psql scripts.

  bronze_workload.py DIR SEED PART...

Writes DIR/schema.sql (four tables: orders with 50 seeded rows, items with a composite key,
events_nokey without a key under REPLICA IDENTITY FULL, blobs) and one DIR/<name>.sql per PART:
  NAME:N[:PAUSE_MS]  N transactions of 1-6 random inserts, updates and deletes across orders,
                     items and events_nokey, with a pause after each commit
  NAME:big           one transaction writing ~2 MiB of incompressible text to blobs (it must be
                     split across bronze objects) and touching orders
Parts continue one another's state (keys that exist), in the order given.
"""
import random
import sys

out_dir, seed, parts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rnd = random.Random(seed)
orders = set(range(1, 51))
next_id = 51
items = set()

with open(f"{out_dir}/schema.sql", "w") as f:
    f.write("""\\set ON_ERROR_STOP 1
CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, amount numeric(12,2), note text);
CREATE TABLE items (order_id int, line int, qty int, PRIMARY KEY (order_id, line));
CREATE TABLE events_nokey (kind text, payload text);
ALTER TABLE events_nokey REPLICA IDENTITY FULL;
CREATE TABLE blobs (id int PRIMARY KEY, body text);
INSERT INTO orders SELECT g, 'new', g * 1.5, 'seed ' || g FROM generate_series(1, 50) g;
""")


def statement():
    global next_id
    r = rnd.random()
    if r < 0.35 or not orders:
        s = f"INSERT INTO orders VALUES ({next_id}, 'new', {rnd.randint(1, 99999) / 100}, 'n{next_id}');"
        orders.add(next_id)
        next_id += 1
        return s
    if r < 0.6:
        return f"UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id = {rnd.choice(sorted(orders))};"
    if r < 0.7:
        o = rnd.choice(sorted(orders))
        orders.discard(o)
        items.difference_update({k for k in items if k[0] == o})
        return f"DELETE FROM items WHERE order_id = {o}; DELETE FROM orders WHERE id = {o};"
    if r < 0.85:
        o, line = rnd.choice(sorted(orders)), rnd.randint(1, 5)
        if (o, line) in items:
            return f"UPDATE items SET qty = qty + 1 WHERE order_id = {o} AND line = {line};"
        items.add((o, line))
        return f"INSERT INTO items VALUES ({o}, {line}, 1);"
    return f"INSERT INTO events_nokey VALUES ('k{rnd.randint(1, 3)}', 'p{rnd.randint(1, 1000)}');"


for spec in parts:
    name, kind, *rest = spec.split(":")
    lines = ["\\set ON_ERROR_STOP 1"]
    if kind == "big":
        lines += ["BEGIN;",
                  "INSERT INTO blobs SELECT g, string_agg(md5(g::text || ':' || i::text), '') "
                  "FROM generate_series(1, 4000) g, generate_series(1, 16) i GROUP BY g;",
                  "UPDATE orders SET note = 'big tx' WHERE id = (SELECT min(id) FROM orders);", "COMMIT;"]
    else:
        pause = int(rest[0]) if rest else 0
        for _ in range(int(kind)):
            lines.append("BEGIN;")
            lines += [statement() for _ in range(rnd.randint(1, 6))]
            lines.append("COMMIT;" + (f" SELECT pg_sleep({pause / 1000});" if pause else ""))
    with open(f"{out_dir}/{name}.sql", "w") as f:
        f.write("\n".join(lines) + "\n")
