/* Unit tests for rules/rules_engine and rules_marshal: events through Lua rules and back.
 * Untouched values come back exactly (every kind, TOAST placeholders included) on the input's
 * table definition; changed values are converted to the column's type, or retype it; new columns
 * get derived definitions made once per shape; nil drops, lists split, route() sets the event's
 * route (a table name or {topic, table}, checked: bad names and answers are dead letters);
 * errors, limits and garbage results become dead letters naming the rule, and the rule keeps
 * working afterwards; compile errors name the rule and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_types.h"
#include "core/arena.h"
#include "rules/rules_engine.h"

/* ---- a table of every common kind, and events of it -------------------------------------------- */

typedef struct col_spec {
    const char *name, *type;
    uint32_t oid;
    const char *text;   /* the value's server text; NULL: SQL NULL */
} col_spec;

static const col_spec SPEC[] = {
    {"id", "int4", 23, "7"},
    {"email", "text", 25, "Jane.Doe@Example.com"},
    {"qty", "int8", 20, "3"},
    {"price", "numeric", 1700, "12.3400"},
    {"ok", "bool", 16, "t"},
    {"ratio", "float8", 701, "0.25"},
    {"born", "date", 1082, "2024-02-29"},
    {"seen", "timestamp", 1114, "2024-02-29 13:45:06.123456"},
    {"at", "timestamptz", 1184, "2024-02-29 12:45:06.5+00"},
    {"blob", "bytea", 17, "\\x00ff"},
    {"tags", "_text", 1009, "{a,\"b c\",NULL}"},
    {"note", "text", 25, NULL},
    {"big", "text", 25, "unchanged toast"},
};
#define NCOLS ((int)(sizeof SPEC / sizeof SPEC[0]))

static column_def cols[NCOLS];
static table_def users = {.oid = 16400, .schema = "public", .name = "users", .replica_identity = 'd'};
static table_def orders = {.oid = 16401, .schema = "public", .name = "orders", .replica_identity = 'd'};
static value row[NCOLS];
static arena *mem;
static tx_info tx = {.xid = 900, .final_lsn = 0x2000, .end_lsn = 0x2010, .commit_time_us = 1709210706000000};

static int setup(void **state)
{
    (void)state;
    mem = arena_create(4096);
    for (int i = 0; i < NCOLS; i++) {
        cols[i] = (column_def){.name = (char *)SPEC[i].name, .type_oid = SPEC[i].oid, .typmod = -1,
                               .type_name = (char *)SPEC[i].type, .is_key = i == 0, .is_pk = i == 0};
        cols[i].kind = pg_type_kind(SPEC[i].oid, &cols[i].elem_kind);
        if (!SPEC[i].text) {
            row[i].state = VALUE_IS_NULL;
            continue;
        }
        char err[200];
        assert_int_equal(pg_value_parse(cols[i].kind, SPEC[i].text, strlen(SPEC[i].text), &row[i], mem, err,
                                        sizeof err), 0);
    }
    row[NCOLS - 1].state = VALUE_UNAVAILABLE;
    users.ncols = orders.ncols = NCOLS;
    users.cols = orders.cols = cols;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_destroy(mem);
    return 0;
}

static event make_event(const table_def *t, event_op op)
{
    event ev = {.op = op, .table = t, .after = op == EVENT_DELETE ? NULL : row, .lsn = 0x1f00, .tx = &tx, .seq = 4};
    if (op == EVENT_DELETE || op == EVENT_UPDATE)
        ev.before = row;
    return ev;
}

/* ---- what the engine hands out ------------------------------------------------------------------ */

#define MAX_OUT 8
typedef struct sink_log {
    int emitted, dead;
    event evs[MAX_OUT];
    const table_def *defs[MAX_OUT];
    char topics[MAX_OUT][256], tables[MAX_OUT][256];   /* ev->route_topic / route_table; "-": NULL */
    value after0[MAX_OUT][NCOLS + 4];
    char dead_error[1024], dead_rule[64];
} sink_log;

static int on_emit(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    sink_log *l = arg;
    assert_true(l->emitted < MAX_OUT);
    l->evs[l->emitted] = *ev;
    l->defs[l->emitted] = ev->table;
    snprintf(l->topics[l->emitted], sizeof l->topics[0], "%s", ev->route_topic ? ev->route_topic : "-");
    snprintf(l->tables[l->emitted], sizeof l->tables[0], "%s", ev->route_table ? ev->route_table : "-");
    if (ev->after)
        memcpy(l->after0[l->emitted], ev->after, (size_t)ev->table->ncols * sizeof(value));
    l->emitted++;
    return 0;
}

