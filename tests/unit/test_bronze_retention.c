/* Unit tests for sinks/lake/bronze_retention: partition hours parsed from keys, and a run over a
 * local store deleting exactly the objects of hours older than the retention, under its source
 * only, keeping keys without a partition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objstore/objstore_local.h"
#include "sinks/lake/bronze_retention.h"

static void test_key_hour(void **state)
{
    (void)state;
    assert_int_equal(bronze_retention_key_hour("bronze/s/public.t/date=1970-01-01/hour=00/x.jsonl.gz"), 0);
    assert_int_equal(bronze_retention_key_hour("bronze/s/public.t/date=2026-11-26/hour=13/x.jsonl.gz"),
                     498805);   /* calendar.timegm((2026, 11, 26, 13, 0, 0)) // 3600 */
    assert_int_equal(bronze_retention_key_hour("bronze/s/public.t/x.jsonl.gz"), -1);
    assert_int_equal(bronze_retention_key_hour("bronze/s/public.t/date=2026-11-26/x"), -1);
}

typedef struct seen {
    char keys[16][200];
    int n;
} seen;

static int collect(void *arg, const char *key, const objstore_info *info)
{
    (void)info;
    seen *s = arg;
    assert_true(s->n < 16);
    snprintf(s->keys[s->n++], sizeof s->keys[0], "%s", key);
    return 0;
}

static void test_run(void **state)
{
    (void)state;
    char dir[] = "/tmp/sluice-retention-XXXXXX", err[512];
    assert_non_null(mkdtemp(dir));
    objstore *s = objstore_local_create(dir, err, sizeof err);
    assert_non_null(s);
    /* now: 2026-11-26 12:00 UTC; 7 days keep everything from 2026-11-19 12:00 on */
    int64_t now = 1795694400;
    const char *keys[] = {
        "bronze/src/public.t/date=2026-11-19/hour=11/a.jsonl.gz",   /* older: goes */
        "bronze/src/public.t/date=2026-11-01/hour=00/b.jsonl.gz",   /* older: goes */
        "bronze/src/public.u/date=2026-11-19/hour=12/c.jsonl.gz",   /* the first hour kept */
        "bronze/src/public.u/date=2026-11-26/hour=11/d.jsonl.gz",   /* recent */
        "bronze/src/public.u/notes.txt",                            /* no partition: kept */
        "bronze/other/public.t/date=2020-01-01/hour=00/e.jsonl.gz", /* another source: kept */
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(objstore_put(s, keys[i], "x", 1, NULL, err, sizeof err), OBJSTORE_OK);
    assert_int_equal(bronze_retention_run(s, "src", 7, now, err, sizeof err), 2);
    seen left = {0};
    assert_int_equal(objstore_list(s, "", collect, &left, err, sizeof err), 0);
    assert_int_equal(left.n, 4);
    assert_string_equal(left.keys[0], "bronze/other/public.t/date=2020-01-01/hour=00/e.jsonl.gz");
    assert_string_equal(left.keys[1], "bronze/src/public.u/date=2026-11-19/hour=12/c.jsonl.gz");
    assert_string_equal(left.keys[2], "bronze/src/public.u/date=2026-11-26/hour=11/d.jsonl.gz");
    assert_string_equal(left.keys[3], "bronze/src/public.u/notes.txt");
    /* a second run finds nothing more */
    assert_int_equal(bronze_retention_run(s, "src", 7, now, err, sizeof err), 0);
    for (int i = 0; i < left.n; i++)
        assert_int_equal(objstore_remove(s, left.keys[i], err, sizeof err), OBJSTORE_OK);
    objstore_destroy(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_hour),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
