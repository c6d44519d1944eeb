#!/usr/bin/env python3
"""silver_workload: the randomized workload of the lake_silver test, as psql scripts.

  silver_workload.py DIR SEED PART...

Writes DIR/schema.sql (tables with rows that exist before the capture starts, so they arrive as
snapshot reads) and one DIR/<name>.sql per PART ("NAME:N[:PAUSE_MS]": N transactions with a
pause after each commit). The tables:
  acct (id int PRIMARY KEY, name text, balance numeric(12,2), note text, updated timestamptz,
        active boolean)   note is stored out of line (STORAGE EXTERNAL, ~3 kB values), so an
                          update that leaves it alone sends it as an unchanged TOAST datum
  line (order_id int, line int, qty bigint, price double precision, PRIMARY KEY (order_id, line))
  nokey (a int, b text)   no primary key (REPLICA IDENTITY FULL): silver skips it
Transactions hold 1-6 operations: inserts, updates of a few columns (TOAST left alone),
updates of the TOASTed column, primary-key changes, deletes, several changes of one row, and
now and then an insert-then-delete of one key. Parts continue one another's state.
"""
import random
import string
import sys

out_dir, seed, parts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rnd = random.Random(seed)
acct = set(range(1, 41))
line = {(o, l) for o in range(1, 11) for l in range(1, 4)}
next_acct = 1000


def note():
    if rnd.random() < 0.1:
        return "NULL"
    if rnd.random() < 0.2:
        return "'short note %d'" % rnd.randrange(1000)
    text = "".join(rnd.choice(string.ascii_letters + " ") for _ in range(rnd.randrange(2500, 4000)))
    return "'" + text + "'"


def name():
    return "'" + rnd.choice(["ana", "bo", "chen", "dara", "émile", "o''neil", "zoë"]) + str(rnd.randrange(100)) + "'"


def money():
    return "%d.%02d" % (rnd.randrange(-5000, 100000), rnd.randrange(100))


def ts():
    return "'2026-%02d-%02d %02d:%02d:%02d.%06d+00'" % (rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.randrange(24),
                                                         rnd.randrange(60), rnd.randrange(60), rnd.randrange(1000000))


def acct_op():
    global next_acct
    r = rnd.random()
    if r < 0.25 or len(acct) < 5:
        next_acct += 1
        acct.add(next_acct)
        return (f"INSERT INTO acct VALUES ({next_acct}, {name()}, {money()}, {note()}, {ts()}, "
                f"{rnd.choice(['true', 'false', 'NULL'])});")
    k = rnd.choice(sorted(acct))
    if r < 0.50:
        return f"UPDATE acct SET balance = {money()}, updated = {ts()} WHERE id = {k};"
    if r < 0.60:
        return f"UPDATE acct SET note = {note()}, active = NOT coalesce(active, false) WHERE id = {k};"
    if r < 0.70:
        next_acct += 1
        acct.discard(k)
        acct.add(next_acct)
        return f"UPDATE acct SET id = {next_acct}, name = {name()} WHERE id = {k};"
    if r < 0.80:
        return (f"UPDATE acct SET balance = balance + 1 WHERE id = {k}; "
                f"UPDATE acct SET name = {name()} WHERE id = {k};")
    if r < 0.85:
        next_acct += 1
        return (f"INSERT INTO acct VALUES ({next_acct}, {name()}, {money()}, {note()}, {ts()}, true); "
                f"DELETE FROM acct WHERE id = {next_acct};")
    acct.discard(k)
    return f"DELETE FROM acct WHERE id = {k};"


def line_op():
    r = rnd.random()
    if r < 0.35 or len(line) < 5:
        o, l = rnd.randrange(1, 30), rnd.randrange(1, 50)
        while (o, l) in line:
            o, l = rnd.randrange(1, 30), rnd.randrange(1, 50)
        line.add((o, l))
        return f"INSERT INTO line VALUES ({o}, {l}, {rnd.randrange(-10**12, 10**12)}, {rnd.uniform(-1e6, 1e6)!r});"
    o, l = rnd.choice(sorted(line))
    if r < 0.65:
        return f"UPDATE line SET qty = qty + {rnd.randrange(1, 9)}, price = {rnd.uniform(0, 100)!r} WHERE order_id = {o} AND line = {l};"
    if r < 0.80:
        nl = l + 100
        while (o, nl) in line:
            nl += 100
        line.discard((o, l))
        line.add((o, nl))
        return f"UPDATE line SET line = {nl} WHERE order_id = {o} AND line = {l};"
    line.discard((o, l))
    return f"DELETE FROM line WHERE order_id = {o} AND line = {l};"


with open(f"{out_dir}/schema.sql", "w") as f:
    f.write("""\\set ON_ERROR_STOP 1
CREATE TABLE acct (id int PRIMARY KEY, name text, balance numeric(12,2), note text, updated timestamptz,
                   active boolean);
ALTER TABLE acct ALTER COLUMN note SET STORAGE EXTERNAL;
CREATE TABLE line (order_id int, line int, qty bigint, price double precision, PRIMARY KEY (order_id, line));
CREATE TABLE nokey (a int, b text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
""")
    for k in sorted(acct):
        f.write(f"INSERT INTO acct VALUES ({k}, {name()}, {money()}, {note()}, {ts()}, true);\n")
    for o, l in sorted(line):
        f.write(f"INSERT INTO line VALUES ({o}, {l}, {rnd.randrange(1000)}, {rnd.uniform(0, 10)!r});\n")
    f.write("INSERT INTO nokey VALUES (1, 'a'), (2, 'b');\n")

for part in parts:
    fields = part.split(":")
    pname, n = fields[0], int(fields[1])
    pause = int(fields[2]) if len(fields) > 2 else 0
    with open(f"{out_dir}/{pname}.sql", "w") as f:
        f.write("\\set ON_ERROR_STOP 1\n")
        for _ in range(n):
            f.write("BEGIN;\n")
            for _ in range(rnd.randrange(1, 7)):
                r = rnd.random()
                f.write((acct_op() if r < 0.6 else line_op() if r < 0.95 else
                         f"INSERT INTO nokey VALUES ({rnd.randrange(100)}, 'x');") + "\n")
            f.write("COMMIT;\n")
            if pause:
                f.write(f"SELECT pg_sleep({pause / 1000.0});\n")
