/* demo_workload: a shop's traffic against the demo database, so capture has changes to
 * stream. One thread with its own libpq connection (application_name sluice-demo-workload)
 * runs `rate` transactions per second drawn from a realistic mix: new customers, orders with
 * 1-5 lines, status changes, price changes, restocks, cancellations (their lines deleted) and
 * deletion of old orders. Random but reproducible: one seeded PRNG per run.
 * Reports health component "workload" and counters sluice_demo_workload_{transactions,errors}_total. */
#ifndef SLUICE_DEMO_WORKLOAD_H
#define SLUICE_DEMO_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "core/metrics.h"

typedef struct demo_workload_options {
    int port;               /* server on 127.0.0.1, user postgres */
    const char *dbname;     /* "shop" */
    int rate;               /* transactions per second, > 0 */
    uint64_t seed;          /* PRNG seed; the same seed on the same data gives the same mix */
} demo_workload_options;

typedef struct demo_workload demo_workload;

/* Start the workload thread (it connects, and reconnects with backoff, on its own).
 * health and metrics are borrowed and must outlive the workload. NULL with reason in err. */
demo_workload *demo_workload_create(const demo_workload_options *opts, health *h, metrics *m,
                                    char *err, size_t errlen);
/* Stop the thread (it finishes at most the transaction in flight), close its connection and
 * free. Accepts NULL. */
void demo_workload_destroy(demo_workload *w);

#endif
