/* Unit tests for replayable dead letters: rules/rules_typed (an event of every value kind to its
 * stored typed form and back, equal value by value; rebuilt table definitions shared per shape),
 * rules/rules_replay (requests and their counts) and the replay step of rules/rules_sink: at the
 * commit of the next streamed transaction a requested dead letter goes through the current rules,
 * re-stamped into that transaction after its own events; after a crash the re-sent transaction
 * replays the same dead letters at the same positions (even with new requests in between); a
 * replay that fails again becomes a new dead letter (recorded once), and dead letters reach the
 * downstream sinks' dead_letter op. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "capture/pg_types.h"
#include "rules/rules_replay.h"
#include "rules/rules_sink.h"
#include "rules/rules_store.h"
#include "rules/rules_typed.h"
#include "support/store_fixture.h"

/* ---- typed round trip ---------------------------------------------------------------------------- */

/* One column per case: PostgreSQL's text of a value of that type, as the capture receives it. */
static const struct {
    const char *name;
    uint32_t oid;
    const char *text;   /* NULL: SQL NULL in the after image */
} kinds[] = {
    {"b", 16, "t"},
    {"i2", 21, "-32768"},
    {"i4", 23, "2147483647"},
    {"i8", 20, "-9223372036854775808"},
    {"o", 26, "4294967295"},
    {"f4", 700, "1.5"},
    {"f8", 701, "-1.2345678901234567e-300"},
    {"f8nan", 701, "NaN"},
    {"f8inf", 701, "-Infinity"},
    {"n", 1700, "-12.3400"},
    {"nnan", 1700, "NaN"},
    {"m", 790, "-$1,234,567.89"},
    {"by", 17, "\\x00ff10ab"},
    {"by0", 17, "\\x"},
    {"d", 1082, "0044-03-15 BC"},
    {"dinf", 1082, "infinity"},
    {"t", 1083, "23:59:59.999999"},
    {"ttz", 1266, "12:34:56.789+05:30"},
    {"ts", 1114, "2024-02-29 13:45:06.123456"},
    {"tsinf", 1114, "-infinity"},
    {"tstz", 1184, "2024-01-02 03:04:05.678901+00"},
    {"iv", 1186, "-1 years -2 mons +3 days -04:05:06.789"},
    {"u", 2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {"j", 114, "{\"a\": [1, 2.5, null], \"b\": \"\\u00e9\"}"},
    {"jb", 3802, "{\"k\": true}"},
    {"ip", 869, "192.168.0.1/24"},
    {"mac", 829, "08:00:2b:01:02:03"},
    {"ai", 1007, "{1,NULL,3}"},
    {"atext", 1009, "{\"a b\",NULL,\"c\\\"d\"}"},
    {"txt", 25, "h\xc3\xa9llo, w\xc3\xb6rld"},
    {"latin1", 25, "caf\xe9"},   /* not UTF-8: stored as hex */
    {"mood", 16500, "happy"},    /* an enum */
    {"nul", 25, NULL},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static void value_equal(const column_def *c, const value *a, const value *b)
{
    assert_int_equal(a->state, b->state);
    if (a->state != VALUE_PRESENT)
        return;
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->s, b->s, a->len);
    switch (c->kind) {
    case VALUE_BOOL:
        assert_int_equal(a->v.b, b->v.b);
        break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        assert_memory_equal(&a->v.f, &b->v.f, sizeof a->v.f);   /* NaN too */
        break;
    case VALUE_INTERVAL:
        assert_int_equal(a->v.interval.months, b->v.interval.months);
        assert_int_equal(a->v.interval.days, b->v.interval.days);
        assert_true(a->v.interval.us == b->v.interval.us);
        break;
    case VALUE_UUID:
        assert_memory_equal(a->v.uuid, b->v.uuid, 16);
        break;
    case VALUE_TIMETZ:
        assert_int_equal(a->tz_offset, b->tz_offset);
        assert_true(a->v.i == b->v.i);
        break;
    default:
        assert_true(a->v.i == b->v.i);
    }
}

static void test_typed_round_trip_every_kind(void **state)
{
    (void)state;
    arena *a = arena_create(0);
    column_def cols[NKINDS];
    value before[NKINDS], after[NKINDS];
    char err[256];
    for (size_t i = 0; i < NKINDS; i++) {
        value_kind elem = VALUE_TEXT;
        value_kind kind = pg_type_kind(kinds[i].oid, &elem);
        const char *tn = pg_type_name(kinds[i].oid);
        cols[i] = (column_def){.name = (char *)kinds[i].name, .type_oid = kinds[i].oid, .typmod = -1,
                               .type_name = (char *)(tn ? tn : "public.mood"), .kind = kind, .elem_kind = elem,
                               .is_key = i == 2, .is_pk = i == 2, .not_null = i == 2,
                               .enum_labels = kinds[i].oid == 16500 ? (char *)"sad,ok,happy" : NULL};
        if (kinds[i].oid == 1700)
            cols[i].typmod = ((10 << 16) | 4) + 4;
        if (kinds[i].text) {
            if (pg_value_parse(kind, kinds[i].text, strlen(kinds[i].text), &after[i], a, err, sizeof err) < 0)
                fail_msg("fixture %s: %s", kinds[i].name, err);
        } else {
            after[i] = (value){.state = VALUE_IS_NULL};
        }
        /* the old image: the key, and unchanged TOASTed values elsewhere */
        before[i] = i == 2 ? after[i] : (value){.state = i % 2 ? VALUE_UNAVAILABLE : VALUE_IS_NULL};
    }
    table_def t = {.oid = 16384, .schema = "public", .name = "every kind", .replica_identity = 'f', .version = 3,
                   .ncols = (int)NKINDS, .cols = cols};
    tx_info tx = {.xid = 4000000000u, .final_lsn = 0x1234ABCD00ull, .end_lsn = 0x1234ABCD38ull,
                  .commit_time_us = -62135596800000000LL};
    event ev = {.op = EVENT_UPDATE, .snapshot = SNAPSHOT_NONE, .before_key_only = 1, .table = &t, .before = before,
                .after = after, .lsn = 0x1234ABCC10ull, .tx = &tx, .seq = 77};

    json_t *j = rules_typed_from_event(&ev);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(text);
    assert_non_null(strstr(text, "{\"hex\":\"636166e9\"}"));     /* latin1 text */
    assert_non_null(strstr(text, "{\"hex\":\"00ff10ab\"}"));     /* bytea: its bytes */
    assert_non_null(strstr(text, "{\"unavailable\":true}"));
    /* stored, loaded, rebuilt */
    rules_typed_defs *defs = rules_typed_defs_create();
    arena *b = arena_create(0);
    json_t *back = json_loads(text, JSON_ALLOW_NUL, NULL);
    assert_non_null(back);
    event out;
    if (rules_typed_to_event(back, defs, b, &out, err, sizeof err) < 0)
        fail_msg("rebuild: %s", err);
    assert_int_equal(out.op, EVENT_UPDATE);
    assert_int_equal(out.snapshot, SNAPSHOT_NONE);
    assert_int_equal(out.before_key_only, 1);
    assert_true(out.lsn == ev.lsn);
    assert_true(out.seq == 77);
    assert_non_null(out.tx);
    assert_int_equal(out.tx->xid, tx.xid);
    assert_true(out.tx->final_lsn == tx.final_lsn && out.tx->end_lsn == tx.end_lsn);
    assert_true(out.tx->commit_time_us == tx.commit_time_us);
    const table_def *rt = out.table;
    assert_int_equal(rt->oid, 16384);
    assert_string_equal(rt->schema, "public");
    assert_string_equal(rt->name, "every kind");
    assert_int_equal(rt->replica_identity, 'f');
    assert_int_equal(rt->version, 3);
    assert_int_equal(rt->ncols, (int)NKINDS);
    for (size_t i = 0; i < NKINDS; i++) {
        const column_def *x = &cols[i], *y = &rt->cols[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type_oid, y->type_oid);
        assert_int_equal(x->typmod, y->typmod);
        assert_string_equal(x->type_name, y->type_name);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->elem_kind, y->elem_kind);
        assert_int_equal(x->is_key, y->is_key);
        assert_int_equal(x->is_pk, y->is_pk);
        assert_int_equal(x->not_null, y->not_null);
        if (x->enum_labels)
            assert_string_equal(x->enum_labels, y->enum_labels);
        else
            assert_null(y->enum_labels);
        value_equal(x, &after[i], &out.after[i]);
        value_equal(x, &before[i], &out.before[i]);
    }
    /* the same shape again: the same definition; another shape: a second one */
    event again;
    assert_int_equal(rules_typed_to_event(back, defs, b, &again, err, sizeof err), 0);
    assert_ptr_equal(again.table, out.table);
    assert_int_equal(rules_typed_defs_count(defs), 1);
    json_object_set_new(json_object_get(back, "table"), "version", json_integer(4));
    assert_int_equal(rules_typed_to_event(back, defs, b, &again, err, sizeof err), 0);
    assert_ptr_not_equal(again.table, out.table);
    assert_int_equal(rules_typed_defs_count(defs), 2);
    /* a value that does not parse as its kind is refused, naming the column */
    json_array_set_new(json_object_get(back, "after"), 2, json_string("12x"));
    assert_int_equal(rules_typed_to_event(back, defs, b, &again, err, sizeof err), -1);
    assert_non_null(strstr(err, "column i4"));
    json_decref(back);
    /* an insert without a transaction (an incremental snapshot's row outside one) */
    event ins = {.op = EVENT_READ, .snapshot = SNAPSHOT_INCREMENTAL, .table = &t, .after = after, .lsn = 5};
    j = rules_typed_from_event(&ins);
    assert_int_equal(rules_typed_to_event(j, defs, b, &again, err, sizeof err), 0);
    json_decref(j);
    assert_null(again.tx);
    assert_null(again.before);
    assert_int_equal(again.snapshot, SNAPSHOT_INCREMENTAL);
    assert_int_equal(again.op, EVENT_READ);
    free(text);
    rules_typed_defs_destroy(defs);
    arena_destroy(b);
    arena_destroy(a);
}

