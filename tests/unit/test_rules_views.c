/* Unit tests for the lazy row views of rules/rules_marshal: a rule sees every column whichever
 * way it reads a row (indexing, pairs, sluice.json_encode, a row stored as a json column), a
 * column it never reads comes back as the very input value, writes and nils before or after a
 * read count, rows can move between before and after, the views' metatables are protected, and a
 * view kept past its transform call is an error (a dead letter), never another event's data. */
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

#define NCOLS 5
static const char *NAMES[NCOLS] = {"id", "email", "qty", "price", "note"};
static const uint32_t OIDS[NCOLS] = {23, 25, 20, 1700, 25};
static const char *OLD[NCOLS] = {"7", "old@example.com", "3", "12.3400", NULL};
static const char *NEW[NCOLS] = {"7", "new@example.com", "4", "99.5000", "hello"};

static column_def cols[NCOLS];
static table_def users = {.oid = 16400, .schema = "public", .name = "users", .replica_identity = 'f'};
static value before_row[NCOLS], after_row[NCOLS];
static arena *mem;
static tx_info tx = {.xid = 901, .final_lsn = 0x3000, .end_lsn = 0x3010, .commit_time_us = 1709210706000000};

static void parse_row(const char *const *text, value *out)
{
    for (int i = 0; i < NCOLS; i++) {
        char err[200];
        if (!text[i])
            out[i].state = VALUE_IS_NULL;
        else
            assert_int_equal(pg_value_parse(cols[i].kind, text[i], strlen(text[i]), &out[i], mem, err, sizeof err), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    mem = arena_create(4096);
    for (int i = 0; i < NCOLS; i++) {
        cols[i] = (column_def){.name = (char *)NAMES[i], .type_oid = OIDS[i], .typmod = -1,
                               .type_name = (char *)pg_type_name(OIDS[i]), .is_key = 1, .is_pk = i == 0};
        cols[i].kind = pg_type_kind(OIDS[i], &cols[i].elem_kind);
    }
    users.ncols = NCOLS;
    users.cols = cols;
    parse_row(OLD, before_row);
    parse_row(NEW, after_row);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_destroy(mem);
    return 0;
}

typedef struct result {
    int emitted, dead;
    event ev;
    value after[NCOLS + 2], before[NCOLS + 2];
    const table_def *def;
    char error[1024];
} result;

static int on_emit(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    result *r = arg;
    r->emitted++;
    r->ev = *ev;
    r->def = ev->table;
    assert_true(ev->table->ncols <= NCOLS + 2);
    if (ev->after)
        memcpy(r->after, ev->after, (size_t)ev->table->ncols * sizeof(value));
    if (ev->before)
        memcpy(r->before, ev->before, (size_t)ev->table->ncols * sizeof(value));
    return 0;
}

static int on_dead(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    result *r = arg;
    r->dead++;
    snprintf(r->error, sizeof r->error, "%s", dl->error);
    return 0;
}

static rules_set *compile(rules_defs *defs, const char *source)
{
    char err[512];
    rule_spec spec = {"views.lua", 1, "public.users", source};
    rules_set *s = rules_set_compile(&spec, 1, NULL, NULL, defs, err, sizeof err);
    if (!s)
        fail_msg("compile: %s", err);
    return s;
}

static result apply(rules_set *s)
{
    result r;
    memset(&r, 0, sizeof r);
    event ev = {.op = EVENT_UPDATE, .table = &users, .before = before_row, .after = after_row, .lsn = 0x2f00,
                .tx = &tx, .seq = 2};
    rules_output out = {on_emit, on_dead, &r};
    char err[256];
    assert_true(rules_set_apply(s, &ev, &out, err, sizeof err) >= 0);
    return r;
}

static result apply_ok(rules_set *s)
{
    result r = apply(s);
    if (r.dead)
        fail_msg("dead letter: %s", r.error);
    assert_int_equal(r.emitted, 1);
    return r;
}

static int col(const table_def *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_unread_columns_are_the_input_values(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  assert(e.after.email == 'new@example.com')\n"
                                 "  e.after.email = 'x@example.com'\n"
                                 "  return e\n"
                                 "end\n");
    result r = apply_ok(s);
    assert_ptr_equal(r.def, &users);
    for (int i = 0; i < NCOLS; i++) {
        assert_memory_equal(&r.before[i], &before_row[i], sizeof(value));   /* the very values */
        if (i != col(&users, "email"))
            assert_memory_equal(&r.after[i], &after_row[i], sizeof(value));
    }
    assert_int_equal(r.after[1].len, strlen("x@example.com"));
    assert_memory_equal(r.after[1].s, "x@example.com", r.after[1].len);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_writes_and_nils_before_and_after_reads(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  local a = e.after\n"
                                 "  a.qty = 40                    -- written, never read\n"
                                 "  assert(a.qty == 40)\n"
                                 "  local p = a.price; a.price = nil  -- read, then NULL\n"
                                 "  assert(a.price == nil and p == '99.5000')\n"
                                 "  a.note = nil                  -- NULL, never read\n"
                                 "  assert(a.note == nil)\n"
                                 "  rawset(a, 'email', 'raw@example.com')  -- around the view\n"
                                 "  local b = e.before\n"
                                 "  b.id = b.id                   -- read and put back: unchanged\n"
                                 "  return e\n"
                                 "end\n");
    result r = apply_ok(s);
    assert_ptr_equal(r.def, &users);
    assert_int_equal(r.after[col(&users, "qty")].v.i, 40);
    assert_int_equal(r.after[col(&users, "price")].state, VALUE_IS_NULL);
    assert_int_equal(r.after[col(&users, "note")].state, VALUE_IS_NULL);
    const value *email = &r.after[col(&users, "email")];
    assert_int_equal(email->len, strlen("raw@example.com"));
    assert_memory_equal(email->s, "raw@example.com", email->len);
    assert_memory_equal(&r.after[0], &after_row[0], sizeof(value));
    for (int i = 0; i < NCOLS; i++)
        assert_memory_equal(&r.before[i], &before_row[i], sizeof(value));
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_whole_row_readers_see_every_column(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  local n, keys = 0, {}\n"
                                 "  for k in pairs(e.after) do n = n + 1; keys[#keys + 1] = k end\n"
                                 "  table.sort(keys)\n"
                                 "  assert(n == 5, 'pairs saw ' .. table.concat(keys, ','))\n"
                                 "  local j = sluice.json_decode(sluice.json_encode(e.before))\n"
                                 "  assert(j.email == 'old@example.com' and j.qty == 3 and j.price == '12.3400')\n"
                                 "  local fields = {}\n"
                                 "  for k in pairs(e) do fields[k] = true end\n"
                                 "  assert(fields.source and fields.op and fields.after and fields.before)\n"
                                 "  e.source.table = 'renamed'   -- a write does not lose the other fields\n"
                                 "  assert(e.source.schema == 'public' and e.source.txId == 901)\n"
                                 "  e.after.old = e.before        -- a row as a json column\n"
                                 "  return e\n"
                                 "end\n");
    result r = apply_ok(s);
    assert_ptr_not_equal(r.def, &users);
    const value *old = &r.after[col(r.def, "old")];
    assert_int_equal(r.def->cols[col(r.def, "old")].kind, VALUE_JSON);
    char text[512];
    snprintf(text, sizeof text, "%.*s", (int)old->len, old->s);
    assert_non_null(strstr(text, "\"email\":\"old@example.com\""));
    assert_non_null(strstr(text, "\"qty\":3"));
    assert_non_null(strstr(text, "\"price\":\"12.3400\""));
    assert_null(strstr(text, "note"));   /* NULL: absent */
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_rows_move_between_before_and_after(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  return {op = 'u', before = e.after, after = e.before}\n"
                                 "end\n");
    result r = apply_ok(s);
    assert_ptr_equal(r.def, &users);
    for (int i = 0; i < NCOLS; i++) {
        assert_memory_equal(&r.after[i], &before_row[i], sizeof(value));
        assert_memory_equal(&r.before[i], &after_row[i], sizeof(value));
    }
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_view_metatables_are_protected(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  assert(getmetatable(e.after) == false and getmetatable(e.source) == false)\n"
                                 "  setmetatable(e.after, {})\n"
                                 "  return e\n"
                                 "end\n");
    result r = apply(s);
    assert_int_equal(r.dead, 1);
    assert_int_equal(r.emitted, 0);
    assert_non_null(strstr(r.error, "protected metatable"));
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_views_kept_past_their_call_fail(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    const char *reads[] = {"prev.after.email", "prev.source.lsn", "next(prev.before, nil) or pairs(prev.before)"};
    for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
        char src[512];
        snprintf(src, sizeof src,
                 "function transform(e)\n"
                 "  if prev then local x = %s end\n"
                 "  prev = e\n"
                 "  return e\n"
                 "end\n",
                 reads[k]);
        rules_set *s = compile(defs, src);
        apply_ok(s);   /* keeps the event */
        result r = apply(s);
        assert_int_equal(r.dead, 1);
        assert_non_null(strstr(r.error, "belongs to a transform call that has returned"));
        rules_set_destroy(s);
    }
    rules_defs_destroy(defs);
}

static void test_rename_drop_cast_on_views(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile(defs, "function transform(e)\n"
                                 "  sluice.rename(e, 'email', 'contact')\n"
                                 "  e.after.price = sluice.cast(e.after.price, 'number')  -- fits numeric\n"
                                 "  e.after.qty = sluice.cast(e.after.qty, 'string')      -- retypes int8\n"
                                 "  e.before.qty = sluice.cast(e.before.qty, 'string')\n"
                                 "  sluice.drop(e, 'note')\n"
                                 "  return e\n"
                                 "end\n");
    result r = apply_ok(s);
    assert_int_equal(r.def->ncols, NCOLS - 1);   /* email and note out, contact in */
    assert_int_equal(r.def->cols[col(r.def, "price")].kind, VALUE_NUMERIC);
    const value *price = &r.after[col(r.def, "price")];
    assert_int_equal(price->len, 4);
    assert_memory_equal(price->s, "99.5", 4);
    int q = col(r.def, "qty");
    assert_int_equal(r.def->cols[q].kind, VALUE_TEXT);
    assert_memory_equal(r.after[q].s, "4", 1);
    assert_memory_equal(r.before[q].s, "3", 1);
    int c = col(r.def, "contact");
    assert_int_equal(r.def->cols[c].kind, VALUE_TEXT);
    assert_memory_equal(r.after[c].s, "new@example.com", r.after[c].len);
    assert_memory_equal(r.before[c].s, "old@example.com", r.before[c].len);
    for (int i = 0; i < r.def->ncols; i++)
        assert_true(strcmp(r.def->cols[i].name, "email") != 0 && strcmp(r.def->cols[i].name, "note") != 0);
    assert_memory_equal(&r.after[col(r.def, "id")], &after_row[0], sizeof(value));
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unread_columns_are_the_input_values),
        cmocka_unit_test(test_writes_and_nils_before_and_after_reads),
        cmocka_unit_test(test_whole_row_readers_see_every_column),
        cmocka_unit_test(test_rows_move_between_before_and_after),
        cmocka_unit_test(test_view_metatables_are_protected),
        cmocka_unit_test(test_views_kept_past_their_call_fail),
        cmocka_unit_test(test_rename_drop_cast_on_views),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
