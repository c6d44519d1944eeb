/* metrics: a registry of counters, gauges and histograms rendered in the Prometheus text format.
 * Metrics are created once (at start-up) and then updated from any thread.
 * Ownership: the registry owns every metric; metric pointers stay valid until metrics_destroy(). */
#ifndef SLUICE_CORE_METRICS_H
#define SLUICE_CORE_METRICS_H

#include <stddef.h>
#include "core/buf.h"

typedef struct metrics metrics;
typedef struct metric metric;

metrics *metrics_create(void);
void metrics_destroy(metrics *m);

/* Register (or find, if name and labels match) a metric. name must match [a-zA-Z_:][a-zA-Z0-9_:]*;
 * labels is NULL or Prometheus label text without braces, e.g. "code=\"200\"".
 * Metrics sharing a name form one family (one HELP/TYPE) and must share the kind.
 * Returns NULL on a bad name or a kind clash. */
metric *metrics_counter(metrics *m, const char *name, const char *help, const char *labels);
metric *metrics_gauge(metrics *m, const char *name, const char *help, const char *labels);

/* A histogram with cumulative buckets at the given upper bounds (ascending; +Inf is implied),
 * rendered as name_bucket{le=...}, name_sum and name_count. */
metric *metrics_histogram(metrics *m, const char *name, const char *help, const char *labels,
                          const double *bounds, size_t nbounds);

void metric_observe(metric *x, double v);   /* histograms */
/* Histograms: the q-quantile (0 < q < 1) estimated from the buckets by linear interpolation, as
 * Prometheus' histogram_quantile() does; 0 when empty. */
double metric_quantile(const metric *x, double q);
void metric_add(metric *x, double v);   /* counters: v >= 0 */
void metric_set(metric *x, double v);   /* gauges */
double metric_get(const metric *x);

/* Append the whole registry in text exposition format 0.0.4 to out. */
void metrics_render(metrics *m, buf *out);

#endif