/* ---- a recording downstream sink ----------------------------------------------------------------- */

#define REC_MAX 32

typedef struct rec {
    int commits, n, ndead;
    char cur[REC_MAX][32];          /* column cur of each event */
    uint64_t seq[REC_MAX], lsn[REC_MAX];
    const tx_info *tx[REC_MAX];
    int committed_before[REC_MAX];  /* commits seen when the event arrived */
    char dead_rule[REC_MAX][32];
    uint32_t dead_version[REC_MAX];
    uint64_t dead_lsn[REC_MAX], dead_seq[REC_MAX];
} rec;

static void rec_text(char *out, size_t len, const value *v)
{
    snprintf(out, len, "%.*s", v->state == VALUE_PRESENT ? (int)v->len : 0, v->s);
}

static int rec_change(void *self, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    rec *r = self;
    assert_true(r->n < REC_MAX);
    rec_text(r->cur[r->n], sizeof r->cur[0], &ev->after[1]);
    r->seq[r->n] = ev->seq;
    r->lsn[r->n] = ev->lsn;
    r->tx[r->n] = ev->tx;
    r->committed_before[r->n] = r->commits;
    r->n++;
    return 0;
}

static int rec_commit(void *self, const tx_info *x, char *err, size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    ((rec *)self)->commits++;
    return 0;
}

