/* capture: prepare, snapshot, stream, flush and confirm, reconnect (see capture.h).
 * One session = one pair of connections (normal + replication) from preparation to the first
 * error; capture_run repeats sessions with exponential backoff until stopped. */
#include "capture/capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture_state.h"
#include "capture/pg_catalog.h"
#include "capture/pg_conn.h"
#include "capture/pg_decode.h"
#include "capture/pg_incremental.h"
#include "capture/pg_preflight.h"
#include "capture/pg_schema.h"
#include "capture/pg_slot.h"
#include "capture/pg_snapshot.h"
#include "capture/pg_stream.h"
#include "core/log.h"
#include "core/loop.h"

/* SESSION_CONTINUE: a step succeeded and the session goes on; the others end the session. */
typedef enum { SESSION_CONTINUE, SESSION_STOPPED, SESSION_RETRY, SESSION_FATAL } session_result;

#define HEARTBEAT_PREFIX "sluice.heartbeat"
#define NUDGE_PREFIX "sluice.nudge"   /* a transaction a sink asked for (sink.h wants_transaction) */
#define NUDGE_CHECK_MS 1000
#define RETAINED_WAL_PERIOD_MS 15000

typedef struct table_metrics {
    uint32_t oid;                    /* 0 = empty slot */
    metric *events[5];               /* by op, as m_events */
} table_metrics;

struct capture {
    capture_options o;
    store *st;
    metrics *m;
    health *h;
    sink *sinks;
    size_t nsinks;
    ack_tracker *ack;
    pg_schema *schema;
    pg_incremental *inc;             /* incremental (watermark) snapshots */
    PGconn *catalog;                 /* the session's normal connection (borrowed), or NULL */
    tx_info cur_tx;                  /* the transaction being decoded, for incremental reads */
    int in_tx;
    volatile sig_atomic_t *stop;
    int sink_failed;                 /* a sink returned an error: the capture must stop */
    uint64_t last_commit_end;        /* end LSN of the last transaction handed to the sinks */
    int replayed_tx;                 /* the transaction being decoded was handed over before */
    uint64_t nontx_lsn;              /* last non-transactional message (heartbeat, signal) ... */
    uint64_t nontx_floor;            /* ... and last_commit_end when it arrived */
    table_metrics *by_table;         /* per-table event counters, open addressing by oid */
    size_t by_table_cap, by_table_n;
    metric *m_events[5];             /* by op: c u d r t */
    metric *m_transactions, *m_reconnects, *m_received_lsn, *m_flushed_lsn, *m_lag, *m_retained,
        *m_heartbeats;
};

static const char capture_ops[] = "cudrt";

static void capture_metrics_register(capture *c)
{
    for (int i = 0; i < 5; i++) {
        char labels[16];
        snprintf(labels, sizeof labels, "op=\"%c\"", capture_ops[i]);
        c->m_events[i] = metrics_counter(c->m, "sluice_capture_events_total",
                                         "Change events captured, by Debezium op.", labels);
    }
    c->m_transactions = metrics_counter(c->m, "sluice_capture_transactions_total",
                                        "Source transactions captured.", NULL);
    c->m_reconnects = metrics_counter(c->m, "sluice_capture_reconnects_total",
                                      "Times the capture reconnected after an error.", NULL);
    c->m_received_lsn = metrics_gauge(c->m, "sluice_capture_received_lsn",
                                      "WAL position received from the source (bytes).", NULL);
    c->m_flushed_lsn = metrics_gauge(c->m, "sluice_capture_flushed_lsn",
                                     "WAL position confirmed to the source as durable (bytes).", NULL);
    c->m_lag = metrics_gauge(c->m, "sluice_capture_lag_seconds",
                             "Seconds between a transaction's commit and its capture.", NULL);
    c->m_retained = metrics_gauge(c->m, "sluice_capture_slot_retained_wal_bytes",
                                  "WAL the source keeps for the slot (current WAL position minus the "
                                  "slot's restart_lsn).", NULL);
    c->m_heartbeats = metrics_counter(c->m, "sluice_capture_heartbeats_total",
                                      "Heartbeat messages written to the source.", NULL);
}

