/* Unit tests for rules/rules_sink and rules/rules_store: the rules stage between the capture and
 * a recording test sink. Rule versions, activation, rollback and deactivation in the store; a
 * change is picked up only at a transaction's begin, never between two events of one
 * transaction; dead letters land in the store with the captured event; reference data serves
 * sluice.lookup; split events get distinct sequence numbers and their own routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules/rules_sink.h"
#include "rules/rules_store.h"
#include "support/store_fixture.h"

/* ---- a table and events ------------------------------------------------------------------------- */

static column_def cols[2] = {
    {.name = "id", .type_oid = 23, .typmod = -1, .type_name = "int4", .kind = VALUE_INT32, .is_key = 1, .is_pk = 1},
    {.name = "cur", .type_oid = 25, .typmod = -1, .type_name = "text", .kind = VALUE_TEXT},
};
static table_def t = {.oid = 1, .schema = "public", .name = "pay", .replica_identity = 'd', .ncols = 2, .cols = cols};
static tx_info tx = {.xid = 5, .final_lsn = 0x100, .end_lsn = 0x110, .commit_time_us = 1};

static event ev_of(value *row, uint64_t seq)
{
    return (event){.op = EVENT_CREATE, .table = &t, .after = row, .lsn = 0x90 + seq, .tx = &tx, .seq = seq};
}

/* ---- the recording downstream sink --------------------------------------------------------------- */

typedef struct rec {
    int begins, commits, flushes, n;
    char cur[16][32];   /* "cur" of each event, or "" */
    uint64_t seq[16];
    int ncols[16];
    char route[16][64];   /* "route_topic|route_table", "-" for NULL */
} rec;

static int rec_begin(void *self, const tx_info *x, char *err, size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    ((rec *)self)->begins++;
    return 0;
}

static int rec_change(void *self, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    rec *r = self;
    assert_true(r->n < 16);
    const value *v = &ev->after[1];
    snprintf(r->cur[r->n], sizeof r->cur[0], "%.*s", v->state == VALUE_PRESENT ? (int)v->len : 0, v->s);
    r->seq[r->n] = ev->seq;
    r->ncols[r->n] = ev->table->ncols;
    snprintf(r->route[r->n], sizeof r->route[0], "%s|%s", ev->route_topic ? ev->route_topic : "-",
             ev->route_table ? ev->route_table : "-");
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
    (void)wait, (void)err, (void)errlen;
    ((rec *)self)->flushes++;
    return 0;
}

static void rec_destroy(void *self)
{
    (void)self;
}

static const sink_ops rec_ops = {"rec", rec_begin, rec_change, rec_commit, rec_flush, rec_destroy};

static void add(store *st, const char *name, const char *pattern, const char *src, int activate, uint32_t want)
{
    char err[512];
    uint32_t v = 0;
    assert_int_equal(rules_store_add_version(st, name, pattern, src, "test", "c", &v, err, sizeof err), 0);
    assert_int_equal(v, want);
    if (activate)
        assert_int_equal(rules_store_activate(st, name, v, err, sizeof err), 0);
}

static void wait_check_interval(void)
{
    struct timespec ts = {1, 150 * 1000 * 1000};   /* the stage checks the store at most once a second */
    nanosleep(&ts, NULL);
}

static const char UPPER[] = "function transform(e) e.after.cur = string.upper(e.after.cur) return e end";
static const char LOWER[] = "function transform(e) e.after.cur = 'v2:' .. e.after.cur return e end";

