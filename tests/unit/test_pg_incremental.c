/* Unit tests for capture/pg_incremental without a server: table requests, signals from the
 * stream (queueing, stopping, ignoring), stale watermarks, metrics. The chunk and watermark
 * algorithm against PostgreSQL is tests/runtime/capture_incremental.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_catalog.h"
#include "capture/pg_incremental.h"

static logical_message msg(const char *prefix, const char *content, int transactional)
{
    logical_message m = {.lsn = 0x1000, .transactional = transactional, .prefix = prefix,
                         .content = (const uint8_t *)content, .len = strlen(content)};
    return m;
}

static int count_changes(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)ev;
    (void)err;
    (void)errlen;
    (*(int *)arg)++;
    return 0;
}

static void test_incremental_request_names(void **state)
{
    (void)state;
    char err[256];
    pg_incremental *inc = pg_incremental_create(NULL, 0, NULL);
    assert_non_null(inc);
    assert_false(pg_incremental_busy(inc));
    assert_int_equal(pg_incremental_request(inc, "public.orders", err, sizeof err), 0);
    assert_true(pg_incremental_busy(inc));
    assert_int_equal(pg_incremental_request(inc, "orders", err, sizeof err), 0); /* same table */
    assert_int_equal(pg_incremental_request(inc, "\"my.schema\".\"t\"\"q\"", err, sizeof err), 0);
    assert_int_equal(pg_incremental_request(inc, "a.b.c", err, sizeof err), -1);
    assert_non_null(strstr(err, "a.b.c"));
    assert_int_equal(pg_incremental_request(inc, "", err, sizeof err), -1);
    assert_int_equal(pg_incremental_request(inc, "s.", err, sizeof err), -1);
    assert_int_equal(pg_incremental_request(inc, "\"open", err, sizeof err), -1);
    pg_incremental_destroy(inc);
    pg_incremental_destroy(NULL);
}

static void test_catalog_name_parse(void **state)
{
    (void)state;
    char s[64], n[64];
    assert_int_equal(pg_catalog_name_parse("big", s, sizeof s, n, sizeof n), 0);
    assert_string_equal(s, "public");
    assert_string_equal(n, "big");
    assert_int_equal(pg_catalog_name_parse("\"my.schema\".\"T\"\"x\"", s, sizeof s, n, sizeof n), 0);
    assert_string_equal(s, "my.schema");
    assert_string_equal(n, "T\"x");
    assert_int_equal(pg_catalog_name_parse(".t", s, sizeof s, n, sizeof n), -1);
    assert_int_equal(pg_catalog_name_parse("ss.t", s, 2, n, sizeof n), -1);
}

static void test_incremental_signals(void **state)
{
    (void)state;
    char err[256] = "";
    metrics *m = metrics_create();
    pg_incremental *inc = pg_incremental_create(NULL, 10, m);
    metric *queued = metrics_gauge(m, "sluice_incremental_snapshot_tables_queued", "", NULL);
    assert_non_null(queued);
    int changes = 0;
    pg_decode_handler h = {.arg = &changes, .change = count_changes};
    tx_info tx = {.xid = 7};

    /* non-transactional signal: queued, nothing emitted */
    logical_message s1 = msg(PG_INCREMENTAL_SIGNAL_PREFIX,
                             "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":"
                             "[\"public.a\",\"b\",\"x.y.z\",7]}}",
                             0);
    assert_int_equal(pg_incremental_on_message(inc, &s1, NULL, &h, err, sizeof err), 0);
    assert_true(pg_incremental_busy(inc));
    assert_true(metric_get(queued) == 2);

    /* ignored: other types, blocking snapshots, garbage, other prefixes */
    const char *ignored[] = {
        "{\"type\":\"log\",\"data\":{\"message\":\"hi\"}}",
        "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"c\"],\"type\":\"blocking\"}}",
        "not json",
        "{\"data\":{}}",
    };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        logical_message s = msg(PG_INCREMENTAL_SIGNAL_PREFIX, ignored[i], 1);
        assert_int_equal(pg_incremental_on_message(inc, &s, &tx, &h, err, sizeof err), 0);
    }
    logical_message other = msg("someone.else", "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"d\"]}}", 1);
    assert_int_equal(pg_incremental_on_message(inc, &other, &tx, &h, err, sizeof err), 0);
    assert_true(metric_get(queued) == 2);

    /* a watermark of no chunk in flight (another session's) is ignored */
    logical_message wm = msg(PG_INCREMENTAL_WATERMARK_PREFIX,
                             "{\"kind\":\"high\",\"table\":\"public.a\",\"chunk\":1,\"id\":\"zzz\"}", 1);
    assert_int_equal(pg_incremental_on_message(inc, &wm, &tx, &h, err, sizeof err), 0);
    assert_int_equal(changes, 0);
    pg_incremental_reset_window(inc);
    event ev = {.op = EVENT_CREATE};
    pg_incremental_on_change(inc, &ev); /* no window: nothing to note, no table needed */

    /* stop one, then all */
    logical_message stop1 = msg(PG_INCREMENTAL_SIGNAL_PREFIX,
                                "{\"type\":\"stop-snapshot\",\"data\":{\"data-collections\":[\"public.b\"],"
                                "\"type\":\"INCREMENTAL\"}}",
                                1);
    assert_int_equal(pg_incremental_on_message(inc, &stop1, &tx, &h, err, sizeof err), 0);
    assert_true(metric_get(queued) == 1);
    logical_message stopall = msg(PG_INCREMENTAL_SIGNAL_PREFIX, "{\"type\":\"stop-snapshot\",\"data\":{}}", 1);
    assert_int_equal(pg_incremental_on_message(inc, &stopall, &tx, &h, err, sizeof err), 0);
    assert_false(pg_incremental_busy(inc));
    assert_true(metric_get(queued) == 0);

    /* step without work does nothing, even without a connection */
    assert_int_equal(pg_incremental_step(inc, NULL, err, sizeof err), 0);
    assert_int_equal(pg_incremental_request(inc, "a", err, sizeof err), 0);
    assert_int_equal(pg_incremental_step(inc, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "connection"));

    pg_incremental_destroy(inc);
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_request_names),
        cmocka_unit_test(test_catalog_name_parse),
        cmocka_unit_test(test_incremental_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
