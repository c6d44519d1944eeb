/* rules_bench: the rules engine's cost per event (bench/rules_overhead.sh, docs/BENCHMARKS.md).
 * Builds a 10-column table and distinct rows typed by pg_value_parse, then applies rule sets to
 * N insert events through rules_set_apply, timing thread CPU and wall time, best of R runs:
 * no rule for the table, the identity rule, lua/pii_mask.lua, the 4-step rules of bench/rules/, and
 * the 4-step rule of the contract (rename, cast, mask, add) as native steps (f), checked
 * first to give the same rows as the same steps written with the sluice helpers.
 * A breakdown of the 4-step rule (marshal push, transform call, pull) follows the main table.
 *   rules_bench [--events N] [--rows N] [--runs R] [--repo DIR] [--check ROW] [--only a..f]
 *               [--breakdown-events N]   (default: min(events, 200000))
 * --check ROW prints the 4-step rule's result for one row, as bench/rules/check.lua writes it
 * (the script compares it with the lua5.4 peer's). */
#define _POSIX_C_SOURCE 200809L

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/pg_types.h"
#include "core/arena.h"
#include "pipeline/event.h"
#include "rules/rules_engine.h"
#include "rules/rules_marshal.h"
#include "rules/rules_vm.h"

#define NCOLS 10
#define TARGET_EPS 1000000.0   /* issue 6: 1M events/s per core for the 4-step rule */

static const struct {
    const char *name;
    uint32_t oid;
    int32_t typmod;
} bench_cols[NCOLS] = {
    {"id", 20, -1},          {"email", 25, -1},       {"phone", 25, -1},      {"name", 25, -1},
    {"amount", 1700, ((12 << 16) | 2) + 4},           {"currency", 25, -1},   {"created_at", 1184, -1},
    {"active", 16, -1},      {"attrs", 3802, -1},     {"qty", 23, -1},
};

static const char *const first_names[] = {"Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Gus", "Hana"};
static const char *const last_names[] = {"Smith", "Okafor", "Müller", "Nguyen", "García", "Kowalski"};
static const char *const currencies[] = {"EUR", "USD", "GBP", "JPY"};

typedef struct bench {
    table_def td;
    column_def cols[NCOLS];
    value *rows;          /* nrows * NCOLS */
    long nrows;
    tx_info tx;
    arena *mem;
} bench;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "rules_bench: %s: %s\n", what, why);
    exit(1);
}

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Row i's text for column c (the server's text output), or NULL for SQL NULL. The lua5.4 peer
 * (bench/rules/four_step_peer.lua) builds the same rows with the same formulas. */
static const char *row_text(long i, int c, char *out, size_t cap)
{
    switch (c) {
    case 0: snprintf(out, cap, "%ld", i + 1); break;
    case 1: snprintf(out, cap, "%s.%ld@Example%ld.COM", first_names[i % 8], i, i % 50); break;
    case 2:
        if (i % 10 == 9)
            return NULL;
        snprintf(out, cap, "+1 (555) %03ld-%04ld", (i / 10000) % 1000, i % 10000);
        break;
    case 3: snprintf(out, cap, "  %s %s %ld ", first_names[i % 8], last_names[i % 6], i); break;
    case 4: {
        long cents = (i % 100000) * 137 + 1;
        snprintf(out, cap, "%ld.%02ld", cents / 100, cents % 100);
        break;
    }
    case 5: snprintf(out, cap, "%s", currencies[i % 4]); break;
    case 6: {
        time_t secs = (time_t)(1704067200 + i * 5 / 4);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t n = strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(out + n, cap - n, i % 4 ? ".%02ld+00" : "+00", (i % 4) * 25);
        break;
    }
    case 7: snprintf(out, cap, "%s", i % 3 == 0 ? "t" : "f"); break;
    case 8:
        if (i % 5 == 4)
            return NULL;
        snprintf(out, cap, "{\"qty\": %ld, \"sku\": \"SKU-%ld\", \"note\": \"x\", \"tags\": [\"a\", \"b%ld\"]}",
                 i % 7 + 1, i % 5000, i % 11);
        break;
    default: snprintf(out, cap, "%ld", i % 7 + 1); break;
    }
    return out;
}

