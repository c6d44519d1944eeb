#!/usr/bin/env bash
# Dead letters on Kafka and their replay, against PostgreSQL 15, a `sluice run` daemon producing to
# a Kafka mock cluster, and kcat as the independent reader:
#  - a rule that fails on negative amounts: those events go to the dead-letter topic rp.dlq (keyed
#    and encoded as on their own topic, with Kafka Connect's dead-letter context headers), the
#    others to rp.public.pay transformed; a transaction holding a dead letter is confirmed to
#    PostgreSQL only once its DLQ record is delivered (the DLQ topic's metadata is held back first:
#    the transaction's normal event arrives, the slot does not move; released, it does);
#  - the rule is fixed (version 2), a replay is requested with `sluice rules dead-letters replay`,
#    the daemon is killed (kill -9) before any transaction and restarted: the request survives;
#  - the brokers go down, one source transaction T is made: the daemon replays the dead letters
#    into T (recorded in the store) but cannot deliver; killed again, brokers up, restarted:
#    PostgreSQL sends T again and the same dead letters are replayed into it the same way;
#  - kcat: every dead-lettered event is on rp.public.pay exactly once, transformed by version 2,
#    inside T (its txId, after T's own event), nothing else duplicated; the DLQ holds exactly the
#    six; the dead letters show 'replayed' with T's end LSN and the outcome; later transactions
#    replay nothing more.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 not found (install the Debian package sqlite3)"
pg_start
kafka_mock_start 1

psql_q "CREATE TABLE pay (id int PRIMARY KEY, amount numeric(10,2), note text)"
# replays wait for a source transaction here (the test makes T itself); section E checks the default
sluice_start r kafka.topic_prefix=rp kafka.decimal_handling_mode=string rules.replay_writes_transaction=false
wait_slot_active r 60
state=$test_tmp/r.state
rules() { "$SLUICE_BIN" rules "$@" --state-dir "$state"; }
db() { sqlite3 -cmd ".timeout 5000" "$state/sluice.db" "$@"; }
settle() { sleep 1.3; }   # the rules stage looks at the store at most once a second

cat >"$test_tmp/broken.lua" <<'LUA'
function transform(e)
  if e.after and tonumber(e.after.amount) < 0 then
    error("negative amount " .. e.after.amount)
  end
  e.after.note = "v1"
  return e
end
LUA
cat >"$test_tmp/fixed.lua" <<'LUA'
function transform(e)
  if e.after then
    e.after.note = tonumber(e.after.amount) < 0 and "refund v2" or "v2"
  end
  return e
end
LUA

# ---- A: a dead letter holds back its transaction's confirmation until its DLQ record is delivered
kafka_mock_cmd topic_error rp.dlq LEADER_NOT_AVAILABLE
rules add pay --pattern public.pay --file "$test_tmp/broken.lua" --activate >/dev/null
settle
psql_q "INSERT INTO pay VALUES (1, 1.50, NULL), (2, -2.50, NULL)"
lsn_a=$(wal_lsn_num)
kafka_wait_count rp.public.pay 1 60 "$test_tmp/pay.jsonl"
sleep 3
[ "$(slot_confirmed_num r)" -lt "$lsn_a" ] ||
    fail "the transaction was confirmed before its dead letter reached the DLQ topic"
kafka_mock_cmd clear
wait_slot_confirmed r "$lsn_a" 60
pass "a transaction is confirmed only once its DLQ record is delivered"

# ---- B: a workload; negative amounts are dead letters ---------------------------------------------
for i in $(seq 3 2 21); do
    a=$((i % 4 == 0 ? -i : i)) b=$(((i + 1) % 4 == 0 ? -(i + 1) : i + 1))
    echo "BEGIN; INSERT INTO pay VALUES ($i, $a.50, NULL), ($((i + 1)), $b.50, NULL); COMMIT;"