static int rec_flush(void *self, int wait, char *err, size_t errlen)
{
    (void)self, (void)wait, (void)err, (void)errlen;
    return 0;
}

static void rec_destroy(void *self)
{
    (void)self;
}

static int rec_dead(void *self, const sink_dead_letter *dl, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    rec *r = self;
    assert_true(r->ndead < REC_MAX);
    snprintf(r->dead_rule[r->ndead], sizeof r->dead_rule[0], "%s", dl->rule);
    r->dead_version[r->ndead] = dl->version;
    r->dead_lsn[r->ndead] = dl->ev->lsn;
    r->dead_seq[r->ndead] = dl->ev->seq;
    r->ndead++;
    return 0;
}

static const sink_ops rec_ops = {.name = "rec", .change = rec_change, .commit = rec_commit, .flush = rec_flush,
                                 .destroy = rec_destroy, .dead_letter = rec_dead};

/* ---- the table, transactions and rules ------------------------------------------------------------ */

static column_def pcols[2] = {
    {.name = "id", .type_oid = 23, .typmod = -1, .type_name = "int4", .kind = VALUE_INT32, .is_key = 1, .is_pk = 1},
    {.name = "cur", .type_oid = 25, .typmod = -1, .type_name = "text", .kind = VALUE_TEXT},
};
static table_def pay = {.oid = 1, .schema = "public", .name = "pay", .replica_identity = 'd', .ncols = 2,
                        .cols = pcols};