static void bench_build(bench *b, long nrows)
{
    memset(b, 0, sizeof *b);
    b->mem = arena_create(1 << 20);
    for (int c = 0; c < NCOLS; c++) {
        column_def *col = &b->cols[c];
        col->name = (char *)bench_cols[c].name;
        col->type_oid = bench_cols[c].oid;
        col->typmod = bench_cols[c].typmod;
        col->type_name = (char *)pg_type_name(col->type_oid);
        col->kind = pg_type_kind(col->type_oid, &col->elem_kind);
        col->is_key = col->is_pk = col->not_null = c == 0;
    }
    b->td = (table_def){.oid = 16384, .schema = "public", .name = "customers", .replica_identity = 'd',
                        .version = 1, .ncols = NCOLS, .cols = b->cols};
    b->tx = (tx_info){.xid = 771, .final_lsn = 0x16C1000, .end_lsn = 0x16C1040, .commit_time_us = 1709287200000000};
    b->nrows = nrows;
    b->rows = arena_alloc(b->mem, (size_t)nrows * NCOLS * sizeof *b->rows);
    char text[256], err[256];
    for (long i = 0; i < nrows; i++) {
        for (int c = 0; c < NCOLS; c++) {
            value *v = &b->rows[i * NCOLS + c];
            const char *t = row_text(i, c, text, sizeof text);
            if (!t) {
                memset(v, 0, sizeof *v);
                v->state = VALUE_IS_NULL;
                continue;
            }
            size_t len = strlen(t);
            const char *s = arena_strndup(b->mem, t, len);
            if (pg_value_parse(b->cols[c].kind, s, len, v, b->mem, err, sizeof err) < 0)
                die(bench_cols[c].name, err);
        }
    }
}

static event bench_event(const bench *b, long k)
{
    return (event){.op = EVENT_CREATE, .table = &b->td, .after = &b->rows[(k % b->nrows) * NCOLS],
                   .lsn = 0x16C0000 + (uint64_t)k * 64, .tx = &b->tx, .seq = (uint64_t)k};
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, "cannot open");
    char *s = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            if (!(s = realloc(s, cap)))
                die(path, "out of memory");
        }
        memcpy(s + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!s)
        die(path, "empty");
    s[len] = 0;
    return s;
}

/* ---- the main table: rules_set_apply --------------------------------------------------------- */

typedef struct counter {
    long emitted, dead;
    uint64_t touched;     /* keeps the results observed */
    char first_error[512];
    const event *last;
} counter;

static int counter_emit(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    counter *k = arg;
    k->emitted++;
    k->touched += (uint64_t)ev->table->ncols + (ev->after ? ev->after[1].len : 0);
    k->last = ev;
    return 0;
}

static int counter_dead_letter(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    counter *k = arg;
    if (!k->dead++)
        snprintf(k->first_error, sizeof k->first_error, "%s", dl->error);
    return 0;
}

typedef struct result {
    double best_cpu, best_wall;
    double cpu[16];
    int runs;
} result;

static void result_add(result *r, double cpu, double wall)
{
    if (r->runs == 0 || cpu < r->best_cpu)
        r->best_cpu = cpu;
    if (r->runs == 0 || wall < r->best_wall)
        r->best_wall = wall;
    if (r->runs < 16)
        r->cpu[r->runs] = cpu;
    r->runs++;
}

static rules_set *compile_one(const char *name, const char *pattern, const char *source, rules_defs *defs)
{
    rule_spec spec = {.name = name, .version = 1, .pattern = pattern, .source = source};
    char err[1024];
    rules_set *s = rules_set_compile(&spec, 1, NULL, NULL, defs, err, sizeof err);
    if (!s)
        die(name, err);
    return s;
}