/* The per-table counters for t (registered on first use). */
static table_metrics *capture_table_metrics(capture *c, const table_def *t)
{
    if (c->by_table_n * 2 >= c->by_table_cap) {
        size_t cap = c->by_table_cap ? c->by_table_cap * 2 : 64;
        table_metrics *grown = calloc(cap, sizeof *grown);
        if (!grown)
            return NULL;
        for (size_t i = 0; i < c->by_table_cap; i++) {
            if (!c->by_table[i].oid)
                continue;
            size_t j = c->by_table[i].oid & (cap - 1);
            while (grown[j].oid)
                j = (j + 1) & (cap - 1);
            grown[j] = c->by_table[i];
        }
        free(c->by_table);
        c->by_table = grown;
        c->by_table_cap = cap;
    }
    size_t j = t->oid & (c->by_table_cap - 1);
    while (c->by_table[j].oid && c->by_table[j].oid != t->oid)
        j = (j + 1) & (c->by_table_cap - 1);
    table_metrics *tm = &c->by_table[j];
    if (!tm->oid) {
        tm->oid = t->oid;
        c->by_table_n++;
        for (int i = 0; i < 5; i++) {
            char labels[600];
            snprintf(labels, sizeof labels, "table=\"%s.%s\",op=\"%c\"", t->schema, t->name, capture_ops[i]);
            tm->events[i] = metrics_counter(c->m, "sluice_capture_table_events_total",
                                            "Change events captured, by table and Debezium op.", labels);
        }
    }
    return tm;
}

capture *capture_create(const capture_options *o, store *st, metrics *m, health *h, sink *sinks,
                        size_t nsinks, ack_tracker *ack, char *err, size_t errlen)
{
    capture *c = calloc(1, sizeof *c);
    if (!c || !(c->schema = pg_schema_create(st)) || !(c->inc = pg_incremental_create(c->schema, 0, m))) {
        snprintf(err, errlen, "out of memory");
        capture_destroy(c);
        return NULL;
    }
    c->o = *o;
    if (!c->o.flush_interval_ms)
        c->o.flush_interval_ms = 1000;
    if (!c->o.status_interval_ms)
        c->o.status_interval_ms = 10000;
    if (!c->o.max_backoff_ms)
        c->o.max_backoff_ms = 30000;
    if (!c->o.snapshot_mode)
        c->o.snapshot_mode = "initial";
    c->st = st;
    c->m = m;
    c->h = h;
    c->sinks = sinks;
    c->nsinks = nsinks;
    c->ack = ack;
    capture_metrics_register(c);
    return c;
}

void capture_destroy(capture *c)
{
    if (!c)
        return;
    pg_incremental_destroy(c->inc);
    pg_schema_destroy(c->schema);
    free(c->by_table);
    free(c);
}

static void capture_health(capture *c, health_state st, const char *msg)
{
    if (c->h)
        health_set(c->h, "capture", st, msg);
}

/* ---- handing decoded changes to the sinks ---- */

static int capture_on_begin(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    capture *c = arg;
    c->cur_tx = *tx;
    c->in_tx = 1;
    /* After a reconnect the server resends every transaction after the confirmed position; those
     * this process already handed over (committed before the last one) are not handed over again:
     * an asynchronous sink may still hold them, and a second copy would be a duplicate. */
    c->replayed_tx = tx->final_lsn < c->last_commit_end;
    if (c->replayed_tx)
        return 0;
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->begin && c->sinks[i].ops->begin(c->sinks[i].self, tx, err, errlen) < 0) {
            c->sink_failed = 1;
            return -1;
        }
    }
    return 0;
}

static int capture_to_sinks(void *arg, const event *ev, char *err, size_t errlen)
{
    capture *c = arg;
    if (c->replayed_tx)
        return 0;
    const char *op = strchr(capture_ops, (char)ev->op);
    if (op) {
        table_metrics *tm = capture_table_metrics(c, ev->table);
        metric_add(c->m_events[op - capture_ops], 1);
        if (tm)
            metric_add(tm->events[op - capture_ops], 1);
    }
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->change(c->sinks[i].self, ev, err, errlen) < 0) {
            c->sink_failed = 1;
            return -1;
        }
    }
    return 0;
}