static tx_info tx1 = {.xid = 5, .final_lsn = 0x100, .end_lsn = 0x110, .commit_time_us = 1};
static tx_info tx2 = {.xid = 6, .final_lsn = 0x200, .end_lsn = 0x210, .commit_time_us = 2};
static tx_info tx3 = {.xid = 7, .final_lsn = 0x300, .end_lsn = 0x310, .commit_time_us = 3};

/* Values as the capture makes them: server text, parsed. */
typedef struct row {
    char id[16];
    value v[2];
} row;

static void row_set(row *r, int id, const char *cur)
{
    snprintf(r->id, sizeof r->id, "%d", id);
    char err[128];
    assert_int_equal(pg_value_parse(VALUE_INT32, r->id, strlen(r->id), &r->v[0], NULL, err, sizeof err), 0);
    assert_int_equal(pg_value_parse(VALUE_TEXT, cur, strlen(cur), &r->v[1], NULL, err, sizeof err), 0);
}

/* One transaction of inserts, one per cur value, seq from 0. */
static void run_tx(sink *s, const tx_info *tx, const char *const *curs, int n)
{
    char err[512];
    row rows[8];
    assert_true(n <= 8);
    if (s->ops->begin)
        assert_int_equal(s->ops->begin(s->self, tx, err, sizeof err), 0);
    for (int i = 0; i < n; i++) {
        row_set(&rows[i], 100 * (int)tx->xid + i, curs[i]);
        event ev = {.op = EVENT_CREATE, .table = &pay, .after = rows[i].v, .lsn = tx->final_lsn - 0x80 + (uint64_t)i,
                    .tx = tx, .seq = (uint64_t)i};
        if (s->ops->change(s->self, &ev, err, sizeof err) < 0)
            fail_msg("change: %s", err);
    }
    if (s->ops->commit(s->self, tx, err, sizeof err) < 0)
        fail_msg("commit: %s", err);
}

static void add(store *st, const char *name, const char *src, uint32_t want)
{
    char err[512];
    uint32_t v = 0;
    assert_int_equal(rules_store_add_version(st, name, "public.*", src, "test", "", &v, err, sizeof err), 0);
    assert_int_equal(v, want);
    assert_int_equal(rules_store_activate(st, name, v, err, sizeof err), 0);
}

static void wait_check_interval(void)
{
    struct timespec ts = {1, 150 * 1000 * 1000};   /* the stage checks the store at most once a second */
    nanosleep(&ts, NULL);
}

/* Fails on cur values starting with "bad"; a split into two events otherwise (seq spacing). */
static const char BROKEN[] = "function transform(e)\n"
                             "  if e.after.cur:sub(1, 3) == 'bad' then error('cannot take ' .. e.after.cur) end\n"
                             "  return {e, e}\n"
                             "end\n";
static const char FIXED[] = "function transform(e) e.after.cur = 'fixed:' .. e.after.cur return e end";
static const char STILL_BROKEN[] = "function transform(e) error('still no good: ' .. e.after.cur) end";

/* A single integer from the store (0 when NULL or no row). */
static int64_t q_int(store *st, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return v;
}