static int on_dead(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    sink_log *l = arg;
    l->dead++;
    snprintf(l->dead_error, sizeof l->dead_error, "%s", dl->error);
    snprintf(l->dead_rule, sizeof l->dead_rule, "%s v%u", dl->rule, dl->version);
    assert_non_null(dl->ev);
    return 0;
}

static rules_set *compile_one(rules_defs *defs, const char *pattern, const char *source)
{
    char err[512];
    rule_spec spec = {"users.lua", 3, pattern, source};
    rules_limits lim = {.instructions = 200000, .memory_bytes = 4 << 20};
    rules_set *s = rules_set_compile(&spec, 1, &lim, NULL, defs, err, sizeof err);
    if (!s)
        fail_msg("compile: %s", err);
    return s;
}

static sink_log run(rules_set *s, const event *ev)
{
    sink_log l;
    memset(&l, 0, sizeof l);
    rules_output out = {on_emit, on_dead, &l};
    char err[256];
    assert_true(rules_set_apply(s, ev, &out, err, sizeof err) >= 0);
    return l;
}

static int col_index(const table_def *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_untouched_values_come_back_exactly(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    /* reads every value (so each is marshalled), changes nothing */
    rules_set *s = compile_one(defs, "public.users",
                               "function transform(e)\n"
                               "  local n = 0\n"
                               "  for k, v in pairs(e.after) do n = n + 1 end\n"
                               "  assert(e.after.id == 7 and math.type(e.after.id) == 'integer')\n"
                               "  assert(e.after.price == '12.3400' and e.after.ok == true and e.after.ratio == 0.25)\n"
                               "  assert(e.after.born == 19782 and e.after.seen == 1709214306123456)\n"
                               "  assert(e.after.at == '2024-02-29T12:45:06.500000Z', e.after.at)\n"
                               "  assert(e.after.blob == '\\0\\255' and e.after.tags[1] == 'a' and e.after.tags[2] == 'b c')\n"
                               "  assert(e.after.tags[3] == nil and e.after.note == nil)\n"
                               "  assert(e.after.big == '__debezium_unavailable_value')\n"
                               "  assert(e.op == 'u' and e.source.table == 'users' and e.source.txId == 900)\n"
                               "  assert(e.source.lsn == 7936 and e.source.ts_ms == 1709210706000)\n"
                               "  return e\n"
                               "end\n");
    event ev = make_event(&users, EVENT_UPDATE);
    sink_log l = run(s, &ev);
    if (l.dead)
        fail_msg("dead letter: %s", l.dead_error);
    assert_int_equal(l.emitted, 1);
    assert_ptr_equal(l.defs[0], &users);   /* the same definition: nothing about the columns changed */
    assert_int_equal(l.evs[0].op, EVENT_UPDATE);
    assert_int_equal(l.evs[0].seq, 4);
    for (int i = 0; i < NCOLS - 2; i++)   /* arrays are rebuilt from the list, checked below */
        if (i != col_index(&users, "tags"))
            assert_memory_equal(&l.after0[0][i], &row[i], sizeof(value));
    const value *tags = &l.after0[0][col_index(&users, "tags")];
    assert_int_equal(tags->state, VALUE_PRESENT);
    assert_string_equal(tags->s, "{\"a\",\"b c\",NULL}");
    assert_int_equal(l.after0[0][NCOLS - 1].state, VALUE_UNAVAILABLE);
    assert_int_equal(l.after0[0][col_index(&users, "note")].state, VALUE_IS_NULL);
    /* tables without a rule pass through untouched */
    event other = make_event(&orders, EVENT_CREATE);
    l = run(s, &other);
    assert_int_equal(l.emitted, 1);
    assert_ptr_equal(l.evs[0].after, row);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_changes_new_columns_and_retyping(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.*",
                               "function transform(e)\n"
                               "  e.after.email = string.lower(e.after.email)\n"
                               "  e.after.qty = e.after.qty * 2\n"
                               "  e.after.price = '99.5'\n"
                               "  e.after.at = '2024-03-01T00:00:00Z'\n"
                               "  e.after.score = 1.5\n"
                               "  e.after.audited = true\n"
                               "  e.after.meta = {k = 'v'}\n"
                               "  e.after.ok = 'maybe'\n"   /* a string into a bool column: now text */
                               "  return e\n"
                               "end\n");
    event ev = make_event(&users, EVENT_CREATE);
    sink_log l = run(s, &ev);
    if (l.dead)
        fail_msg("dead letter: %s", l.dead_error);
    assert_int_equal(l.emitted, 1);
    const table_def *d = l.defs[0];
    assert_ptr_not_equal(d, &users);
    assert_int_equal(d->ncols, NCOLS + 3);
    /* new columns after the table's, in name order, typed by their values */
    assert_string_equal(d->cols[NCOLS].name, "audited");
    assert_int_equal(d->cols[NCOLS].type_oid, 16);
    assert_string_equal(d->cols[NCOLS + 1].name, "meta");
    assert_int_equal(d->cols[NCOLS + 1].kind, VALUE_JSON);
    assert_string_equal(l.after0[0][NCOLS + 1].s, "{\"k\":\"v\"}");
    assert_string_equal(d->cols[NCOLS + 2].name, "score");
    assert_int_equal(d->cols[NCOLS + 2].type_oid, 701);
    /* changed values kept their column's type where they fit */
    assert_int_equal(d->cols[col_index(d, "qty")].type_oid, 20);
    assert_int_equal(l.after0[0][col_index(d, "qty")].v.i, 6);
    assert_string_equal(l.after0[0][col_index(d, "email")].s, "jane.doe@example.com");
    assert_int_equal(d->cols[col_index(d, "price")].type_oid, 1700);
    assert_string_equal(l.after0[0][col_index(d, "price")].s, "99.5");
    assert_int_equal(d->cols[col_index(d, "at")].kind, VALUE_TIMESTAMPTZ);
    assert_int_equal(l.after0[0][col_index(d, "at")].v.i, 1709251200000000);
    assert_true(d->cols[col_index(d, "id")].is_pk);
    /* and one that did not fit changed the column's type */
    assert_int_equal(d->cols[col_index(d, "ok")].type_oid, 25);
    assert_string_equal(l.after0[0][col_index(d, "ok")].s, "maybe");
    /* the same shape again: the same derived definition */
    l = run(s, &ev);
    assert_ptr_equal(l.defs[0], d);
    rules_set_destroy(s);
    /* shared across sets (a reload keeps the pointers sinks hold) */
    s = compile_one(defs, "public.*",
                    "function transform(e)\n  e.after.email = string.lower(e.after.email)\n  e.after.qty = e.after.qty * 2\n"
                    "  e.after.price = '99.5'\n  e.after.at = '2024-03-01T00:00:00Z'\n  e.after.score = 1.5\n"
                    "  e.after.audited = true\n  e.after.meta = {k = 'v'}\n  e.after.ok = 'maybe'\n  return e\nend\n");
    l = run(s, &ev);
    assert_ptr_equal(l.defs[0], d);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void expect_dead(const char *source, const char *want);

static void test_packed_lists_as_json(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "*",
                               "function transform(e)\n"
                               "  e.after.list = table.pack(1, 'x', nil)\n"
                               "  e.after.none = table.pack()\n"
                               "  e.after.tags = table.pack('z', nil)\n"
                               "  return e\n"
                               "end\n");
    event ev = make_event(&users, EVENT_CREATE);
    sink_log l = run(s, &ev);
    if (l.dead)
        fail_msg("dead letter: %s", l.dead_error);
    const table_def *d = l.defs[0];
    assert_string_equal(l.after0[0][col_index(d, "list")].s, "[1,\"x\",null]");
    assert_string_equal(l.after0[0][col_index(d, "none")].s, "[]");
    assert_string_equal(l.after0[0][col_index(d, "tags")].s, "{\"z\",NULL}");
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_dropping_columns(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "*",
                               "function transform(e)\n"
                               "  e.after.contact = e.after.email\n"   /* a rename: copy, then drop */
                               "  e.drop = {'email', 'blob'}\n"
                               "  return e\n"
                               "end\n");
    event ev = make_event(&users, EVENT_UPDATE);
    sink_log l = run(s, &ev);
    if (l.dead)
        fail_msg("dead letter: %s", l.dead_error);
    const table_def *d = l.defs[0];
    assert_int_equal(d->ncols, NCOLS - 2 + 1);
    assert_int_equal(col_index(d, "email"), -1);
    assert_int_equal(col_index(d, "blob"), -1);
    assert_string_equal(l.after0[0][col_index(d, "contact")].s, "Jane.Doe@Example.com");
    assert_int_equal(l.after0[0][col_index(d, "qty")].v.i, 3);   /* the columns after a dropped one */
    assert_int_equal(l.evs[0].before[col_index(d, "qty")].v.i, 3);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
    expect_dead("function transform(e) e.drop = {'nope'} return e end", "drop: nope is not a column of public.users");
    expect_dead("function transform(e) e.drop = 'email' return e end", "drop must be a list");
}

static void test_drop_split_route(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "*",
                               "function transform(e)\n"
                               "  if e.after.qty == 0 then return nil end\n"
                               "  if e.op == 'c' then\n"
                               "    local copy = {op = 'c', after = {}, source = e.source}\n"
                               "    for k, v in pairs(e.after) do copy.after[k] = v end\n"
                               "    copy.after.id = 8\n"
                               "    return {e, copy}\n"
                               "  end\n"
                               "  return e\n"
                               "end\n"
                               "function route(e) if e.after and e.after.id == 8 then return 'audit' end end\n");
    event ev = make_event(&users, EVENT_CREATE);
    sink_log l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    assert_int_equal(l.emitted, 2);
    assert_string_equal(l.tables[0], "-");
    assert_string_equal(l.topics[0], "-");
    assert_string_equal(l.tables[1], "audit");
    assert_string_equal(l.topics[1], "-");
    assert_int_equal(l.after0[1][0].v.i, 8);
    assert_int_equal(l.after0[0][0].v.i, 7);
    value zero[NCOLS];
    memcpy(zero, row, sizeof zero);
    zero[2].v.i = 0;
    ev.after = zero;
    l = run(s, &ev);
    assert_int_equal(l.emitted, 0);
    assert_int_equal(l.dead, 0);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

/* route(event)'s answers as the sinks see them: on the emitted event, checked at once. */
static void test_route_forms(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.users",
                               "function transform(e) return e end\n"
                               "function route(e)\n"
                               "  local q = e.after.qty\n"
                               "  if q == 1 then return 'public.users_eu' end\n"
                               "  if q == 2 then return {topic = 'audit.exact'} end\n"
                               "  if q == 3 then return {table = 'lake_only'} end\n"
                               "  if q == 4 then return {topic = 'T-1', table = 'x.y_z'} end\n"
                               "  if q == 5 then return {} end\n"
                               "  if q == 6 then return setmetatable({}, {__index = {topic = 'meta'}}) end\n"
                               "  return nil\n"
                               "end\n");
    static const struct {
        int64_t qty;
        const char *topic, *table;
    } want[] = {{1, "-", "public.users_eu"}, {2, "audit.exact", "-"}, {3, "-", "lake_only"}, {4, "T-1", "x.y_z"},
                {5, "-", "-"}, {6, "-", "-"}, {7, "-", "-"}};
    value v[NCOLS];
    memcpy(v, row, sizeof v);
    event ev = make_event(&users, EVENT_CREATE);
    ev.after = v;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        v[2].v.i = want[i].qty;
        /* a route on the input (never set by the capture) does not leak to the results */
        ev.route_topic = "stale.topic";
        ev.route_table = "stale";
        sink_log l = run(s, &ev);
        if (l.dead)
            fail_msg("qty %lld: dead letter: %s", (long long)want[i].qty, l.dead_error);
        assert_int_equal(l.emitted, 1);
        if (strcmp(l.topics[0], want[i].topic) != 0 || strcmp(l.tables[0], want[i].table) != 0)
            fail_msg("qty %lld: route topic %s table %s, want %s %s", (long long)want[i].qty, l.topics[0],
                     l.tables[0], want[i].topic, want[i].table);
    }
    rules_set_destroy(s);
    /* a table without a rule: the event as it is, never routed by the engine */
    event other = make_event(&orders, EVENT_CREATE);
    s = compile_one(defs, "public.users", "function transform(e) return e end function route(e) return 'x' end");
    sink_log l = run(s, &other);
    assert_int_equal(l.emitted, 1);
    assert_string_equal(l.topics[0], "-");
    assert_string_equal(l.tables[0], "-");
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