/* Streamed changes: noted by an open incremental-snapshot window, then to the sinks. */
static int capture_on_change(void *arg, const event *ev, char *err, size_t errlen)
{
    capture *c = arg;
    if (c->replayed_tx)
        return 0;
    pg_incremental_on_change(c->inc, ev);
    return capture_to_sinks(arg, ev, err, errlen);
}

static int capture_on_commit(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    capture *c = arg;
    c->in_tx = 0;
    if (c->replayed_tx) {
        c->replayed_tx = 0;
        return 0;
    }
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->commit && c->sinks[i].ops->commit(c->sinks[i].self, tx, err, errlen) < 0) {
            c->sink_failed = 1;
            return -1;
        }
    }
    c->last_commit_end = tx->end_lsn;
    metric_add(c->m_transactions, 1);
    metric_set(c->m_received_lsn, (double)tx->end_lsn);
    if (tx->xid) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        metric_set(c->m_lag, (double)(now_us - tx->commit_time_us) / 1e6);
    }
    return 0;
}

static int capture_on_schema(void *arg, const table_def *def, char *err, size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    log_fields(LOG_INFO, "capture", "table schema version", "table", def->name, "schema", def->schema,
               NULL);
    return 0;
}

/* Logical messages carry no rows for the sinks. A non-transactional one (our heartbeats) still
 * holds back the stream's idle rule until it is confirmed: it may be once every transaction before
 * it is durable (see session_confirm). */
static int capture_on_message(void *arg, const logical_message *m, char *err, size_t errlen)
{
    capture *c = arg;
    if (!m->transactional) {
        c->nontx_lsn = m->lsn;
        c->nontx_floor = c->last_commit_end;
    }
    /* Watermarks and signals: at a high watermark the chunk's rows go to the sinks. */
    pg_decode_handler to_sinks = {.arg = c, .change = capture_to_sinks};
    return pg_incremental_on_message(c->inc, m, m->transactional && c->in_tx ? &c->cur_tx : NULL, &to_sinks,
                                     err, errlen);
}

/* Streamed tables get their primary key, NOT NULL flags and enum labels from the catalogs. */
static int capture_on_complete(void *arg, table_def *def, arena *a, char *err, size_t errlen)
{
    capture *c = arg;
    if (!c->catalog)
        return 0;
    int rc = pg_catalog_table_complete(c->catalog, def, a, err, errlen);
    if (rc == 0)
        log_warn("capture", "table %s.%s (oid %u) is gone from the catalogs: its key columns are "
                 "taken from its previous version or its replica identity", def->schema, def->name, def->oid);
    return rc;
}

static pg_decode_handler capture_handler(capture *c)
{
    return (pg_decode_handler){
        .arg = c,
        .begin = capture_on_begin,
        .change = capture_on_change,
        .commit = capture_on_commit,
        .schema = capture_on_schema,
        .message = capture_on_message,
        .complete = capture_on_complete,
    };
}

/* Flush every sink. With wait set, return only once every sink has made everything durable. */
static int capture_sinks_flush(capture *c, int wait, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->flush(c->sinks[i].self, wait, err, errlen) < 0) {
            c->sink_failed = 1;
            return -1;
        }
    }
    return 0;
}

/* ---- one session ---- */

typedef struct session {
    PGconn *conn;         /* normal connection */
    PGconn *repl;         /* replication connection until the stream takes it */
    pg_decoder *decoder;
    pg_stream *stream;
    int streamed;         /* reached streaming: the next failure starts a fresh backoff */
    int heartbeat_off;    /* writing heartbeats failed on this connection */
    int nudge_off;        /* writing nudges (session_nudge) failed on this connection */
    char err[1024];
} session;

static void session_close(session *s)
{
    pg_stream_destroy(s->stream);
    if (s->repl)
        PQfinish(s->repl);
    if (s->conn)
        PQfinish(s->conn);
    pg_decoder_destroy(s->decoder);
}

