/* Unit tests for core/metrics: registration, families, label series, text exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render_families),
        cmocka_unit_test(test_metrics_rejects_bad_names_and_kind_clash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
