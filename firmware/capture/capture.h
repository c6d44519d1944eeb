/* capture: the capture pipeline from one PostgreSQL database to a set of sinks. Prepares the
 * source (publication, slot), takes the initial snapshot when the snapshot mode asks for one,
 * then streams changes, flushing the sinks on a timer and confirming to PostgreSQL only the LSN
 * every sink has made durable (ack tracker). Connection loss or server restarts are retried with
 * backoff, resuming at the slot's confirmed position; a sink failure stops the capture.
 * Ownership: options strings, store, metrics, health, sinks and ack tracker are borrowed and must
 * outlive the capture. */
#ifndef SLUICE_CAPTURE_CAPTURE_H
#define SLUICE_CAPTURE_CAPTURE_H

#include <signal.h>
#include <stddef.h>
#include "core/health.h"
#include "core/metrics.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"
#include "store/store.h"

typedef struct capture_options {
    const char *conninfo;
    const char *password;        /* may be NULL */
    const char *slot;
    const char *publication;
    const char *tables;          /* NULL/"" = all tables, else comma-separated [schema.]table */
    const char *snapshot_mode;   /* initial | never | initial_only | when_needed */
    int flush_interval_ms;       /* sinks flushed and position confirmed this often (1000) */
    int status_interval_ms;      /* standby status period (10000) */
    int max_backoff_ms;          /* reconnect backoff ceiling (30000) */
    int heartbeat_ms;            /* heartbeat message period, 0 = off */
} capture_options;

typedef struct capture capture;

/* The sinks get every event (a rules stage may stand in front of the real sinks); ack is where the
 * real sinks report what they made durable. NULL with the reason in err. */
capture *capture_create(const capture_options *o, store *st, metrics *m, health *h, sink *sinks,
                        size_t nsinks, ack_tracker *ack, char *err, size_t errlen);
void capture_destroy(capture *c);

/* Run until *stop becomes non-zero (returns 0 after flushing and confirming), until an
 * initial_only snapshot is done (0), or until a fatal error (-1, logged). */
int capture_run(capture *c, volatile sig_atomic_t *stop);

#endif