static void test_versions_reload_at_begin_only(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-sink");
    char err[512];
    rec r = {0};
    sink down = {&rec_ops, &r}, s;
    add(f->st, "upper", "public.*", UPPER, 1, 1);
    assert_int_equal(rules_store_generation(f->st), 1);
    rules_sink_deps d = {.st = f->st, .downstream = &down, .ndownstream = 1, .db = "db"};
    assert_int_equal(rules_sink_create(&d, &s, err, sizeof err), 0);
    value row[2] = {{.state = VALUE_PRESENT, .v.i = 1}, {.state = VALUE_PRESENT, .s = "eur", .len = 3}};
    event ev = ev_of(row, 0);
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    /* a new version activated in the middle of a transaction: not before its next begin */
    add(f->st, "upper", "public.*", LOWER, 1, 2);
    wait_check_interval();
    ev.seq = 1;
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    assert_int_equal(s.ops->commit(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    /* rollback to version 1, then deactivation */
    assert_int_equal(rules_store_activate(f->st, "upper", 1, err, sizeof err), 0);
    wait_check_interval();
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    assert_int_equal(rules_store_activate(f->st, "upper", 0, err, sizeof err), 0);
    wait_check_interval();
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    assert_int_equal(s.ops->flush(s.self, 1, err, sizeof err), 0);
    assert_int_equal(r.n, 5);
    assert_string_equal(r.cur[0], "EUR");
    assert_string_equal(r.cur[1], "EUR");   /* same transaction: still version 1 */
    assert_string_equal(r.cur[2], "v2:eur");
    assert_string_equal(r.cur[3], "EUR");   /* rolled back */
    assert_string_equal(r.cur[4], "eur");   /* no active rule: as captured */
    assert_int_equal(r.seq[1], 1 * RULES_SEQ_SPLIT);
    assert_int_equal(r.seq[4], 1);          /* passed through untouched */
    assert_int_equal(r.begins, 4);
    assert_int_equal(r.flushes, 1);
    /* unknown rules and versions are refused */
    assert_int_equal(rules_store_activate(f->st, "upper", 7, err, sizeof err), -1);
    assert_non_null(strstr(err, "rule upper has no version 7"));
    assert_int_equal(rules_store_activate(f->st, "nope", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "no rule named nope"));
    s.ops->destroy(s.self);
    store_fixture_destroy(f);
}

static void test_dead_letters_lookups_and_splits(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-sink");
    char err[512];
    rec r = {0};
    sink down = {&rec_ops, &r}, s;
    assert_int_equal(rules_store_reference_set(f->st, "fx", "eur", "1.08", err, sizeof err), 0);
    add(f->st, "fx", "public.pay",
        "function transform(e)\n"
        "  local rate = sluice.lookup('fx', e.after.cur)\n"
        "  if not rate then error('no rate for ' .. e.after.cur) end\n"
        "  local copy = {op = 'c', after = {id = e.after.id, cur = 'usd', rate = rate}}\n"
        "  return {e, copy}\n"
        "end\n"
        "function route(e) if e.after.cur == 'usd' then return {topic = 'fx.usd', table = 'pay_usd'} end end\n",
        1, 1);
    rules_sink_deps d = {.st = f->st, .downstream = &down, .ndownstream = 1, .db = "db"};
    assert_int_equal(rules_sink_create(&d, &s, err, sizeof err), 0);
    value eur[2] = {{.state = VALUE_PRESENT, .v.i = 1}, {.state = VALUE_PRESENT, .s = "eur", .len = 3}};
    value gbp[2] = {{.state = VALUE_PRESENT, .v.i = 2}, {.state = VALUE_PRESENT, .s = "gbp", .len = 3}};
    event e1 = ev_of(eur, 3), e2 = ev_of(gbp, 4);
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &e1, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &e2, err, sizeof err), 0);   /* a dead letter, not a failure */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.seq[0], 3 * RULES_SEQ_SPLIT);
    assert_int_equal(r.seq[1], 3 * RULES_SEQ_SPLIT + 1);
    assert_int_equal(r.ncols[1], 3);   /* the new column rate */
    assert_string_equal(r.route[0], "-|-");   /* routes reach the sinks on the events */
    assert_string_equal(r.route[1], "fx.usd|pay_usd");
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st),
                                        "SELECT rule, version, error, table_name, lsn, event FROM dead_letters", -1, &q,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "fx");
    assert_int_equal(sqlite3_column_int(q, 1), 1);
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 2), "fx:3: no rate for gbp"));
    assert_string_equal((const char *)sqlite3_column_text(q, 3), "public.pay");
    assert_string_equal((const char *)sqlite3_column_text(q, 4), "0/94");
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 5), "\"after\":{\"id\":2,\"cur\":\"gbp\"}"));
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    s.ops->destroy(s.self);
    store_fixture_destroy(f);
}

static void test_broken_active_rule(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("rules-sink");
    char err[512];
    rec r = {0};
    sink down = {&rec_ops, &r}, s;
    rules_sink_deps d = {.st = f->st, .downstream = &down, .ndownstream = 1, .db = "db"};
    add(f->st, "ok", "*", UPPER, 1, 1);
    assert_int_equal(rules_sink_create(&d, &s, err, sizeof err), 0);
    /* stored without the CLI's compile check: the stage keeps the previous rules */
    add(f->st, "ok", "*", "function transform(e) return e +", 1, 2);
    wait_check_interval();
    value row[2] = {{.state = VALUE_PRESENT, .v.i = 1}, {.state = VALUE_PRESENT, .s = "eur", .len = 3}};
    event ev = ev_of(row, 0);
    assert_int_equal(s.ops->begin(s.self, &tx, err, sizeof err), 0);
    assert_int_equal(s.ops->change(s.self, &ev, err, sizeof err), 0);
    assert_string_equal(r.cur[0], "EUR");
    s.ops->destroy(s.self);
    /* and a stage cannot start on rules that do not compile */
    assert_int_equal(rules_sink_create(&d, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "the active rules do not load: rule ok: ok:1:"));
    assert_non_null(strstr(err, "sluice rules activate NAME 0"));
    store_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_reload_at_begin_only),
        cmocka_unit_test(test_dead_letters_lookups_and_splits),
        cmocka_unit_test(test_broken_active_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
