/* Unit tests for the console's rule tooling: rules/rules_sample (the bounded ring of recent events:
 * per-table limit, oldest dropped first, rate limit, table limit, pattern filter, encoding of
 * pipeline events), rules/rules_diff (unified diffs, checked against hand-made `diff -u` output)
 * and rules/rules_dryrun (per-event before/after, drops, splits, routes, errors, compile errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules/rules_diff.h"
#include "rules/rules_dryrun.h"
#include "rules/rules_sample.h"

/* ---- sample ---------------------------------------------------------------------------------- */

static void add_n(rules_sample *s, const char *table, int first, int n, int64_t now_ms)
{
    char json[128];
    for (int i = first; i < first + n; i++) {
        snprintf(json, sizeof json, "{\"op\":\"c\",\"before\":null,\"after\":{\"id\":%d},\"source\":{}}", i);
        assert_int_equal(rules_sample_add(s, table, json, strlen(json), now_ms), 1);
    }
}

static void test_sample_ring(void **state)
{
    (void)state;
    rules_sample *s = rules_sample_create();
    rules_sample_event *v;
    size_t n, events, tables, bytes;
    /* 120 events over 3 seconds (the rate allows 50 a second): the last 50 stay, oldest first. */
    add_n(s, "public.a", 0, 40, 1000);
    add_n(s, "public.a", 40, 40, 2000);
    add_n(s, "public.a", 80, 40, 3000);
    assert_int_equal(rules_sample_collect(s, "public.a", &v, &n), 0);
    assert_int_equal(n, RULES_SAMPLE_PER_TABLE);
    assert_non_null(strstr(v[0].json, "\"id\":70}"));
    assert_non_null(strstr(v[n - 1].json, "\"id\":119}"));
    assert_string_equal(v[0].table, "public.a");
    assert_true(v[0].seq < v[n - 1].seq);
    rules_sample_events_free(v, n);
    /* The rate: the 51st event of one second is skipped. */
    char json[] = "{\"op\":\"c\"}";
    add_n(s, "public.b", 0, RULES_SAMPLE_RATE, 5000);
    assert_int_equal(rules_sample_add(s, "public.b", json, strlen(json), 5999), 0);
    assert_int_equal(rules_sample_add(s, "public.b", json, strlen(json), 6000), 1);
    /* Patterns. */
    assert_int_equal(rules_sample_collect(s, "public.b", &v, &n), 0);
    assert_int_equal(n, RULES_SAMPLE_PER_TABLE);
    rules_sample_events_free(v, n);
    assert_int_equal(rules_sample_collect(s, "other.*", &v, &n), 0);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(rules_sample_collect(s, NULL, &v, &n), 0);
    assert_int_equal(n, 2 * RULES_SAMPLE_PER_TABLE);
    assert_string_equal(v[0].table, "public.a");   /* tables by name */
    assert_string_equal(v[n - 1].table, "public.b");
    rules_sample_events_free(v, n);
    /* Too large an event is skipped. */
    char *big = malloc(RULES_SAMPLE_EVENT_MAX + 2);
    memset(big, 'x', RULES_SAMPLE_EVENT_MAX + 1);
    big[RULES_SAMPLE_EVENT_MAX + 1] = '\0';
    assert_int_equal(rules_sample_add(s, "public.c", big, RULES_SAMPLE_EVENT_MAX + 1, 9000), 0);
    free(big);
    rules_sample_stats(s, &events, &tables, &bytes);
    assert_int_equal(events, 2 * RULES_SAMPLE_PER_TABLE);
    rules_sample_destroy(s);
}