/* Should this session take a snapshot? Drops a slot that must be replaced. */
static session_result session_plan(capture *c, session *s, int *snapshot, int *create_slot)
{
    pg_slot_info info;
    int done = 0;
    const char *mode = c->o.snapshot_mode;
    if (pg_slot_get(s->conn, c->o.slot, &info, s->err, sizeof s->err) < 0)
        return SESSION_RETRY;
    if (capture_state_snapshot_done(c->st, c->o.slot, &done, s->err, sizeof s->err) < 0)
        return SESSION_FATAL;
    if (info.exists && strcmp(info.plugin, "pgoutput") != 0) {
        snprintf(s->err, sizeof s->err, "slot %s uses plugin %s, not pgoutput: choose another source.slot",
                 c->o.slot, info.plugin);
        return SESSION_FATAL;
    }
    int want_snapshot = strcmp(mode, "never") != 0 && (!info.exists || !done);
    if (info.exists && info.lost) {
        if (strcmp(mode, "when_needed") != 0) {
            snprintf(s->err, sizeof s->err,
                     "slot %s has lost WAL it needs: changes were missed; set source.snapshot_mode = "
                     "when_needed to snapshot again, or drop the slot",
                     c->o.slot);
            return SESSION_FATAL;
        }
        want_snapshot = 1;
    }
    if (!info.exists && done && want_snapshot)
        log_warn("capture", "slot %s is missing (dropped?): changes since it went away are not in the "
                 "stream, taking a new snapshot", c->o.slot);
    if (strcmp(mode, "initial_only") == 0 && done && info.exists) {
        log_info("capture", "initial_only: the snapshot of slot %s is already done", c->o.slot);
        return SESSION_STOPPED;
    }
    *snapshot = want_snapshot;
    *create_slot = !info.exists || want_snapshot;
    if (info.exists && want_snapshot) {
        log_warn("capture", "slot %s: %s, dropping it and taking a new snapshot", c->o.slot,
                 info.lost ? "WAL lost" : "its snapshot never completed");
        if (pg_slot_drop(s->conn, c->o.slot, s->err, sizeof s->err) < 0)
            return SESSION_RETRY;
    }
    return SESSION_CONTINUE;
}

static session_result session_snapshot(capture *c, session *s, const char *snapshot_name,
                                       uint64_t consistent_lsn)
{
    pg_decode_handler h = capture_handler(c);
    pg_snapshot_options so = {.snapshot_name = snapshot_name,
                              .consistent_lsn = consistent_lsn,
                              .publication = c->o.publication};
    capture_health(c, HEALTH_STARTING, "initial snapshot");
    log_info("capture", "initial snapshot of publication %s started", c->o.publication);
    if (capture_state_record(c->st, c->o.slot, 0, consistent_lsn, s->err, sizeof s->err) < 0)
        return SESSION_FATAL;
    if (pg_snapshot_run(s->conn, c->schema, &so, &h, c->m, (volatile int *)c->stop, s->err,
                        sizeof s->err) < 0)
        return c->sink_failed ? SESSION_FATAL : (*c->stop ? SESSION_STOPPED : SESSION_RETRY);
    /* The snapshot counts as done only once every row of it is durable in every sink. */
    if (capture_sinks_flush(c, 1, s->err, sizeof s->err) < 0)
        return SESSION_FATAL;
    if (capture_state_record(c->st, c->o.slot, 1, consistent_lsn, s->err, sizeof s->err) < 0)
        return SESSION_FATAL;
    log_info("capture", "initial snapshot done");
    return SESSION_CONTINUE;
}

/* Heartbeat: a non-transactional message moves the slot past WAL of unpublished tables even
 * when captured tables are idle. A failure (e.g. no permission) turns heartbeats off for this
 * session with one warning; capture goes on. */
static void session_heartbeat(capture *c, session *s)
{
    char err[512];
    if (pg_conn_exec(s->conn, "SELECT pg_logical_emit_message(false, '" HEARTBEAT_PREFIX "', '')", err,
                     sizeof err) < 0) {
        log_warn("capture", "heartbeats off for this connection: %s", err);
        s->heartbeat_off = 1;
        return;
    }
    metric_add(c->m_heartbeats, 1);
}

/* When a sink waits for a source transaction (dead-letter replays), write a transactional message:
 * an idle source then still sends one. A failure turns this off for the session with one warning. */
static void session_nudge(capture *c, session *s)
{
    int wanted = 0;
    for (size_t i = 0; i < c->nsinks && !wanted; i++)
        wanted = c->sinks[i].ops->wants_transaction && c->sinks[i].ops->wants_transaction(c->sinks[i].self);
    if (!wanted)
        return;
    char err[512];
    if (pg_conn_exec(s->conn, "SELECT pg_logical_emit_message(true, '" NUDGE_PREFIX "', '')", err, sizeof err) < 0) {
        log_warn("capture", "cannot write a transaction for the waiting replays (they wait for the next "
                            "source transaction): %s", err);
        s->nudge_off = 1;
        return;
    }
    log_info("capture", "wrote a transaction for work that waits for one (dead-letter replays)");
}

