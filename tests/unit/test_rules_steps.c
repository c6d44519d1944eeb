/* Unit tests for rules/rules_steps: a rule's native steps through the engine. Every operation on
 * the value kinds it applies to, NULLs and unchanged-TOAST values, both images; per event errors
 * as dead letters with their reasons; compile errors naming the step; and a differential test:
 * for each step list and event, the native output equals what the equivalent transform written
 * with the sluice helpers produces through the engine (value by value, and column definition by
 * column definition). Steps then transform, and route with steps. */
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

typedef struct col_spec {
    const char *name, *type;
    uint32_t oid;
    const char *after, *before;   /* server text; NULL: SQL NULL; "TOAST": unavailable */
} col_spec;

static const col_spec SPEC[] = {
    {"id", "int4", 23, "7", "7"},
    {"email", "text", 25, "Jane.Doe@Example.com", " Old@Mail.Example "},
    {"phone", "text", 25, "+1 (555) 123-4567", NULL},
    {"amount", "numeric", 1700, "12.3400", "7.5"},
    {"qty", "int4", 23, "3", "4"},
    {"ratio", "float8", 701, "0.25", "2"},
    {"ok", "bool", 16, "t", "f"},
    {"note", "text", 25, NULL, NULL},
    {"big", "text", 25, "TOAST", "TOAST"},
    {"code", "varchar", 1043, "42", "17"},
    {"at", "timestamptz", 1184, "2024-02-29 12:45:06.5+00", "2024-02-29 12:45:06.5+00"},
    {"tiny", "int2", 21, "12", "13"},
};
#define NCOLS ((int)(sizeof SPEC / sizeof SPEC[0]))

static column_def cols[NCOLS];
static table_def users = {.oid = 16400, .schema = "public", .name = "users", .replica_identity = 'f'};
static value row_after[NCOLS], row_before[NCOLS];
static arena *mem;
static tx_info tx = {.xid = 900, .final_lsn = 0x2000, .end_lsn = 0x2010, .commit_time_us = 1709210706000000};