static void test_sample_tables(void **state)
{
    (void)state;
    rules_sample *s = rules_sample_create();
    char name[32];
    size_t events, tables, bytes;
    for (int i = 0; i < RULES_SAMPLE_TABLES + 10; i++) {
        snprintf(name, sizeof name, "s.t%03d", i);
        add_n(s, name, 0, 1, 1000 + i);
    }
    rules_sample_stats(s, &events, &tables, &bytes);
    assert_int_equal(tables, RULES_SAMPLE_TABLES);
    assert_int_equal(events, RULES_SAMPLE_TABLES);
    rules_sample_event *v;
    size_t n;
    assert_int_equal(rules_sample_collect(s, "s.t000", &v, &n), 0);   /* the stalest went first */
    assert_int_equal(n, 0);
    assert_int_equal(rules_sample_collect(s, "s.t209", &v, &n), 0);
    assert_int_equal(n, 1);
    rules_sample_events_free(v, n);
    rules_sample_destroy(s);
    rules_sample_destroy(NULL);
}

static void test_sample_record_event(void **state)
{
    (void)state;
    column_def cols[1] = {{.name = "id", .type_oid = 23, .typmod = -1, .type_name = "int4", .kind = VALUE_INT32,
                           .is_key = 1, .is_pk = 1}};
    table_def t = {.oid = 1, .schema = "public", .name = "pay", .replica_identity = 'd', .ncols = 1, .cols = cols};
    tx_info tx = {.xid = 5, .final_lsn = 0x100, .end_lsn = 0x110, .commit_time_us = 1};
    value row[1] = {{.state = VALUE_PRESENT, .s = "42", .len = 2, .v.i = 42}};
    event ev = {.op = EVENT_CREATE, .table = &t, .after = row, .lsn = 0x90, .tx = &tx};
    debezium_options o = {.name = "sluice", .db = "shop", .decimal = DECIMAL_STRING};
    debezium_encoder *enc = debezium_encoder_create(&o);
    rules_sample *s = rules_sample_create();
    rules_sample_record(NULL, &ev, enc, 0);   /* no sample: nothing */
    rules_sample_record(s, &ev, enc, 0);
    rules_sample_event *v;
    size_t n;
    assert_int_equal(rules_sample_collect(s, "public.*", &v, &n), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(v[0].json, "\"after\":{\"id\":42}"));
    assert_non_null(strstr(v[0].json, "\"db\":\"shop\""));
    rules_sample_events_free(v, n);
    rules_sample_destroy(s);
    debezium_encoder_destroy(enc);
}

/* ---- diff ------------------------------------------------------------------------------------ */

static void diff_is(const char *a, const char *b, const char *want, long changes)
{
    buf out = BUF_INIT;
    assert_int_equal(rules_diff_unified(a, b, "x v1", "x v2", &out), changes);
    assert_string_equal(out.data ? out.data : "", want);
    buf_free(&out);
}

static void test_diff(void **state)
{
    (void)state;
    diff_is("a\nb\nc\n", "a\nb\nc\n", "", 0);
    diff_is("", "a\nb\n", "--- x v1\n+++ x v2\n@@ -0,0 +1,2 @@\n+a\n+b\n", 2);
    diff_is("a\nb\n", "", "--- x v1\n+++ x v2\n@@ -1,2 +0,0 @@\n-a\n-b\n", 2);
    diff_is("a\nb\nc\n", "a\nB\nc\n", "--- x v1\n+++ x v2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n", 2);
    /* Two changes far apart: two hunks with 3 lines of context each. */
    diff_is("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
            "--- x v1\n+++ x v2\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n", 4);
    /* Close changes merge into one hunk; an insertion in the middle. */
    diff_is("1\n2\n3\n4\n5\n6\n7\n", "1\n2\nnew\n3\n4\n5\n6\nX\n",
            "--- x v1\n+++ x v2\n@@ -1,7 +1,8 @@\n 1\n 2\n+new\n 3\n 4\n 5\n 6\n-7\n+X\n", 3);
    /* A last line without a newline compares as the same line. */
    diff_is("a\nb", "a\nb\n", "", 0);
}

/* ---- dry run --------------------------------------------------------------------------------- */