done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
wait_slot_confirmed r "$(wal_lsn_num)" 60
kafka_wait_count rp.dlq 6 30 "$test_tmp/dlq.jsonl"
kafka_wait_count rp.public.pay 16 30 "$test_tmp/pay.jsonl"
python3 - "$test_tmp/dlq.jsonl" "$test_tmp/pay.jsonl" <<'PY'
import json, sys
dlq = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pay = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)
neg = [2, 4, 8, 12, 16, 20]
check(sorted(json.loads(m["key"])["id"] for m in dlq) == neg, f"DLQ keys: {[m['key'] for m in dlq]}")
for m in dlq:
    n = json.loads(m["key"])["id"]
    check(m["key"] == json.dumps({"id": n}, separators=(",", ":")), f"DLQ key {m['key']!r} is not Debezium's")
    h = dict(zip(m["headers"][0::2], m["headers"][1::2]))
    want = {"__connect.errors.topic": "rp.public.pay", "__connect.errors.connector.name": "rp",
            "__connect.errors.stage": "TRANSFORMATION", "__connect.errors.class.name": "pay",
            "__connect.errors.exception.class.name": "io.sluice.rules.RuleError", "sluice.rule.version": "1"}
    for k, v in want.items():
        check(h.get(k) == v, f"DLQ {n}: header {k} = {h.get(k)!r}, want {v!r}")
    check(h.get("__connect.errors.exception.message", "").endswith(f"pay:3: negative amount -{n}.50"),
          f"DLQ {n}: exception message {h.get('__connect.errors.exception.message')!r}")
    v = json.loads(m["payload"])
    check(v["op"] == "c" and v["before"] is None and v["after"] == {"id": n, "amount": f"-{n}.50", "note": None},
          f"DLQ {n}: the event is not as captured: {v}")
    check(v["source"]["name"] == "rp" and v["source"]["table"] == "pay" and v.get("transaction") is None,
          f"DLQ {n}: source {v['source']}")
ids = sorted(json.loads(m["key"])["id"] for m in pay)
check(ids == sorted(set(range(1, 23)) - set(neg)), f"normal topic ids: {ids}")
check(all(json.loads(m["payload"])["after"]["note"] == "v1" for m in pay), "normal events not transformed by v1")
if fails:
    print("\n".join(fails))
    sys.exit(1)
PY
[ "$(db "SELECT count(*) FROM dead_letters WHERE replay_state = 'none' AND event_typed IS NOT NULL")" = 6 ] ||
    fail "dead letters in the store: $(db 'SELECT id, rule, replay_state FROM dead_letters')"
pass "dead letters on rp.dlq with Kafka Connect's context headers, the other events transformed"

# ---- C: fixed, replay requested, crash before any transaction ---------------------------------------
rules add pay --pattern public.pay --file "$test_tmp/fixed.lua" --activate >/dev/null
rules dead-letters replay --rule pay >"$test_tmp/replay.out"
grep -q "^6 dead letter(s) requested for replay" "$test_tmp/replay.out" || fail "replay: $(cat "$test_tmp/replay.out")"
grep -q "on an idle source it writes one" "$test_tmp/replay.out" || fail "replay does not say when: $(cat "$test_tmp/replay.out")"
sluice_kill r
sluice_start r
wait_slot_active r 60
settle
[ "$(db "SELECT count(*) FROM dead_letters WHERE replay_state = 'requested'")" = 6 ] ||
    fail "the requests did not survive the restart: $(db 'SELECT id, replay_state FROM dead_letters')"

# ---- D: T with the brokers down; crash before it is delivered; T is sent again ----------------------
kafka_mock_cmd down all
psql_q "INSERT INTO pay VALUES (100, 100.00, NULL)"
lsn_t=$(wal_lsn_num)
for ((i = 0; i < 300; i++)); do
    [ "$(db "SELECT count(*) FROM dead_letters WHERE replay_state = 'replayed'")" = 6 ] && break
    sluice_check_alive
    sleep 0.1
done
replay_lsn=$(db "SELECT group_concat(DISTINCT replay_lsn) FROM dead_letters WHERE replay_state = 'replayed'")
[ -n "$replay_lsn" ] && [ "$replay_lsn" -le "$lsn_t" ] || fail "T did not take the replays: $replay_lsn"
[ "$(slot_confirmed_num r)" -lt "$replay_lsn" ] || fail "T was confirmed with the brokers down"
sluice_kill r
kafka_mock_cmd up all
sluice_start r
wait_slot_confirmed r "$lsn_t" 60
psql_q "INSERT INTO pay VALUES (101, 101.00, NULL)"   # a later transaction replays nothing
wait_slot_confirmed r "$(wal_lsn_num)" 60
kafka_wait_count rp.public.pay 24 30 "$test_tmp/pay.jsonl"
kafka_consume rp.dlq "$test_tmp/dlq.jsonl"
db -json "SELECT id, replay_state, replay_lsn, replay_result FROM dead_letters ORDER BY id" >"$test_tmp/dead.json"
rules dead-letters >"$test_tmp/dead.txt"
python3 - "$test_tmp/pay.jsonl" "$test_tmp/dlq.jsonl" "$test_tmp/dead.json" "$replay_lsn" <<'PY'
import collections, json, sys
pay = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
dlq = [l for l in open(sys.argv[2]) if l.strip()]
dead = json.load(open(sys.argv[3]))
replay_lsn = int(sys.argv[4])
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)
neg = [2, 4, 8, 12, 16, 20]
events = [((m["partition"], m["offset"]), json.loads(m["payload"])) for m in pay]
count = collections.Counter(v["after"]["id"] for _, v in events)
check(all(c == 1 for c in count.values()), f"duplicates on the normal topic: {[k for k, c in count.items() if c > 1]}")
check(sorted(count) == sorted(set(range(1, 23)) | {100, 101}), f"ids on the normal topic: {sorted(count)}")
t = [(o, v) for o, v in events if v["after"]["id"] == 100][0]
for n in neg:
    o, v = [(o, v) for o, v in events if v["after"]["id"] == n][0]
    check(v["after"] == {"id": n, "amount": f"-{n}.50", "note": "refund v2"} and v["op"] == "c",
          f"replayed {n}: {v['after']} (op {v['op']})")
    check(v["source"]["txId"] == t[1]["source"]["txId"], f"replayed {n}: txId {v['source']['txId']}, not T's")
    check((o[0] != t[0][0] or o[1] > t[0][1]) and v["source"]["lsn"] > t[1]["source"]["lsn"],
          f"replayed {n} is not after T's own event")