/* Each event of a split has its own route; one bad route fails the whole split. */
static void test_route_split(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.users",
                               "function transform(e)\n"
                               "  local out = {}\n"
                               "  for i = 1, 3 do\n"
                               "    local c = {op = e.op, after = {}, source = e.source}\n"
                               "    for k, v in pairs(e.after) do c.after[k] = v end\n"
                               "    c.after.id = i\n"
                               "    out[i] = c\n"
                               "  end\n"
                               "  return out\n"
                               "end\n"
                               "function route(e)\n"
                               "  if e.after.id == 1 then return 'public.users_eu' end\n"
                               "  if e.after.id == 2 then return {topic = 'audit.exact', table = 'audit'} end\n"
                               "  if e.after.qty == 99 then return 'bad name' end\n"
                               "end\n");
    event ev = make_event(&users, EVENT_CREATE);
    sink_log l = run(s, &ev);
    if (l.dead)
        fail_msg("dead letter: %s", l.dead_error);
    assert_int_equal(l.emitted, 3);
    assert_int_equal(l.after0[0][0].v.i, 1);
    assert_string_equal(l.tables[0], "public.users_eu");
    assert_string_equal(l.topics[0], "-");
    assert_int_equal(l.after0[1][0].v.i, 2);
    assert_string_equal(l.topics[1], "audit.exact");
    assert_string_equal(l.tables[1], "audit");
    assert_int_equal(l.after0[2][0].v.i, 3);
    assert_string_equal(l.topics[2], "-");
    assert_string_equal(l.tables[2], "-");
    value v[NCOLS];
    memcpy(v, row, sizeof v);
    v[2].v.i = 99;
    ev.after = v;
    l = run(s, &ev);
    assert_int_equal(l.emitted, 0);
    assert_int_equal(l.dead, 1);
    assert_string_equal(l.dead_error, "event 3 of the list: route: 'bad name' is not a legal table name "
                                      "(1-200 of A-Z a-z 0-9 . _ -)");
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void expect_dead(const char *source, const char *want)
{
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.users", source);
    event ev = make_event(&users, EVENT_UPDATE);
    sink_log l = run(s, &ev);
    assert_int_equal(l.emitted, 0);
    assert_int_equal(l.dead, 1);
    if (!strstr(l.dead_error, want))
        fail_msg("dead letter '%s' lacks '%s'", l.dead_error, want);
    assert_string_equal(l.dead_rule, "users.lua v3");
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_dead_letters(void **state)
{
    (void)state;
    expect_dead("function transform(e) error('no way') end", "users.lua:1: no way");
    expect_dead("function transform(e) return e.nothing.x end", "users.lua:1:");
    expect_dead("function transform(e) return 42 end", "not a number");
    expect_dead("function transform(e) e.op = 'x' return e end", "op must be one of");
    expect_dead("function transform(e) e.after.id = {f = string.len} return e end", "after.id: a table that is not JSON");
    expect_dead("function transform(e) e.after.id = function() end return e end", "after.id: a function cannot be");
    expect_dead("function transform(e) e.after = nil return e end", "needs after");
    expect_dead("function transform(e) return {e, 5} end", "event 2 of the list");
    expect_dead("function transform(e) e.after.qty = 'lots' return e end", "different types");
    expect_dead("function transform(e) while true do end end", "instruction limit");
    /* metamethods on what the rule returns are rule code too: limited and protected */
    expect_dead("function transform(e) return setmetatable({}, {__index = function() while true do end end}) end",
                "instruction limit");
    expect_dead("function transform(e) return setmetatable({}, {__index = function() error('trap') end}) end", "trap");
    expect_dead("function transform(e) e.after = setmetatable({}, {__index = function(t, k) error('no ' .. k) end}) "
                "return e end",
                "no id");
    expect_dead("function transform(e) local s = string.rep('x', 64 * 1024 * 1024) return e end", "memory");
}

static void test_route_dead_letters(void **state)
{
    (void)state;
    char src[1024], long_name[260];
    expect_dead("function transform(e) return e end function route(e) return 42 end",
                "route must return a string, a table {topic = ..., table = ...} or nil, not a number");
    expect_dead("function transform(e) return e end function route(e) return true end", "not a boolean");
    expect_dead("function transform(e) return e end function route(e) return {topic = 'a b'} end",
                "route: 'a b' is not a legal Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)");
    expect_dead("function transform(e) return e end function route(e) return 'a/b' end",
                "route: 'a/b' is not a legal table name (1-200 of A-Z a-z 0-9 . _ -)");
    expect_dead("function transform(e) return e end function route(e) return '' end",
                "route: '' is not a legal table name");
    expect_dead("function transform(e) return e end function route(e) return '..' end",
                "route: '..' is not a legal table name");
    expect_dead("function transform(e) return e end function route(e) return {table = '.'} end",
                "route: '.' is not a legal table name");
    expect_dead("function transform(e) return e end function route(e) return 'a\\0b' end",
                "route: 'a?b' is not a legal table name");
    expect_dead("function transform(e) return e end function route(e) return {topic = 5} end",
                "route: topic must be a string, not a number");
    expect_dead("function transform(e) return e end function route(e) return {Topic = 'x'} end",
                "route: unknown field 'Topic'");
    expect_dead("function transform(e) return e end function route(e) return {'x'} end",
                "route: a route table has only the fields topic and table, not a number key");
    expect_dead("function transform(e) return e end function route(e) error('no route') end", "users.lua:1: no route");
    /* the limits: 249 characters make a topic, 250 do not; 200 a table, 201 not */
    memset(long_name, 'a', 250);
    long_name[250] = 0;
    snprintf(src, sizeof src, "function transform(e) return e end function route(e) return {topic = '%s'} end",
             long_name);
    expect_dead(src, "is not a legal Kafka topic name");
    snprintf(src, sizeof src, "function transform(e) return e end function route(e) return {topic = '%.249s'} end",
             long_name);
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.users", src);
    event ev = make_event(&users, EVENT_UPDATE);
    sink_log l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    assert_int_equal(strlen(l.topics[0]), 249);
    rules_set_destroy(s);
    snprintf(src, sizeof src, "function transform(e) return e end function route(e) return '%.200s' end", long_name);
    s = compile_one(defs, "public.users", src);
    l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    assert_int_equal(strlen(l.tables[0]), 200);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
    snprintf(src, sizeof src, "function transform(e) return e end function route(e) return '%.201s' end", long_name);
    expect_dead(src, "is not a legal table name");
}

static void test_limits_leave_the_rule_working(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_one(defs, "public.users",
                               "function transform(e) if e.after.qty == 3 then while true do end end return e end");
    event ev = make_event(&users, EVENT_CREATE);
    sink_log l = run(s, &ev);
    assert_int_equal(l.dead, 1);
    value other[NCOLS];
    memcpy(other, row, sizeof other);
    other[2].v.i = 4;
    ev.after = other;
    l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    assert_int_equal(l.emitted, 1);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_compile_errors_and_matching(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    char err[512];
    rule_spec bad = {"broken.lua", 1, "*", "function transform(e)\n  return e +\nend\n"};
    assert_null(rules_set_compile(&bad, 1, NULL, NULL, defs, err, sizeof err));
    assert_non_null(strstr(err, "rule broken.lua: broken.lua:3:"));
    rule_spec none = {"empty.lua", 1, "*", "x = 1"};
    assert_null(rules_set_compile(&none, 1, NULL, NULL, defs, err, sizeof err));
    assert_non_null(strstr(err, "neither steps nor transform(event)"));
    rule_spec two[] = {{"a.lua", 1, "public.users", "function transform(e) return e end"},
                       {"b.lua", 1, "public.*", "function transform(e) return nil end"}};
    rules_set *s = rules_set_compile(two, 2, NULL, NULL, defs, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(rules_set_match(s, "public", "users")->name, "a.lua");
    assert_string_equal(rules_set_match(s, "public", "orders")->name, "b.lua");
    assert_null(rules_set_match(s, "shop", "users"));
    event ev = make_event(&orders, EVENT_CREATE);
    sink_log l = run(s, &ev);
    assert_int_equal(l.emitted, 0);   /* b.lua drops orders */
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_values_come_back_exactly),
        cmocka_unit_test(test_changes_new_columns_and_retyping),
        cmocka_unit_test(test_packed_lists_as_json),
        cmocka_unit_test(test_dropping_columns),
        cmocka_unit_test(test_drop_split_route),
        cmocka_unit_test(test_dead_letters),
        cmocka_unit_test(test_route_forms),
        cmocka_unit_test(test_route_split),
        cmocka_unit_test(test_route_dead_letters),
        cmocka_unit_test(test_limits_leave_the_rule_working),
        cmocka_unit_test(test_compile_errors_and_matching),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