static void parse_row(value *row, int before)
{
    for (int i = 0; i < NCOLS; i++) {
        const char *t = before ? SPEC[i].before : SPEC[i].after;
        char err[200];
        memset(&row[i], 0, sizeof row[i]);
        if (!t)
            row[i].state = VALUE_IS_NULL;
        else if (!strcmp(t, "TOAST"))
            row[i].state = VALUE_UNAVAILABLE;
        else
            assert_int_equal(pg_value_parse(cols[i].kind, t, strlen(t), &row[i], mem, err, sizeof err), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    mem = arena_create(4096);
    for (int i = 0; i < NCOLS; i++) {
        cols[i] = (column_def){.name = (char *)SPEC[i].name, .type_oid = SPEC[i].oid, .typmod = -1,
                               .type_name = (char *)SPEC[i].type, .is_key = i == 0, .is_pk = i == 0};
        cols[i].kind = pg_type_kind(SPEC[i].oid, &cols[i].elem_kind);
    }
    cols[9].typmod = 14;   /* varchar(10) */
    users.ncols = NCOLS;
    users.cols = cols;
    parse_row(row_after, 0);
    parse_row(row_before, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_destroy(mem);
    return 0;
}

static event make_event(event_op op)
{
    event ev = {.op = op, .table = &users, .lsn = 0x1f00, .tx = &tx, .seq = 4};
    if (op != EVENT_DELETE)
        ev.after = row_after;
    if (op == EVENT_DELETE || op == EVENT_UPDATE)
        ev.before = row_before;
    return ev;
}

/* ---- running rules ------------------------------------------------------------------------------ */

typedef struct out_log {
    int emitted, dead;
    event ev;   /* the last emitted (values valid until the set's next apply) */
    char dead_error[1024];
    char route_table[256];
    const event *dead_ev;   /* the event a dead letter carries */
} out_log;

static int on_emit(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    out_log *l = arg;
    l->emitted++;
    l->ev = *ev;
    snprintf(l->route_table, sizeof l->route_table, "%s", ev->route_table ? ev->route_table : "-");
    return 0;
}

static int on_dead(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    out_log *l = arg;
    l->dead++;
    snprintf(l->dead_error, sizeof l->dead_error, "%s", dl->error);
    l->dead_ev = dl->ev;
    return 0;
}

static rules_set *compile_src(rules_defs *defs, const char *source, char *err, size_t errlen)
{
    rule_spec spec = {"users.lua", 3, "public.*", source};
    return rules_set_compile(&spec, 1, NULL, NULL, defs, err, errlen);
}

static rules_set *compile_ok(rules_defs *defs, const char *source)
{
    char err[1024];
    rules_set *s = compile_src(defs, source, err, sizeof err);
    if (!s)
        fail_msg("compile: %s", err);
    return s;
}

static out_log run(rules_set *s, const event *ev)
{
    out_log l = {0};
    rules_output out = {on_emit, on_dead, &l};
    char err[256];
    assert_int_equal(rules_set_apply(s, ev, &out, err, sizeof err), 1);
    return l;
}

static int col_index(const event *ev, const char *name)
{
    for (int i = 0; i < ev->table->ncols; i++)
        if (!strcmp(ev->table->cols[i].name, name))
            return i;
    return -1;
}

static const value *col_after(const event *ev, const char *name)
{
    int i = col_index(ev, name);
    return i < 0 ? NULL : &ev->after[i];
}

static void assert_text(const value *v, const char *want)
{
    assert_non_null(v);
    assert_int_equal(v->state, VALUE_PRESENT);
    if (v->len != strlen(want) || memcmp(v->s, want, v->len))
        fail_msg("want '%s', got '%.*s'", want, (int)v->len, v->s);
}

/* ---- values compared ---------------------------------------------------------------------------- */

static int value_same(const column_def *c, const value *a, const value *b)
{
    if (a->state != b->state)
        return 0;
    if (a->state != VALUE_PRESENT)
        return 1;
    switch (c->kind) {
    case VALUE_BOOL: return (a->v.b != 0) == (b->v.b != 0);
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: return a->v.i == b->v.i;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: return a->v.f == b->v.f;
    default: return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    }
}

static void describe_cols(const table_def *t, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < t->ncols; i++) {
        const column_def *c = &t->cols[i];
        snprintf(out + strlen(out), cap - strlen(out), "%s:%s(%u)/%d/k%d/key%d ", c->name, c->type_name, c->type_oid,
                 c->typmod, (int)c->kind, c->is_key);
    }
}

/* The same table definition, column definition by column definition (each path has its own
 * rules_defs: their pointers differ when either derived one). */
static void assert_defs_equal(const table_def *n, const table_def *l, const char *what)
{
    int same = (n == &users) == (l == &users) && n->ncols == l->ncols;
    for (int i = 0; same && i < n->ncols; i++) {
        const column_def *a = &n->cols[i], *b = &l->cols[i];
        same = !strcmp(a->name, b->name) && a->type_oid == b->type_oid && a->typmod == b->typmod &&
               a->kind == b->kind && a->elem_kind == b->elem_kind && a->is_key == b->is_key && a->is_pk == b->is_pk &&
               a->not_null == b->not_null && !strcmp(a->type_name ? a->type_name : "", b->type_name ? b->type_name : "") &&
               !a->enum_labels == !b->enum_labels;
    }
    if (!same) {
        char cols_n[2048], cols_l[2048];
        describe_cols(n, cols_n, sizeof cols_n);
        describe_cols(l, cols_l, sizeof cols_l);
        fail_msg("%s: table definitions differ: native %s[%s], lua %s[%s]", what, n == &users ? "(input) " : "",
                 cols_n, l == &users ? "(input) " : "", cols_l);
    }
}

static void assert_events_equal(const event *n, const event *l, const char *what)
{
    assert_defs_equal(n->table, l->table, what);
    assert_int_equal(n->op, l->op);
    assert_int_equal(!n->after, !l->after);
    assert_int_equal(!n->before, !l->before);
    for (int i = 0; i < n->table->ncols; i++) {
        const column_def *c = &n->table->cols[i];
        if (n->after && !value_same(c, &n->after[i], &l->after[i]))
            fail_msg("%s: after.%s differs (native state %d '%.*s', lua state %d '%.*s')", what, c->name,
                     n->after[i].state, (int)n->after[i].len, n->after[i].s ? n->after[i].s : "",
                     l->after[i].state, (int)l->after[i].len, l->after[i].s ? l->after[i].s : "");
        if (n->before && !value_same(c, &n->before[i], &l->before[i]))
            fail_msg("%s: before.%s differs", what, c->name);
    }
}

/* ---- the differential test ---------------------------------------------------------------------- */

/* Helpers for the Lua equivalents: an operation on a column of each image, skipping NULL and the
 * TOAST placeholder (as steps do). */
static const char PRELUDE[] =
    "local U = '__debezium_unavailable_value'\n"
    "local function each(e, f) for _, s in ipairs({'after', 'before'}) do if e[s] then f(e[s]) end end end\n"
    "local function op(e, col, fn) each(e, function(r) local v = r[col] if v ~= nil and v ~= U then r[col] = fn(v) end end) end\n"
    "local function add(e, col, v) each(e, function(r) r[col] = v end) end\n";

typedef struct diff_case {
    const char *steps;       /* the steps table's contents */
    const char *transform;   /* the equivalent transform's body (e: the event) */
} diff_case;

static const diff_case DIFF[] = {
    {"{'mask_phone', 'phone'}", "op(e, 'phone', sluice.mask_phone)"},
    {"{'mask', 'email'}", "op(e, 'email', sluice.mask)"},
    {"{'mask', 'email', 2, 3, '#'}", "op(e, 'email', function(v) return sluice.mask(v, 2, 3, '#') end)"},
    {"{'mask', 'code', 0, 0, 'é'}", "op(e, 'code', function(v) return sluice.mask(v, 0, 0, 'é') end)"},
    {"{'mask_email', 'email'}", "op(e, 'email', sluice.mask_email)"},
    {"{'sha256', 'email'}", "op(e, 'email', sluice.sha256)"},
    {"{'hmac_sha256', 'email', 'k3y'}", "op(e, 'email', function(v) return sluice.hmac_sha256('k3y', v) end)"},
    {"{'trim', 'email'}", "op(e, 'email', sluice.trim)"},
    {"{'lower', 'email'}", "op(e, 'email', sluice.lower)"},
    {"{'upper', 'code'}", "op(e, 'code', sluice.upper)"},
    {"{'upper', 'email'}, {'lower', 'email'}", "op(e, 'email', sluice.upper) op(e, 'email', sluice.lower)"},
    {"{'cast', 'amount', 'double'}", "op(e, 'amount', function(v) return sluice.cast(v, 'double') end)"},
    {"{'cast', 'amount', 'decimal'}", "op(e, 'amount', function(v) return sluice.cast(v, 'decimal') end)"},
    {"{'cast', 'amount', 'string'}", "op(e, 'amount', function(v) return sluice.cast(v, 'string') end)"},
    {"{'cast', 'qty', 'string'}", "op(e, 'qty', function(v) return sluice.cast(v, 'string') end)"},
    {"{'cast', 'qty', 'double'}", "op(e, 'qty', function(v) return sluice.cast(v, 'number') end)"},
    {"{'cast', 'qty', 'integer'}", "op(e, 'qty', function(v) return sluice.cast(v, 'integer') end)"},
    {"{'cast', 'tiny', 'decimal'}", "op(e, 'tiny', function(v) return sluice.cast(v, 'decimal') end)"},
    {"{'cast', 'ratio', 'string'}", "op(e, 'ratio', function(v) return sluice.cast(v, 'string') end)"},
    {"{'cast', 'ratio', 'decimal'}", "op(e, 'ratio', function(v) return sluice.cast(v, 'decimal') end)"},
    {"{'cast', 'ok', 'string'}", "op(e, 'ok', function(v) return sluice.cast(v, 'string') end)"},
    {"{'cast', 'ok', 'integer'}", "op(e, 'ok', function(v) return sluice.cast(v, 'integer') end)"},
    {"{'cast', 'code', 'integer'}", "op(e, 'code', function(v) return sluice.cast(v, 'integer') end)"},
    {"{'cast', 'code', 'double'}", "op(e, 'code', function(v) return sluice.cast(v, 'float') end)"},
    {"{'cast', 'code', 'boolean'}", "op(e, 'code', function(v) return sluice.cast(v, 'boolean') end)"},
    {"{'cast', 'code', 'integer'}, {'cast', 'code', 'string'}",
     "op(e, 'code', function(v) return sluice.cast(sluice.cast(v, 'integer'), 'string') end)"},
    {"{'cast', 'note', 'integer'}", "op(e, 'note', function(v) return sluice.cast(v, 'integer') end)"},
    {"{'cast', 'email', 'double'}", "op(e, 'email', function(v) return sluice.cast(v, 'double') end)"},
    {"{'cast', 'amount', 'integer'}", "op(e, 'amount', function(v) return sluice.cast(v, 'integer') end)"},
    {"{'rename', 'email', 'contact_email'}", "sluice.rename(e, 'email', 'contact_email')"},
    {"{'rename', 'qty', 'quantity'}", "sluice.rename(e, 'qty', 'quantity')"},
    {"{'rename', 'amount', 'a_total'}", "sluice.rename(e, 'amount', 'a_total')"},
    {"{'rename', 'ok', 'zz_ok'}, {'rename', 'ratio', 'aa_ratio'}",
     "sluice.rename(e, 'ok', 'zz_ok') sluice.rename(e, 'ratio', 'aa_ratio')"},
    {"{'rename', 'phone', 'mobile'}", "sluice.rename(e, 'phone', 'mobile')"},
    {"{'rename', 'note', 'remark'}", "sluice.rename(e, 'note', 'remark')"},
    {"{'lower', 'email'}, {'rename', 'email', 'mail'}", "op(e, 'email', sluice.lower) sluice.rename(e, 'email', 'mail')"},
    {"{'add', 'origin', 'crm'}", "add(e, 'origin', 'crm')"},
    {"{'add', 'n', 5}, {'add', 'f', 1.5}, {'add', 'b', true}, {'add', 'a0', ''}",
     "add(e, 'n', 5) add(e, 'f', 1.5) add(e, 'b', true) add(e, 'a0', '')"},
    {"{'drop', 'note', 'code'}", "sluice.drop(e, 'note', 'code')"},
    {"{'drop', 'at'}", "sluice.drop(e, 'at')"},
    {"{'rename', 'email', 'contact_email'}, {'cast', 'amount', 'double'}, {'mask_phone', 'phone'}, "
     "{'add', 'origin', 'crm'}",
     "sluice.rename(e, 'email', 'contact_email') op(e, 'amount', function(v) return sluice.cast(v, 'double') end) "
     "op(e, 'phone', sluice.mask_phone) add(e, 'origin', 'crm')"},
    {"{'mask_email', 'email'}, {'mask_phone', 'phone'}, {'sha256', 'code'}, {'drop', 'note'}",
     "op(e, 'email', sluice.mask_email) op(e, 'phone', sluice.mask_phone) op(e, 'code', sluice.sha256) "
     "sluice.drop(e, 'note')"},
    {"{'trim', 'big'}, {'upper', 'big'}, {'cast', 'big', 'string'}",
     "op(e, 'big', sluice.trim) op(e, 'big', sluice.upper) op(e, 'big', function(v) return sluice.cast(v, 'string') end)"},
};

static void test_differential(void **state)
{
    (void)state;
    const event_op ops[] = {EVENT_CREATE, EVENT_UPDATE, EVENT_DELETE};
    int compared = 0, both_dead = 0;
    for (size_t k = 0; k < sizeof DIFF / sizeof DIFF[0]; k++) {
        char native_src[2048], lua_src[4096], what[2200];
        snprintf(native_src, sizeof native_src, "steps = {%s}", DIFF[k].steps);
        snprintf(lua_src, sizeof lua_src, "%sfunction transform(e) %s return e end", PRELUDE, DIFF[k].transform);
        rules_defs *defs = rules_defs_create(), *ldefs = rules_defs_create();
        rules_set *n = compile_ok(defs, native_src), *l = compile_ok(ldefs, lua_src);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            event ev = make_event(ops[o]);
            out_log a = run(n, &ev), b = run(l, &ev);
            snprintf(what, sizeof what, "steps {%s} on op %c", DIFF[k].steps, (char)ops[o]);
            if (a.dead != b.dead)
                fail_msg("%s: native %s, lua %s", what, a.dead ? a.dead_error : "ok", b.dead ? b.dead_error : "ok");
            if (a.dead) {
                both_dead++;
                continue;
            }
            assert_int_equal(a.emitted, 1);
            assert_int_equal(b.emitted, 1);
            assert_events_equal(&a.ev, &b.ev, what);
            compared++;
        }
        rules_set_destroy(n);
        rules_set_destroy(l);
        rules_defs_destroy(defs);
        rules_defs_destroy(ldefs);
    }
    assert_true(compared >= 100);
    assert_true(both_dead >= 4);   /* the casts that fail, failing on both paths */
}

/* ---- semantics ---------------------------------------------------------------------------------- */

static void test_untouched_columns_are_the_input(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'mask_phone', 'phone'}, {'cast', 'amount', 'double'}}");
    event ev = make_event(EVENT_UPDATE);
    out_log l = run(s, &ev);
    assert_int_equal(l.emitted, 1);
    assert_ptr_equal(l.ev.table, &users);   /* types kept: the input's definition */
    assert_ptr_equal(l.ev.after[1].s, row_after[1].s);   /* email: not copied */
    assert_text(&l.ev.after[2], "+* (***) ***-4567");
    assert_int_equal(l.ev.before[2].state, VALUE_IS_NULL);   /* NULL stays NULL */
    assert_text(&l.ev.after[3], "12.34");                    /* numeric keeps its type */
    assert_text(&l.ev.before[3], "7.5");
    assert_int_equal(l.ev.after[8].state, VALUE_UNAVAILABLE);
    assert_int_equal(l.ev.lsn, 0x1f00);
    assert_int_equal(l.ev.seq, 4);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_toast_and_null_stay(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'upper', 'big'}, {'sha256', 'note'}, {'cast', 'big', 'integer'}, "
                                    "{'rename', 'big', 'large'}, {'rename', 'note', 'remark'}}");
    event ev = make_event(EVENT_UPDATE);
    out_log l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    const value *large = col_after(&l.ev, "large");
    assert_non_null(large);
    assert_int_equal(large->state, VALUE_UNAVAILABLE);
    assert_int_equal(l.ev.before[col_index(&l.ev, "large")].state, VALUE_UNAVAILABLE);
    assert_int_equal(col_index(&l.ev, "big"), -1);
    assert_int_equal(col_index(&l.ev, "remark"), -1);   /* NULL everywhere: left out, as in Lua */
    assert_int_equal(col_index(&l.ev, "note"), -1);
    assert_int_equal(l.ev.table->ncols, NCOLS - 1);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_retyping_and_added_columns(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'cast', 'qty', 'string'}, {'cast', 'code', 'integer'}, "
                                    "{'add', 'origin', 'crm'}, {'add', 'n', 5}, {'drop', 'ratio'}}");
    event ev = make_event(EVENT_CREATE);
    out_log l = run(s, &ev);
    const table_def *t = l.ev.table;
    assert_ptr_not_equal(t, &users);
    assert_int_equal(t->ncols, NCOLS + 1);
    int q = col_index(&l.ev, "qty"), c = col_index(&l.ev, "code");
    assert_int_equal(t->cols[q].type_oid, 25);   /* a string no longer fits int4: text */
    assert_int_equal(t->cols[q].kind, VALUE_TEXT);
    assert_text(&l.ev.after[q], "3");
    assert_int_equal(t->cols[c].type_oid, 20);   /* an integer does not fit varchar: int8 */
    assert_int_equal(l.ev.after[c].v.i, 42);
    assert_string_equal(t->cols[NCOLS - 1].name, "n");   /* added, by name */
    assert_string_equal(t->cols[NCOLS].name, "origin");
    assert_int_equal(t->cols[NCOLS - 1].type_oid, 20);
    assert_int_equal(t->cols[NCOLS].type_oid, 25);
    assert_text(&l.ev.after[NCOLS], "crm");
    assert_int_equal(col_index(&l.ev, "ratio"), -1);
    /* the same shape again: the same definition */
    out_log l2 = run(s, &ev);
    assert_ptr_equal(l2.ev.table, t);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_event_errors_are_dead_letters(void **state)
{
    (void)state;
    static const struct {
        const char *steps, *error;
    } cases[] = {
        {"{'trim', 'email'}, {'cast', 'email', 'double'}",
         "steps[2] cast email: 'Jane.Doe@Example.com' is not a valid double"},
        {"{'cast', 'amount', 'integer'}", "steps[1] cast amount: '12.3400' is not a valid integer"},
        {"{'lower', 'qty'}", "steps[1] lower qty: the int4 column is not text"},
        {"{'cast', 'qty', 'double'}, {'mask', 'qty'}", "steps[2] mask qty: a number is not text"},
        {"{'rename', 'nope', 'x'}", "steps[1] rename nope: public.users has no column nope"},
        {"{'rename', 'email', 'phone'}", "steps[1] rename email: public.users already has a column phone"},
        {"{'add', 'qty', 1}", "steps[1] add qty: public.users already has a column qty"},
        {"{'drop', 'qty', 'nope'}", "steps[1] drop qty: public.users has no column nope"},
        {"{'drop', 'qty'}, {'upper', 'qty'}", "steps[2] upper qty: public.users has no column qty"},
        {"{'upper', 'at'}", "steps[1] upper at: a timestamptz column cannot be changed by steps (use transform)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char src[512];
        snprintf(src, sizeof src, "steps = {%s}", cases[k].steps);
        rules_defs *defs = rules_defs_create();
        rules_set *s = compile_ok(defs, src);
        event ev = make_event(EVENT_UPDATE);
        out_log l = run(s, &ev);
        assert_int_equal(l.emitted, 0);
        assert_int_equal(l.dead, 1);
        assert_ptr_equal(l.dead_ev, &ev);   /* the event as captured */
        if (strcmp(l.dead_error, cases[k].error))
            fail_msg("steps {%s}: want '%s', got '%s'", cases[k].steps, cases[k].error, l.dead_error);
        rules_set_destroy(s);
        rules_defs_destroy(defs);
    }
}

static void test_compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src, *error;
    } cases[] = {
        {"steps = {{'rename', 'a', 'b'}, {'drop', 'c'}, {'maks_phone', 'phone'}}",
         "rule users.lua: steps[3]: unknown operation 'maks_phone'"},
        {"steps = {{'cast', 'amount'}}", "rule users.lua: steps[1]: cast takes a column and a type"},
        {"steps = {{'cast', 'amount', 'money'}}", "rule users.lua: steps[1]: cast amount: unknown type 'money'"},
        {"steps = {{'mask', 'email', -1}}", "rule users.lua: steps[1]: mask takes a column"},
        {"steps = {{'mask', 'email', 0, 4, '**'}}", "rule users.lua: steps[1]: mask email: the character must be"},
        {"steps = {{'add', 'x', {}}}", "rule users.lua: steps[1]: add takes a column and its value"},
        {"steps = {{'rename', 'a', 'a'}}", "rule users.lua: steps[1]: rename a to itself"},
        {"steps = {{'hmac_sha256', 'email'}}", "rule users.lua: steps[1]: hmac_sha256 takes a column and a key"},
        {"steps = {{'drop'}}", "rule users.lua: steps[1]: drop takes one or more columns"},
        {"steps = {{'upper', ''}}", "rule users.lua: steps[1]: upper takes a column"},
        {"steps = {'upper'}", "rule users.lua: steps[1]: a step must be a list"},
        {"steps = 'upper'", "rule users.lua: steps must be a list of steps"},
        {"x = 1", "rule users.lua: it defines neither steps nor transform(event)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[1024] = "";
        rules_defs *defs = rules_defs_create();
        rules_set *s = compile_src(defs, cases[k].src, err, sizeof err);
        assert_null(s);
        if (strncmp(err, cases[k].error, strlen(cases[k].error)))
            fail_msg("%s: want '%s...', got '%s'", cases[k].src, cases[k].error, err);
        rules_defs_destroy(defs);
    }
}

