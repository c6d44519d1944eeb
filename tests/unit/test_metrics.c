/* Unit tests for core/metrics: registration, families, label series, text exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "core/metrics.h"

static void test_metrics_render_families(void **state)
{
    (void)state;
    metrics *m = metrics_create();
    metric *a = metrics_counter(m, "sluice_requests_total", "Requests.\nSecond line \\ ok", "code=\"200\"");
    metric *b = metrics_counter(m, "sluice_requests_total", "ignored", "code=\"401\"");
    metric *g = metrics_gauge(m, "sluice_up", "Up.", NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(a, metrics_counter(m, "sluice_requests_total", "x", "code=\"200\""));
    metric_add(a, 3);
    metric_add(b, 1);
    metric_set(g, 1.5);
    assert_true(metric_get(a) == 3);
    buf out = BUF_INIT;
    metrics_render(m, &out);
    assert_string_equal(out.data,
                        "# HELP sluice_requests_total Requests.\\nSecond line \\\\ ok\n"
                        "# TYPE sluice_requests_total counter\n"
                        "sluice_requests_total{code=\"200\"} 3\n"
                        "sluice_requests_total{code=\"401\"} 1\n"
                        "# HELP sluice_up Up.\n"
                        "# TYPE sluice_up gauge\n"
                        "sluice_up 1.5\n");
    buf_free(&out);
    metrics_destroy(m);
}

static void test_metrics_rejects_bad_names_and_kind_clash(void **state)
{
    (void)state;
    metrics *m = metrics_create();
    assert_null(metrics_counter(m, "9lives", "x", NULL));
    assert_null(metrics_counter(m, "has-dash", "x", NULL));
    assert_null(metrics_counter(m, "", "x", NULL));
    assert_non_null(metrics_gauge(m, "g", "x", NULL));
    assert_null(metrics_counter(m, "g", "x", "a=\"1\""));
    metric_add(NULL, 1); /* tolerated: a failed registration must not crash updates */
    metrics_destroy(m);
    metrics_destroy(NULL);
}

static void test_metrics_histogram(void **state)
{
    (void)state;
    metrics *m = metrics_create();
    static const double bounds[] = {0.01, 0.1, 1};
    metric *h = metrics_histogram(m, "lat_seconds", "Latency.", NULL, bounds, 3);
    assert_non_null(h);
    assert_null(metrics_gauge(m, "lat_seconds", "x", NULL)); /* kind clash */
    assert_true(metric_quantile(h, 0.5) == 0);
    for (int i = 0; i < 90; i++)
        metric_observe(h, 0.005);
    for (int i = 0; i < 9; i++)
        metric_observe(h, 0.05);
    metric_observe(h, 5);
    buf out = BUF_INIT;
    metrics_render(m, &out);
    assert_non_null(strstr(out.data, "# TYPE lat_seconds histogram\n"));
    assert_non_null(strstr(out.data, "lat_seconds_bucket{le=\"0.01\"} 90\n"));
    assert_non_null(strstr(out.data, "lat_seconds_bucket{le=\"0.1\"} 99\n"));
    assert_non_null(strstr(out.data, "lat_seconds_bucket{le=\"1\"} 99\n"));
    assert_non_null(strstr(out.data, "lat_seconds_bucket{le=\"+Inf\"} 100\n"));
    assert_non_null(strstr(out.data, "lat_seconds_count 100\n"));
    /* p50 interpolates inside the first bucket; p99 lands at the top of the second; beyond the
     * last bound the answer is the last bound, as histogram_quantile() gives. */
    assert_true(fabs(metric_quantile(h, 0.5) - 0.01 * 50 / 90) < 1e-9);
    assert_true(fabs(metric_quantile(h, 0.99) - 0.1) < 1e-9);
    assert_true(fabs(metric_quantile(h, 0.999) - 1) < 1e-9);
    buf_free(&out);
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render_families),
        cmocka_unit_test(test_metrics_rejects_bad_names_and_kind_clash),
        cmocka_unit_test(test_metrics_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
