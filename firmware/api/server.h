/* server: the console's HTTP server (civetweb). Serves /healthz, /readyz, /metrics, the JSON API
 * under /api/v1/ and the static console (web/static, compiled in). Every request goes through one
 * dispatcher that looks the route up in the route table {method, path, role, handler} and checks
 * the session and role before any handler runs.
 * Ownership: deps are borrowed and must outlive the server. */
#ifndef SLUICE_API_SERVER_H
#define SLUICE_API_SERVER_H

#include <stddef.h>
#include <time.h>
#include "core/health.h"
#include "core/metrics.h"
#include "store/store.h"

typedef struct kafka_browser kafka_browser;   /* sinks/kafka/kafka_browser.h */
typedef struct rules_sample rules_sample;     /* rules/rules_sample.h */

typedef struct api_deps {
    store *store;
    metrics *metrics;
    health *health;
    const char *version;
    time_t started;        /* unix seconds, for uptime */
    const char *listen;    /* "host:port" */
    long session_ttl;      /* seconds */
    kafka_browser *kafka;  /* the Kafka message browser; NULL when Kafka is off */
    rules_sample *rules_sample;  /* recent captured events for rule dry runs; may be NULL */
} api_deps;

typedef struct api_server api_server;

/* Start listening; NULL with the reason in err (e.g. the port is taken). */
api_server *api_server_start(const api_deps *deps, char *err, size_t errlen);
/* Stop serving and free the server; waits for requests in flight. Accepts NULL. */
void api_server_stop(api_server *srv);

#endif