static char *q_text(store *st, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
    char *v = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        v = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return v;
}

static sink stage(store *st, rec *r, sink *down)
{
    char err[512];
    sink s;
    *down = (sink){&rec_ops, r};
    rules_sink_deps d = {.st = st, .downstream = down, .ndownstream = 1, .db = "db"};
    if (rules_sink_create(&d, &s, err, sizeof err) < 0)
        fail_msg("rules_sink_create: %s", err);
    return s;
}

static void request(store *st, const int64_t *ids, size_t n, const char *rule, int all, long want)
{
    char err[256];
    rules_replay_counts c;
    assert_int_equal(rules_replay_request(st, ids, n, rule, all, &c, err, sizeof err), 0);
    assert_int_equal(c.requested, want);
}

/* ---- replays in the rules stage ------------------------------------------------------------------- */

static void test_dead_letter_to_sinks_and_replay_restamped(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-replay");
    rec r = {0};
    sink down, s;
    add(f->st, "pay", BROKEN, 1);
    s = stage(f->st, &r, &down);
    run_tx(&s, &tx1, (const char *const[]){"eur", "bad1", "usd"}, 3);
    /* the failing event: recorded with its typed form, and offered to the sinks' dead_letter op */
    assert_int_equal(r.n, 4);
    assert_int_equal(r.ndead, 1);
    assert_string_equal(r.dead_rule[0], "pay");
    assert_int_equal(r.dead_version[0], 1);
    assert_true(r.dead_lsn[0] == 0x81 && r.dead_seq[0] == 1);
    assert_int_equal(q_int(f->st, "SELECT count(*) FROM dead_letters WHERE event_typed IS NOT NULL AND "
                                  "replay_state = 'none' AND length(event_key) = 64"), 1);
    /* fixed; a replay requested; nothing happens before the next transaction's commit */
    add(f->st, "pay", FIXED, 2);
    request(f->st, NULL, 0, "pay", 0, 1);
    wait_check_interval();
    assert_int_equal(r.n, 4);
    /* a snapshot's synthetic transaction does not take it */
    tx_info snap = {.xid = 0, .final_lsn = 0x150, .end_lsn = 0x150};
    run_tx(&s, &snap, (const char *const[]){"snap"}, 1);
    assert_int_equal(r.n, 5);
    /* T2: three events of its own, then the replay, before T2's commit goes downstream */
    run_tx(&s, &tx2, (const char *const[]){"a", "b", "c"}, 3);
    assert_int_equal(r.n, 9);
    assert_string_equal(r.cur[8], "fixed:bad1");
    assert_ptr_equal(r.tx[8], &tx2);
    assert_true(r.lsn[8] == tx2.final_lsn);
    assert_int_equal(r.committed_before[8], r.committed_before[5]);   /* inside T2 */
    for (int i = 5; i < 8; i++)
        assert_true(r.seq[i] < r.seq[8]);   /* after every event of T2 */
    assert_true(r.seq[8] == (2 + 1) * RULES_SEQ_SPLIT * (uint64_t)RULES_SEQ_SPLIT);
    assert_int_equal(q_int(f->st, "SELECT replay_lsn FROM dead_letters WHERE id = 1"), 0x210);
    char *st = q_text(f->st, "SELECT replay_state || ': ' || replay_result FROM dead_letters WHERE id = 1");
    assert_string_equal(st, "replayed: transformed by pay v2 into 1 event(s)");
    free(st);
    /* T3: nothing more */
    run_tx(&s, &tx3, (const char *const[]){"d"}, 1);
    assert_int_equal(r.n, 10);
    s.ops->destroy(s.self);
    store_fixture_destroy(f);
}