static void test_steps_then_transform(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'rename', 'email', 'contact_email'}, {'lower', 'contact_email'}}\n"
                                    "function transform(e)\n"
                                    "  assert(e.after.email == nil)\n"
                                    "  e.after.domain = e.after.contact_email:match('@(.*)$')\n"
                                    "  return e\n"
                                    "end");
    event ev = make_event(EVENT_CREATE);
    out_log l = run(s, &ev);
    assert_int_equal(l.dead, 0);
    assert_text(col_after(&l.ev, "contact_email"), "jane.doe@example.com");
    assert_text(col_after(&l.ev, "domain"), "example.com");
    assert_int_equal(col_index(&l.ev, "email"), -1);
    /* a transform error after the steps: a dead letter of the captured event */
    rules_set *bad = compile_ok(defs, "steps = {{'upper', 'email'}}\nfunction transform(e) error('no') end");
    l = run(bad, &ev);
    assert_int_equal(l.dead, 1);
    assert_ptr_equal(l.dead_ev, &ev);   /* as captured, not as stepped */
    assert_non_null(strstr(l.dead_error, "no"));
    rules_set_destroy(bad);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_route_with_steps(void **state)
{
    (void)state;
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'add', 'region', 'eu'}}\n"
                                    "function route(e) if e.after.region == 'eu' then return 'public.users_eu' end end");
    event ev = make_event(EVENT_CREATE);
    out_log l = run(s, &ev);
    assert_int_equal(l.emitted, 1);
    assert_string_equal(l.route_table, "public.users_eu");
    assert_text(col_after(&l.ev, "region"), "eu");
    /* a bad route answer is a dead letter */
    rules_set *bad = compile_ok(defs, "steps = {{'add', 'region', 'eu'}}\nfunction route(e) return 'a b' end");
    l = run(bad, &ev);
    assert_int_equal(l.dead, 1);
    assert_non_null(strstr(l.dead_error, "route"));
    rules_set_destroy(bad);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