static result run_apply(const bench *b, rules_set *s, long events, int runs, const char *name)
{
    result r = {0};
    rules_output out = {counter_emit, counter_dead_letter, NULL};
    char err[512];
    for (int run = 0; run < runs; run++) {
        counter k = {0};
        out.arg = &k;
        double c0 = now_s(CLOCK_THREAD_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        for (long i = 0; i < events; i++) {
            event ev = bench_event(b, i);
            if (rules_set_apply(s, &ev, &out, err, sizeof err) < 0)
                die(name, err);
        }
        double c1 = now_s(CLOCK_THREAD_CPUTIME_ID), w1 = now_s(CLOCK_MONOTONIC);
        if (k.dead)
            die(name, k.first_error);
        if (k.emitted != events || !k.touched)
            die(name, "not every event was emitted");
        result_add(&r, c1 - c0, w1 - w0);
    }
    return r;
}

static void print_row(const char *label, const result *r, long events, int target)
{
    double eps = (double)events / r->best_cpu;
    printf("| %s | %.0f | %.0f | %.0f | ", label, eps, r->best_cpu * 1e9 / (double)events,
           (double)events / r->best_wall);
    for (int i = 0; i < r->runs && i < 16; i++)
        printf("%s%.0f", i ? " " : "", r->cpu[i] * 1e9 / (double)events);
    printf(" | %s |\n", target ? (eps >= TARGET_EPS ? "**met**" : "**not met**") : "");
}

/* The after image the rule (wrapped by bench/rules/check.lua) produced for row `row`. */
static void print_check(const bench *b, rules_set *s, long row)
{
    counter k = {0};
    rules_output out = {counter_emit, counter_dead_letter, &k};
    char err[512];
    event ev = bench_event(b, row);
    if (rules_set_apply(s, &ev, &out, err, sizeof err) < 0 || k.dead || !k.last)
        die("check", k.dead ? k.first_error : err);
    const event *r = k.last;
    for (int c = 0; c < r->table->ncols; c++) {
        if (strcmp(r->table->cols[c].name, "check") == 0 && r->after[c].state == VALUE_PRESENT) {
            printf("check row %ld: %.*s\n", row, (int)r->after[c].len, r->after[c].s);
            return;
        }
    }
    die("check", "the result has no column check");
}

/* Do two values of column c agree (state, and content by kind)? */
static int value_same(const column_def *c, const value *a, const value *b)
{
    if (a->state != b->state)
        return 0;
    if (a->state != VALUE_PRESENT)
        return 1;
    switch (c->kind) {
    case VALUE_BOOL: return (a->v.b != 0) == (b->v.b != 0);
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: return a->v.f == b->v.f;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: return a->v.i == b->v.i;
    default: return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    }
}

/* (f)'s rows equal those of the same steps written with the helpers (rows 0..n-1): the same
 * columns (names, types) and values. Dies naming the first difference. */
static void check_steps(const bench *b, rules_set *native, rules_set *helpers, long n)
{
    char err[512];
    for (long i = 0; i < n && i < b->nrows; i++) {
        counter kn = {0}, kh = {0};
        rules_output on = {counter_emit, counter_dead_letter, &kn}, oh = {counter_emit, counter_dead_letter, &kh};
        event ev = bench_event(b, i);
        if (rules_set_apply(native, &ev, &on, err, sizeof err) < 0 || rules_set_apply(helpers, &ev, &oh, err, sizeof err) < 0 ||
            kn.dead || kh.dead || !kn.last || !kh.last)
            die("check (f)", kn.dead ? kn.first_error : kh.dead ? kh.first_error : err);
        const table_def *tn = kn.last->table, *th = kh.last->table;
        if (tn->ncols != th->ncols)
            die("check (f)", "the rows have different columns");
        for (int c = 0; c < tn->ncols; c++) {
            const column_def *x = &tn->cols[c], *y = &th->cols[c];
            if (strcmp(x->name, y->name) || x->type_oid != y->type_oid || x->kind != y->kind || x->typmod != y->typmod)
                die("check (f)", "the rows have different column definitions");
            if (!value_same(x, &kn.last->after[c], &kh.last->after[c])) {
                fprintf(stderr, "rules_bench: row %ld column %s\n", i, x->name);
                die("check (f)", "native steps and the helpers give different values");
            }
        }
    }
}

/* ---- the breakdown: the same steps as rules_set_apply, one at a time ------------------------ */

enum { STEP_PUSH, STEP_CALL, STEP_PULL };

/* Push (and call, and pull) N events through a rule's own sandbox; best thread CPU seconds. */
static double run_steps(const bench *b, const char *source, long events, int runs, int upto, int gen_gc)
{
    char err[1024];
    rules_vm *vm = rules_vm_create(NULL, NULL, err, sizeof err);
    if (!vm || rules_vm_load(vm, "breakdown", source, strlen(source), err, sizeof err) < 0)
        die("breakdown", err);
    lua_State *L = rules_vm_state(vm);
    if (gen_gc)
        lua_gc(L, LUA_GCGEN, 0, 0);
    rules_marshal *m = rules_marshal_create();
    rules_defs *defs = rules_defs_create();
    arena *a = arena_create(64 * 1024);
    if (!m || !defs || !a)
        die("breakdown", "out of memory");
    double best = 0;
    for (int run = 0; run < runs; run++) {
        uint64_t touched = 0;
        double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        for (long i = 0; i < events; i++) {
            event ev = bench_event(b, i), res;
            int top = lua_gettop(L);
            arena_reset(a);
            rules_marshal_push(m, L, &ev, a);
            if (upto >= STEP_CALL && rules_vm_call(vm, "transform", 1, 1, err, sizeof err) < 0)
                die("breakdown", err);
            if (upto >= STEP_PULL) {
                if (rules_marshal_pull(m, L, -1, &ev, defs, &res, a, err, sizeof err) < 0)
                    die("breakdown", err);
                touched += (uint64_t)res.table->ncols;
            }
            lua_settop(L, top);
        }
        double c = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (upto >= STEP_PULL && !touched)
            die("breakdown", "nothing pulled");
        if (run == 0 || c < best)
            best = c;
    }
    arena_destroy(a);
    rules_defs_destroy(defs);
    rules_marshal_destroy(m);
    rules_vm_destroy(vm);
    return best;
}

int main(int argc, char **argv)
{
    long events = 1000000, rows = 100000, check = -1, bevents = 0;
    const char *only = NULL;   /* run one scenario (a..f), no breakdown: for perf record */
    int runs = 3;
    const char *repo = ".";
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--events") && v)
            events = atol(v), i++;
        else if (!strcmp(argv[i], "--rows") && v)
            rows = atol(v), i++;
        else if (!strcmp(argv[i], "--runs") && v)
            runs = atoi(v), i++;
        else if (!strcmp(argv[i], "--repo") && v)
            repo = v, i++;
        else if (!strcmp(argv[i], "--breakdown-events") && v)
            bevents = atol(v), i++;
        else if (!strcmp(argv[i], "--only") && v)
            only = v, i++;
        else if (!strcmp(argv[i], "--check") && v)
            check = atol(v), i++;
        else {
            fprintf(stderr, "usage: rules_bench [--events N] [--rows N] [--runs R] [--repo DIR] [--check ROW] [--only a..f]\n"
                            "                   [--breakdown-events N]\n");
            return 2;
        }
    }
    if (events < 1 || rows < 1 || runs < 1 || runs > 16)
        die("arguments", "--events and --rows must be positive, --runs 1..16");
    if (rows > events)
        rows = events;
    if (bevents < 1)
        bevents = events < 200000 ? events : 200000;

    char path[4096];
    snprintf(path, sizeof path, "%s/lua/pii_mask.lua", repo);
    char *pii = read_file(path);
    snprintf(path, sizeof path, "%s/bench/rules/four_step.lua", repo);
    char *four = read_file(path);
    snprintf(path, sizeof path, "%s/bench/rules/four_step_helpers.lua", repo);
    char *four_helpers = read_file(path);
    snprintf(path, sizeof path, "%s/bench/rules/four_step_steps.lua", repo);
    char *four_steps = read_file(path);
    snprintf(path, sizeof path, "%s/bench/rules/four_step_steps_helpers.lua", repo);
    char *four_steps_helpers = read_file(path);
    static const char identity[] = "function transform(e) return e end";

    bench b;
    double t0 = now_s(CLOCK_MONOTONIC);
    bench_build(&b, rows);
    fprintf(stderr, "rules_bench: %ld distinct rows built in %.2f s; %ld events per run, best of %d\n", rows,
            now_s(CLOCK_MONOTONIC) - t0, events, runs);

    rules_defs *defs = rules_defs_create();
    if (!defs)
        die("defs", "out of memory");
    if (check >= 0) {
        snprintf(path, sizeof path, "%s/bench/rules/check.lua", repo);
        char *wrap = read_file(path);
        size_t n = strlen(four) + strlen(wrap) + 2;
        char *src = malloc(n);
        if (!src)
            die("check", "out of memory");
        snprintf(src, n, "%s\n%s", four, wrap);
        rules_set *s = compile_one("four_step.lua", "public.customers", src, defs);
        print_check(&b, s, check);
        rules_set_destroy(s);
        rules_defs_destroy(defs);
        free(src);
        free(wrap);
        return 0;
    }

    static const struct {
        const char *label, *pattern;
        int target;
    } scen[] = {
        {"(a) no rule for the table (pass-through)", "other.*", 0},
        {"(b) identity rule `function transform(e) return e end` (marshalling only)", "public.customers", 0},
        {"(c) lua/pii_mask.lua (mask email and phone)", "public.customers", 0},
        {"(d) 4-step rule, bench/rules/four_step.lua (plain Lua)", "public.customers", 1},
        {"(e) 4-step rule with sluice helpers, bench/rules/four_step_helpers.lua", "public.customers", 1},
        {"(f) 4-step rule of the contract (rename, cast, mask, add) as native steps, bench/rules/four_step_steps.lua",
         "public.customers", 1},
    };
    const char *sources[] = {identity, identity, pii, four, four_helpers, four_steps};
    if (!only || only[0] == 'f') {   /* (f) must give what the helpers give */
        rules_set *n = compile_one("four_step_steps.lua", "public.customers", four_steps, defs);
        rules_set *h = compile_one("four_step_steps_helpers.lua", "public.customers", four_steps_helpers, defs);
        long rows_checked = b.nrows < 10000 ? b.nrows : 10000;
        check_steps(&b, n, h, rows_checked);
        fprintf(stderr, "rules_bench: (f) native steps and the sluice helpers give identical rows (%ld rows)\n",
                rows_checked);
        rules_set_destroy(n);
        rules_set_destroy(h);
    }
    printf("| scenario | events/s per core (best) | CPU ns/event (best) | events/s wall (best) | "
           "all runs, CPU ns/event | target 1M events/s per core |\n");
    printf("|---|---:|---:|---:|---|---|\n");
    for (size_t i = 0; i < sizeof scen / sizeof scen[0]; i++) {
        if (only && only[0] != (char)('a' + i))
            continue;
        rules_set *s = compile_one(i ? "bench.lua" : "other.lua", scen[i].pattern, sources[i], defs);
        result r = run_apply(&b, s, events, runs, scen[i].label);
        print_row(scen[i].label, &r, events, scen[i].target);
        fflush(stdout);
        rules_set_destroy(s);
    }

    if (only) {
        rules_defs_destroy(defs);
        return 0;
    }
    /* Where the 4-step rule's time goes: each line adds one step (own sandbox, no engine). */
    static const char identity_plus_col[] = "function transform(e) e.after.email_domain = 'x' return e end";
    printf("\nBreakdown (thread CPU ns/event, %ld events, best of %d; each column runs the steps up to it):\n\n",
           bevents, runs);
    printf("| rule | push (event -> Lua table) | + transform call | + pull (Lua table -> event) | "
           "pull alone | whole, generational GC |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    static const struct {
        const char *label;
        int which;
    } rules_[] = {
        {"identity", 0},
        {"identity + one new constant column", 1},
        {"four_step.lua", 2},
        {"four_step_helpers.lua", 3},
    };
    const char *bsrc[] = {identity, identity_plus_col, four, four_helpers};
    for (size_t i = 0; i < sizeof rules_ / sizeof rules_[0]; i++) {
        const char *src = bsrc[rules_[i].which];
        double push = run_steps(&b, src, bevents, runs, STEP_PUSH, 0);
        double call = run_steps(&b, src, bevents, runs, STEP_CALL, 0);
        double pull = run_steps(&b, src, bevents, runs, STEP_PULL, 0);
        double gen = run_steps(&b, src, bevents, runs, STEP_PULL, 1);
        double n = (double)bevents / 1e9;
        printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", rules_[i].label, push / n, call / n, pull / n,
               (pull - call) / n, gen / n);
        fflush(stdout);
    }
    rules_defs_destroy(defs);
    arena_destroy(b.mem);
    free(pii);
    free(four);
    free(four_helpers);
    free(four_steps);
    free(four_steps_helpers);
    return 0;
}