static void test_replay_deterministic_after_resend(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-replay");
    rec r = {0};
    sink down, s;
    add(f->st, "pay", BROKEN, 1);
    s = stage(f->st, &r, &down);
    run_tx(&s, &tx1, (const char *const[]){"bad1", "bad2", "ok"}, 3);
    assert_int_equal(q_int(f->st, "SELECT count(*) FROM dead_letters"), 2);
    add(f->st, "pay", FIXED, 2);
    request(f->st, (const int64_t[]){2}, 1, NULL, 0, 1);
    wait_check_interval();
    run_tx(&s, &tx2, (const char *const[]){"x"}, 1);
    assert_int_equal(r.n, 4);   /* 2 + x + the replay of bad2 */
    assert_string_equal(r.cur[3], "fixed:bad2");
    uint64_t first_seq = r.seq[3];
    assert_true(first_seq == 1 * RULES_SEQ_SPLIT * (uint64_t)RULES_SEQ_SPLIT);
    /* a crash after T1 was confirmed, before T2 was; meanwhile bad1 (a lower id) is requested too */
    s.ops->destroy(s.self);
    request(f->st, (const int64_t[]){1, 2}, 2, NULL, 0, 1);
    rec r2 = {0};
    s = stage(f->st, &r2, &down);
    /* PostgreSQL sends T2 again: bad2 at the position it had, bad1 after it */
    run_tx(&s, &tx2, (const char *const[]){"x"}, 1);
    assert_int_equal(r2.n, 3);
    assert_string_equal(r2.cur[0], "fixed:x");
    assert_string_equal(r2.cur[1], "fixed:bad2");
    assert_true(r2.seq[1] == first_seq);
    assert_string_equal(r2.cur[2], "fixed:bad1");
    assert_true(r2.seq[2] == first_seq + RULES_SEQ_SPLIT);
    assert_int_equal(q_int(f->st, "SELECT count(*) FROM dead_letters WHERE replay_lsn = 528 AND "
                                  "replay_state = 'replayed'"), 2);
    /* T3: both are done */
    run_tx(&s, &tx3, (const char *const[]){"y"}, 1);
    assert_int_equal(r2.n, 4);
    s.ops->destroy(s.self);
    /* a third start: from T3 on, T2's replays are done and never happen again */
    rec r3 = {0};
    s = stage(f->st, &r3, &down);
    run_tx(&s, &tx3, (const char *const[]){"y"}, 1);
    tx_info tx4 = {.xid = 8, .final_lsn = 0x400, .end_lsn = 0x410};
    run_tx(&s, &tx4, (const char *const[]){"z"}, 1);
    assert_int_equal(r3.n, 2);
    s.ops->destroy(s.self);
    store_fixture_destroy(f);
}