static rules_sample *sample_of_orders(void)
{
    rules_sample *s = rules_sample_create();
    const char *evs[] = {
        "{\"before\":null,\"after\":{\"id\":1,\"email\":\"a@x.org\"},\"source\":{\"version\":\"2\","
        "\"schema\":\"public\",\"table\":\"orders\",\"lsn\":7,\"txId\":3},\"op\":\"c\",\"ts_ms\":1}",
        "{\"before\":null,\"after\":{\"id\":2,\"email\":\"b@x.org\"},\"source\":{\"schema\":\"public\","
        "\"table\":\"orders\"},\"op\":\"c\",\"ts_ms\":1}",
        "{\"before\":null,\"after\":{\"id\":3,\"email\":null},\"source\":{},\"op\":\"c\",\"ts_ms\":1}",
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rules_sample_add(s, "public.orders", evs[i], strlen(evs[i]), 0), 1);
    const char *other = "{\"after\":{\"id\":9},\"op\":\"c\"}";
    assert_int_equal(rules_sample_add(s, "public.other", other, strlen(other), 0), 1);
    return s;
}

static void test_dry_run(void **state)
{
    (void)state;
    char err[1024];
    json_t *out = NULL;
    rules_sample *s = sample_of_orders();
    const char *src = "function transform(e)\n"
                      "  if e.after.id == 2 then return nil end\n"
                      "  if e.after.id == 3 then return {e, e} end\n"
                      "  e.after.email = 'masked'\n"
                      "  return e\n"
                      "end\n";
    assert_int_equal(rules_dry_run("r", "public.orders", src, s, NULL, NULL, 100, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "events")), 3);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "dropped")), 1);
    json_t *res = json_object_get(out, "results");
    assert_int_equal(json_array_size(res), 3);
    json_t *r0 = json_array_get(res, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "table")), "public.orders");
    json_t *before = json_object_get(r0, "before");
    /* before: the event as transform sees it (source trimmed to the pipeline's fields). */
    assert_string_equal(json_string_value(json_object_get(json_object_get(before, "after"), "email")), "a@x.org");
    assert_null(json_object_get(json_object_get(before, "source"), "version"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(before, "source"), "lsn")), 7);
    assert_null(json_object_get(before, "ts_ms"));
    json_t *after = json_object_get(r0, "after");
    assert_int_equal(json_array_size(after), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(after, 0), "after"), "email")),
                        "masked");
    assert_true(json_is_null(json_object_get(r0, "error")));
    assert_true(json_is_null(json_object_get(json_array_get(res, 1), "after")));      /* dropped */
    assert_int_equal(json_array_size(json_object_get(json_array_get(res, 2), "after")), 2);   /* split */
    json_decref(out);

    /* Errors are per event; limit lists fewer but counts all. */
    const char *bad = "function transform(e)\n  if e.after.id ~= 1 then error('no ' .. e.after.id) end\n  return e\nend\n";
    assert_int_equal(rules_dry_run("r", "public.*", bad, s, NULL, NULL, 1, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "events")), 4);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 3);
    assert_true(json_is_true(json_object_get(out, "truncated")));
    assert_int_equal(json_array_size(json_object_get(out, "results")), 1);
    json_decref(out);
    assert_int_equal(rules_dry_run("r", "public.orders", bad, s, NULL, NULL, 10, &out, err, sizeof err), 0);
    json_t *r1 = json_array_get(json_object_get(out, "results"), 1);
    assert_string_equal(json_string_value(json_object_get(r1, "error")), "r:2: no 2");
    assert_true(json_is_null(json_object_get(r1, "after")));
    json_decref(out);

    /* A result that is not an event is an error, as in the pipeline. */
    assert_int_equal(rules_dry_run("r", "public.orders", "function transform(e) return 5 end", s, NULL, NULL, 10, &out, err,
                                   sizeof err),
                     0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 3);
    json_decref(out);

    /* Compile errors. */
    assert_int_equal(rules_dry_run("r", "*", "function transform(e) return e +", s, NULL, NULL, 10, &out, err, sizeof err),
                     -1);
    assert_null(out);
    assert_non_null(strstr(err, "rule r: r:1:"));
    assert_int_equal(rules_dry_run_compile("r", "x = 1", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "transform"));
    assert_int_equal(rules_dry_run_compile("r", "function transform(e) return e end", NULL, NULL, err, sizeof err), 0);
    /* No sample: nothing to run on, still compiled. */
    assert_int_equal(rules_dry_run("r", "*", "function transform(e) return e end", NULL, NULL, NULL, 10, &out, err,
                                   sizeof err),
                     0);
    assert_int_equal(json_integer_value(json_object_get(out, "events")), 0);
    json_decref(out);
    rules_sample_destroy(s);
}

