/* pg_preflight: checks that a source database can be captured, each with a clear message and
 * the fix: wal_level, free replication slots and WAL senders, replication privilege (superuser,
 * REPLICATION or RDS's rds_replication role), publication present or creatable, every captured
 * table with a primary key or usable REPLICA IDENTITY, long-running transactions that would delay
 * the snapshot. `sluice check --source` prints the report. */
#ifndef SLUICE_CAPTURE_PG_PREFLIGHT_H
#define SLUICE_CAPTURE_PG_PREFLIGHT_H

#include <stddef.h>
#include <stdio.h>
#include <libpq-fe.h>

typedef enum { PREFLIGHT_OK = 0, PREFLIGHT_WARN, PREFLIGHT_FAIL } preflight_status;

typedef struct preflight_result {
    char name[48];          /* "wal_level", "replication_slots", ... */
    preflight_status status;
    char message[512];      /* what was found */
    char fix[512];          /* what to do about it ("" when ok) */
} preflight_result;

typedef struct preflight_report {
    preflight_result *items;
    size_t n, cap;
} preflight_report;

/* Run every check on a normal connection. slot may already exist (then it needs no free slot).
 * tables: NULL/"" = all tables, else comma-separated [schema.]table. Returns the number of FAIL
 * results, or -1 when the checks could not run (reason in err). */
int pg_preflight_run(PGconn *c, const char *slot, const char *publication, const char *tables,
                     preflight_report *out, char *err, size_t errlen);
/* pg_preflight_run with the age (seconds) from which an open transaction is reported as
 * long-running; pg_preflight_run uses PREFLIGHT_LONG_TX_SECONDS. */
#define PREFLIGHT_LONG_TX_SECONDS 300
int pg_preflight_run_ex(PGconn *c, const char *slot, const char *publication, const char *tables,
                        int long_tx_seconds, preflight_report *out, char *err, size_t errlen);
/* Open a replication connection (replication=database) as the capture will, and report whether
 * the server accepts it ("replication_connection"). Returns 1 when it added a FAIL, else 0. */
int pg_preflight_check_replication(const char *conninfo, const char *password,
                                   preflight_report *out);
/* Append one result (message and fix are printf-free text; fix may be NULL). 0 or -1 (memory). */
int preflight_report_add(preflight_report *r, const char *name, preflight_status st,
                         const char *message, const char *fix);
/* "ok   wal_level: logical" / "FAIL name: message\n     fix: ..." lines. */
void preflight_report_print(const preflight_report *r, FILE *out);
void preflight_report_free(preflight_report *r);

#endif