/* WAL the source retains for the slot, as a metric; errors only skip the sample. */
static void session_retained_wal(capture *c, session *s)
{
    const char *params[1] = {c->o.slot};
    PGresult *r = PQexecParams(s->conn,
                               "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) "
                               "FROM pg_replication_slots WHERE slot_name = $1",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        metric_set(c->m_retained, strtod(PQgetvalue(r, 0, 0), NULL));
    PQclear(r);
}

/* Flush the sinks and confirm to the server what every sink has made durable. */
static session_result session_confirm(capture *c, session *s, int64_t now, int wait)
{
    if (capture_sinks_flush(c, wait, s->err, sizeof s->err) < 0)
        return SESSION_FATAL;
    uint64_t flushed = ack_tracker_flushed(c->ack);
    if (c->nontx_lsn > flushed && flushed >= c->nontx_floor)
        flushed = c->nontx_lsn;
    pg_stream_set_flushed(s->stream, flushed);
    metric_set(c->m_flushed_lsn, (double)pg_stream_flushed_lsn(s->stream));
    if (pg_stream_send_status(s->stream, now, s->err, sizeof s->err) < 0)
        return SESSION_RETRY;
    return SESSION_CONTINUE;
}

static session_result session_stream(capture *c, session *s, uint64_t start_lsn)
{
    pg_decode_handler h = capture_handler(c);
    pg_stream_options so = {.slot = c->o.slot,
                            .publication = c->o.publication,
                            .start_lsn = start_lsn,
                            .proto_version = 2, /* large transactions streamed, spilled to disk */
                            .messages = 1,
                            .status_interval_ms = c->o.status_interval_ms};
    s->stream = pg_stream_start(s->repl, &so, s->decoder, s->err, sizeof s->err);
    s->repl = NULL; /* owned by the stream now, or closed on failure */
    if (!s->stream)
        return SESSION_RETRY;
    s->streamed = 1;
    pg_incremental_reset_window(c->inc);
    capture_health(c, HEALTH_OK, "streaming");
    log_info("capture", "streaming from slot %s", c->o.slot);

    int64_t next_flush = loop_now_ms() + c->o.flush_interval_ms;
    int64_t next_heartbeat = loop_now_ms() + c->o.heartbeat_ms;
    int64_t next_retained = loop_now_ms(), next_nudge = loop_now_ms() + NUDGE_CHECK_MS;
    while (!*c->stop) {
        int64_t now = loop_now_ms();
        if (!s->nudge_off && !c->in_tx && now >= next_nudge) {
            session_nudge(c, s);
            next_nudge = now + NUDGE_CHECK_MS;
        }
        if (c->o.heartbeat_ms > 0 && !s->heartbeat_off && now >= next_heartbeat) {
            session_heartbeat(c, s);
            next_heartbeat = now + c->o.heartbeat_ms;
        }
        if (now >= next_retained) {
            session_retained_wal(c, s);
            next_retained = now + RETAINED_WAL_PERIOD_MS;
        }
        int64_t due = pg_stream_next_due_ms(s->stream);
        if (next_flush < due)
            due = next_flush;
        int timeout = due <= now ? 0 : (int)(due - now);
        struct pollfd p = {.fd = pg_stream_fd(s->stream), .events = POLLIN};
        if (poll(&p, 1, timeout > 1000 ? 1000 : timeout) < 0 && errno != EINTR) {
            snprintf(s->err, sizeof s->err, "poll: %s", strerror(errno));
            return SESSION_RETRY;
        }
        int rc = pg_stream_poll(s->stream, &h, loop_now_ms(), 0, s->err, sizeof s->err);
        if (c->sink_failed)
            return SESSION_FATAL;
        if (rc != 0) {
            if (rc > 0)
                snprintf(s->err, sizeof s->err, "the server ended the replication stream");
            return SESSION_RETRY;
        }
        if (pg_incremental_busy(c->inc) && pg_incremental_step(c->inc, s->conn, s->err, sizeof s->err) < 0)
            return SESSION_RETRY;
        now = loop_now_ms();
        if (now >= next_flush) {
            session_result r = session_confirm(c, s, now, 0);
            if (r != SESSION_CONTINUE)
                return r;
            next_flush = now + c->o.flush_interval_ms;
        }
    }
    session_result r = session_confirm(c, s, loop_now_ms(), 1);
    return r == SESSION_CONTINUE ? SESSION_STOPPED : r;
}

static session_result capture_session(capture *c, session *s)
{
    preflight_report report = {0};
    int snapshot = 0, create_slot = 0;
    uint64_t start_lsn = 0;
    session_result r = SESSION_RETRY;

    if (!(s->conn = pg_conn_open(c->o.conninfo, c->o.password, PG_CONN_NORMAL, s->err, sizeof s->err)))
        goto out;
    c->catalog = s->conn;
    int fails = pg_preflight_run(s->conn, c->o.slot, c->o.publication, c->o.tables, &report, s->err,
                                 sizeof s->err);
    if (fails != 0) {
        if (fails > 0) {
            for (size_t i = 0; i < report.n; i++)
                if (report.items[i].status == PREFLIGHT_FAIL)
                    log_fields(LOG_ERROR, "capture", "source check failed", "check", report.items[i].name,
                               "problem", report.items[i].message, "fix", report.items[i].fix, NULL);
            snprintf(s->err, sizeof s->err, "%d source check(s) failed (see `sluice check --source`)", fails);
        }
        goto out;
    }
    if (pg_publication_ensure(s->conn, c->o.publication, c->o.tables, s->err, sizeof s->err) < 0)
        goto out;
    if ((r = session_plan(c, s, &snapshot, &create_slot)) != SESSION_CONTINUE)
        goto out;
    r = SESSION_RETRY;
    if (!(s->repl = pg_conn_open(c->o.conninfo, c->o.password, PG_CONN_REPLICATION, s->err, sizeof s->err)))
        goto out;
    if (create_slot) {
        char snapshot_name[64] = "";
        if (pg_slot_create(s->repl, c->o.slot, snapshot, snapshot_name, &start_lsn, s->err, sizeof s->err) < 0)
            goto out;
        char lsn[18];
        lsn_format(start_lsn, lsn);
        log_fields(LOG_INFO, "capture", "replication slot created", "slot", c->o.slot, "consistent_lsn", lsn,
                   NULL);
        if (snapshot) {
            if ((r = session_snapshot(c, s, snapshot_name, start_lsn)) != SESSION_CONTINUE)
                goto out;
            if (*c->stop || strcmp(c->o.snapshot_mode, "initial_only") == 0) {
                r = SESSION_STOPPED;
                goto out;
            }
        }
    }
    r = session_stream(c, s, start_lsn);
out:
    preflight_report_free(&report);
    return r;
}

static void capture_sleep(capture *c, int ms)
{
    for (int waited = 0; waited < ms && !*c->stop; waited += 100) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int capture_run(capture *c, volatile sig_atomic_t *stop)
{
    int backoff = 500;
    c->stop = stop;
    capture_health(c, HEALTH_STARTING, "connecting");
    while (!*stop) {
        session s = {0};
        s.decoder = pg_decoder_create(c->schema);
        session_result r = s.decoder ? capture_session(c, &s) : SESSION_FATAL;
        if (!s.decoder)
            snprintf(s.err, sizeof s.err, "out of memory");
        session_close(&s);
        c->catalog = NULL;
        if (r == SESSION_STOPPED) {
            capture_health(c, HEALTH_OK, "stopped");
            return 0;
        }
        if (r == SESSION_FATAL) {
            log_error("capture", "capture stopped: %s", s.err);
            capture_health(c, HEALTH_DOWN, s.err);
            return -1;
        }
        if (s.streamed)
            backoff = 500;
        log_warn("capture", "%s; reconnecting in %d ms", s.err, backoff);
        capture_health(c, HEALTH_DEGRADED, s.err);
        metric_add(c->m_reconnects, 1);
        capture_sleep(c, backoff);
        backoff = backoff * 2 > c->o.max_backoff_ms ? c->o.max_backoff_ms : backoff * 2;
    }
    return 0;
}