/* route's answers in the dry run: the pipeline's shapes (null, a name, {topic, table}) and checks. */
/* A dry run uses the limits it is given (the pipeline's): a rule that stays within the default
 * instruction budget but not within a small one fails there, as it would in the pipeline. */
static void test_dry_run_limits(void **state)
{
    (void)state;
    char err[1024];
    json_t *out = NULL;
    rules_sample *s = sample_of_orders();
    const char *src = "function transform(e)\n"
                      "  local n = 0\n"
                      "  for i = 1, 20000 do n = n + i end\n"
                      "  return e\n"
                      "end\n";
    assert_int_equal(rules_dry_run("r", "public.orders", src, s, NULL, NULL, 10, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 0);
    json_decref(out);
    rules_limits small = {.instructions = 5000};
    assert_int_equal(rules_dry_run("r", "public.orders", src, s, &small, NULL, 10, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 3);
    const char *why = json_string_value(json_object_get(json_array_get(json_object_get(out, "results"), 0), "error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "instruction limit (5000) exceeded"));
    json_decref(out);
    rules_sample_destroy(s);
}

static void test_dry_run_routes(void **state)
{
    (void)state;
    char err[1024];
    json_t *out = NULL;
    rules_sample *s = sample_of_orders();
    const char *src = "function transform(e)\n"
                      "  if e.after.id == 3 then return {e, e} end\n"
                      "  return e\n"
                      "end\n"
                      "local n = 0\n"
                      "function route(e)\n"
                      "  if e.after.id == 1 then return 'public.orders_eu' end\n"
                      "  if e.after.id == 2 then return {topic = 'audit.exact'} end\n"
                      "  n = n + 1\n"
                      "  if n == 1 then return {topic = 't', table = 'x'} end\n"
                      "end\n";
    assert_int_equal(rules_dry_run("r", "public.orders", src, s, NULL, NULL, 100, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 0);
    json_t *res = json_object_get(out, "results");
    json_t *routes = json_pack("[O,O,O]", json_object_get(json_array_get(res, 0), "route"),
                               json_object_get(json_array_get(res, 1), "route"),
                               json_object_get(json_array_get(res, 2), "route"));
    char *got = json_dumps(routes, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(routes);
    assert_string_equal(got, "[[\"public.orders_eu\"],[{\"topic\":\"audit.exact\"}],[{\"table\":\"x\",\"topic\":\"t\"},null]]");
    free(got);
    json_decref(out);
    /* names the pipeline would refuse fail the event, with the pipeline's reason */
    const char *bad = "function transform(e) return e end\n"
                      "function route(e)\n"
                      "  if e.after.id == 1 then return {topic = 'a b'} end\n"
                      "  if e.after.id == 2 then return 7 end\n"
                      "  return {table = '..'}\n"
                      "end\n";
    assert_int_equal(rules_dry_run("r", "public.orders", bad, s, NULL, NULL, 100, &out, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 3);
    res = json_object_get(out, "results");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "error")),
                        "route: 'a b' is not a legal Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 1), "error")),
                        "route must return a string, a table {topic = ..., table = ...} or nil, not a number");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 2), "error")),
                        "route: '..' is not a legal table name (1-200 of A-Z a-z 0-9 . _ -)");
    json_decref(out);
    rules_sample_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_ring),
        cmocka_unit_test(test_sample_tables),
        cmocka_unit_test(test_sample_record_event),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_dry_run_routes),
        cmocka_unit_test(test_dry_run_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