static void test_other_tables_and_table_errors(void **state)
{
    (void)state;
    /* a table without the column: every event of it a dead letter; the rule keeps working */
    static column_def small_cols[1] = {{.name = (char *)"id", .type_oid = 23, .typmod = -1, .type_name = (char *)"int4",
                                        .kind = VALUE_INT32}};
    static table_def small = {.oid = 16500, .schema = "public", .name = "small", .ncols = 1, .cols = small_cols};
    value v = {.state = VALUE_PRESENT, .v.i = 1};
    rules_defs *defs = rules_defs_create();
    rules_set *s = compile_ok(defs, "steps = {{'mask_phone', 'phone'}}");
    event ev = {.op = EVENT_CREATE, .table = &small, .after = &v, .tx = &tx};
    out_log l = run(s, &ev);
    assert_int_equal(l.dead, 1);
    assert_string_equal(l.dead_error, "steps[1] mask_phone phone: public.small has no column phone");
    event ok = make_event(EVENT_CREATE);
    l = run(s, &ok);
    assert_int_equal(l.emitted, 1);
    rules_set_destroy(s);
    rules_defs_destroy(defs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_untouched_columns_are_the_input),
        cmocka_unit_test(test_toast_and_null_stay),
        cmocka_unit_test(test_retyping_and_added_columns),
        cmocka_unit_test(test_event_errors_are_dead_letters),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_steps_then_transform),
        cmocka_unit_test(test_route_with_steps),
        cmocka_unit_test(test_other_tables_and_table_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