static void test_replay_fails_again_or_passes(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-replay");
    rec r = {0};
    sink down, s;
    char err[256];
    add(f->st, "pay", BROKEN, 1);
    s = stage(f->st, &r, &down);
    run_tx(&s, &tx1, (const char *const[]){"bad1", "bad2"}, 2);
    add(f->st, "pay", STILL_BROKEN, 2);
    request(f->st, NULL, 0, NULL, 1, 2);
    wait_check_interval();
    run_tx(&s, &tx2, NULL, 0);
    /* both failed again: two new dead letters of version 2, re-stamped into T2, pointing back */
    assert_int_equal(r.n, 0);
    assert_int_equal(r.ndead, 4);
    assert_int_equal(r.dead_version[2], 2);
    assert_true(r.dead_lsn[2] == tx2.final_lsn && r.dead_seq[2] == 0 && r.dead_seq[3] == 1);
    assert_int_equal(q_int(f->st, "SELECT count(*) FROM dead_letters WHERE version = 2 AND replay_of IN (1, 2) "
                                  "AND error LIKE '%still no good: bad%' AND replay_state = 'none'"), 2);
    /* a crash before T2 was confirmed: sent again, replayed again, failing again: recorded once */
    s.ops->destroy(s.self);
    rec r2 = {0};
    s = stage(f->st, &r2, &down);
    run_tx(&s, &tx2, NULL, 0);
    assert_int_equal(r2.ndead, 2);   /* offered to the sinks again (Kafka is at-least-once) */
    assert_int_equal(q_int(f->st, "SELECT count(*) FROM dead_letters"), 4);
    char *res = q_text(f->st, "SELECT replay_result FROM dead_letters WHERE id = 1");
    assert_string_equal(res, "failed again with pay v2: dead letter 3");
    free(res);
    /* already replayed: not again; the new ones can be */
    rules_replay_counts c;
    assert_int_equal(rules_replay_request(f->st, (const int64_t[]){1, 3, 99}, 3, NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.requested, 1);
    assert_int_equal(c.already, 1);
    assert_int_equal(c.missing, 1);
    /* deactivated: the replay passes through unchanged */
    assert_int_equal(rules_store_activate(f->st, "pay", 0, err, sizeof err), 0);
    wait_check_interval();
    run_tx(&s, &tx3, (const char *const[]){"c"}, 1);
    assert_int_equal(r2.n, 2);
    assert_string_equal(r2.cur[0], "c");
    assert_string_equal(r2.cur[1], "bad1");
    assert_true(r2.seq[1] == 1 * RULES_SEQ_SPLIT);
    res = q_text(f->st, "SELECT replay_result FROM dead_letters WHERE id = 3");
    assert_string_equal(res, "passed on unchanged: no active rule for public.pay");
    free(res);
    s.ops->destroy(s.self);
    store_fixture_destroy(f);
}

static void test_replay_requests(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-replay");
    char err[256];
    rules_replay_counts c;
    assert_int_equal(rules_replay_counter(f->st), 0);
    assert_int_equal(rules_replay_request(f->st, NULL, 0, NULL, 0, &c, err, sizeof err), -1);
    /* one recorded before replays existed, two of rule a, one of rule b */
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "INSERT INTO dead_letters (ts, rule, version, error, table_name, lsn, event) "
                                  "VALUES (1, 'a', 1, 'e', 'public.t', '0/1', '{}');"
                                  "INSERT INTO dead_letters (ts, rule, version, error, table_name, lsn, event, "
                                  "event_typed) VALUES (1, 'a', 1, 'e', 'public.t', '0/1', '{}', '{}'), "
                                  "(1, 'a', 1, 'e', 'public.t', '0/1', '{}', '{}'), "
                                  "(1, 'b', 1, 'e', 'public.t', '0/1', '{}', '{}')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(rules_replay_request(f->st, NULL, 0, "a", 0, &c, err, sizeof err), 0);
    assert_int_equal(c.requested, 2);
    assert_int_equal(c.unreplayable, 1);
    assert_int_equal(c.already, 0);
    assert_int_equal(rules_replay_counter(f->st), 1);
    assert_int_equal(rules_replay_request(f->st, NULL, 0, NULL, 1, &c, err, sizeof err), 0);
    assert_int_equal(c.requested, 1);
    assert_int_equal(c.already, 2);
    assert_int_equal(c.unreplayable, 1);
    assert_int_equal(rules_replay_counter(f->st), 2);
    /* nothing marked: the counter stays */
    assert_int_equal(rules_replay_request(f->st, (const int64_t[]){1, 50}, 2, NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.requested, 0);
    assert_int_equal(c.unreplayable, 1);
    assert_int_equal(c.missing, 1);
    assert_int_equal(rules_replay_counter(f->st), 2);
    /* taking: in id order, positions from 0, assigned to the transaction */
    rules_replay_item *items;
    size_t n;
    int more;
    assert_int_equal(rules_replay_take(f->st, 0x500, 1, &items, &n, &more, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(more, 0);
    assert_int_equal(items[0].id, 2);
    assert_int_equal(items[2].id, 4);
    assert_int_equal(items[2].seq, 2);
    rules_replay_items_free(items, n);
    uint64_t *lsns;
    assert_int_equal(rules_replay_assigned(f->st, &lsns, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_true(lsns[0] == 0x500);
    free(lsns);
    store_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_round_trip_every_kind),
        cmocka_unit_test(test_dead_letter_to_sinks_and_replay_restamped),
        cmocka_unit_test(test_replay_deterministic_after_resend),
        cmocka_unit_test(test_replay_fails_again_or_passes),
        cmocka_unit_test(test_replay_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