check(t[1]["after"]["note"] == "v2", "T's own event not transformed by v2")
check(len(dlq) == 6, f"{len(dlq)} messages on the DLQ, want 6")
check(len(dead) == 6 and all(d["replay_state"] == "replayed" and d["replay_lsn"] == replay_lsn and
                             d["replay_result"] == "transformed by pay v2 into 1 event(s)" for d in dead),
      f"dead letters after the replay: {dead}")
if fails:
    print("\n".join(fails))
    sys.exit(1)
PY
[ "$(grep -c 'replayed (transformed by pay v2 into 1 event(s))' "$test_tmp/dead.txt")" = 6 ] ||
    fail "sluice rules dead-letters: $(cat "$test_tmp/dead.txt")"
grep -q "dead letter(s) replayed in transaction .*again: PostgreSQL sent it again" "$test_tmp/r.log" ||
    fail "the restarted daemon did not replay T again"
pass "dead letters replayed after the fix exactly once, into the next transaction, the same way after a crash"

# ---- E: by default a replay does not wait for the source: the daemon writes the transaction ---------
sluice_stop r
"$SLUICE_BIN" config unset rules.replay_writes_transaction --state-dir "$state" >/dev/null   # the default
sluice_start r
wait_slot_active r 60
rules activate pay 1 >/dev/null   # the broken version again: one more dead letter
settle
psql_q "INSERT INTO pay VALUES (200, -200.50, NULL)"
wait_slot_confirmed r "$(wal_lsn_num)" 60
id=$(db "SELECT id FROM dead_letters WHERE replay_state = 'none' AND event_typed IS NOT NULL")
[ -n "$id" ] || fail "no new dead letter: $(db 'SELECT id, replay_state FROM dead_letters')"
rules activate pay 2 >/dev/null
settle
rules dead-letters replay --id "$id" >/dev/null
lsn_idle=$(wal_lsn_num)   # nothing is written to the source from here on
for ((i = 0; i < 150; i++)); do
    [ "$(db "SELECT replay_state FROM dead_letters WHERE id = $id")" = replayed ] && break
    sluice_check_alive
    sleep 0.2
done
[ "$(db "SELECT replay_state FROM dead_letters WHERE id = $id")" = replayed ] ||
    fail "on an idle source the replay did not happen: $(db "SELECT id, replay_state FROM dead_letters WHERE id = $id")"
kafka_wait_count rp.public.pay 25 30 "$test_tmp/pay.jsonl"   # 24 before, and 200 replayed
python3 - "$test_tmp/pay.jsonl" "$lsn_idle" <<'PY'
import json, sys
vals = [json.loads(json.loads(l)["payload"]) for l in open(sys.argv[1]) if l.strip()]
got = [v for v in vals if v["after"]["id"] == 200]
if len(got) != 1 or got[0]["after"]["note"] != "refund v2" or got[0]["source"]["lsn"] <= int(sys.argv[2]):
    print(f"the replayed event 200: {got}")
    sys.exit(1)
PY
grep -q "wrote a transaction for work that waits for one" "$test_tmp/r.log" || fail "no transaction written for the replay"
wait_slot_confirmed r "$(wal_lsn_num)" 60
sluice_stop r
pass "on an idle source the daemon writes the transaction that carries the replay"
