/* pg_stream: the logical replication stream (see pg_stream.h), in the small steps of
 * PostgreSQL's pg_recvlogical.c: start, receive, keepalive, data, feedback. Every CopyData
 * message is length-checked before it is read; XLogData payloads go to the pgoutput decoder.
 *
 * Positions. received = the WAL position of the last XLogData message handed on (for a Commit
 * message that is the end of the commit record), reported as "write". flushed = what the caller
 * declared durable in every sink (pg_stream_set_flushed), reported as "flush" and "apply"; the
 * slot's confirmed_flush_lsn follows it, so nothing is confirmed before it is durable.
 *
 * The one exception, so an idle slot advances (the same rule PostgreSQL's own apply worker uses
 * when it has no pending transactions): pgoutput sends nothing for transactions that touch no
 * published table, so after the last captured commit only keepalives carry the server's position.
 * A keepalive's walEnd is the point up to which the walsender has decoded and sent; every
 * transaction that committed before it was sent to us before the keepalive. So when
 *   - no transaction is open (the decoder called commit for every begin it called), and
 *   - flushed >= the end LSN of the last transaction received,
 * everything that committed before walEnd is durable, and walEnd may be confirmed. (A
 * non-transactional logical message counts like a transaction ending at its LSN: the caller
 * confirms it with pg_stream_set_flushed(msg->lsn) once handled.) A transaction
 * still running at walEnd commits after it, and the server sends it again after a restart, since
 * only transactions committing before the confirmed position are skipped. Streamed (protocol 2)
 * transactions that are buffered but not committed have not called begin, and commit after
 * walEnd too, so the rule holds for them. A position confirmed this way stays safe when later
 * transactions arrive (they all commit after it), so it is kept: the reported flush is
 * max(flushed, idle position) and never goes backwards, which matters because PostgreSQL 15 would
 * move the slot's confirmed_flush_lsn backwards if told to. */
#include "capture/pg_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/event.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_S 946684800LL

/* Reading in batches. The walsender sends every pgoutput message as its own TCP segment, so a
 * client that wakes for each one spends more CPU on wake-ups and acknowledgements than on
 * decoding, and the acknowledgements slow the walsender too. So:
 *  - one call reads until the socket is empty (libpq reads at most its buffer, 16 KiB, per
 *    PQconsumeInput), up to STREAM_CALL_BYTES so the caller's timers still run; and
 *  - after a call that found messages but fewer than STREAM_BATCH_BYTES, the next call first
 *    waits STREAM_BATCH_WAIT_US for more to arrive. That adds at most that much latency, only
 *    while changes flow, and stops as soon as batches are large (the client is behind). */
#define STREAM_CALL_BYTES (4 * 1024 * 1024)
#define STREAM_BATCH_BYTES (32 * 1024)
#define STREAM_BATCH_WAIT_US 200

struct pg_stream {
    PGconn *conn;
    pg_decoder *dec;
    int status_interval_ms;
    uint64_t received;        /* write: position of the last handled XLogData message */
    uint64_t flushed;         /* durable everywhere, as set by pg_stream_set_flushed */
    uint64_t idle_confirmed;  /* keepalive walEnd confirmed while idle (see above) */
    uint64_t last_tx_end;     /* end LSN of the last committed transaction received */
    uint64_t server_end;      /* the last walEnd the server sent */
    int in_tx;                /* the decoder called begin without commit yet */
    int64_t next_due_ms;      /* next periodic status update */
    uint64_t sent_write, sent_flush; /* the last status update sent */
    int sent_any;
    int copying;              /* in COPY BOTH mode (until the server ends the stream) */
    char *held;               /* a message read ahead when max_messages was reached */
    int held_len;
    int batch_wait;           /* the last call read a small batch: wait before the next read */
};

/* The handler the decoder sees: tracks transaction boundaries, forwards to the caller's. */
typedef struct wrap_ctx {
    pg_stream *s;
    const pg_decode_handler *h;
} wrap_ctx;

static int wrap_begin(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    wrap_ctx *w = arg;
    w->s->in_tx = 1;
    return w->h->begin ? w->h->begin(w->h->arg, tx, err, errlen) : 0;
}

static int wrap_commit(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    wrap_ctx *w = arg;
    int rc = w->h->commit ? w->h->commit(w->h->arg, tx, err, errlen) : 0;
    w->s->in_tx = 0;
    if (tx->end_lsn > w->s->last_tx_end)
        w->s->last_tx_end = tx->end_lsn;
    return rc;
}

static int wrap_change(void *arg, const event *ev, char *err, size_t errlen)
{
    wrap_ctx *w = arg;
    return w->h->change ? w->h->change(w->h->arg, ev, err, errlen) : 0;
}

static int wrap_schema(void *arg, const table_def *def, char *err, size_t errlen)
{
    wrap_ctx *w = arg;
    return w->h->schema ? w->h->schema(w->h->arg, def, err, errlen) : 0;
}

/* A non-transactional message is data outside any transaction: like a commit, it holds the
 * idle rule back until the caller has declared its position flushed. */
static int wrap_message(void *arg, const logical_message *m, char *err, size_t errlen)
{
    wrap_ctx *w = arg;
    int rc = w->h->message ? w->h->message(w->h->arg, m, err, errlen) : 0;
    if (!m->transactional && m->lsn > w->s->last_tx_end)
        w->s->last_tx_end = m->lsn;
    return rc;
}

static uint64_t get_u64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (uint8_t)p[i];
    return v;
}

static void put_u64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

/* libpq's message without the trailing newline. */
static void conn_err(char *err, size_t errlen, const char *what, PGconn *c)
{
    const char *m = PQerrorMessage(c);
    snprintf(err, errlen, "%s: %s", what, m && *m ? m : "connection lost");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

/* Append s to dst as a replication-grammar string literal body ('' for a quote). */
static int literal_append(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (*len + 3 >= cap)
            return -1;
        if (s[i] == '\'')
            dst[(*len)++] = '\'';
        dst[(*len)++] = s[i];
    }
    dst[*len] = '\0';
    return 0;
}

/* publication_names: each comma-separated name double-quoted (pgoutput splits the value as an
 * identifier list, so quoting keeps the case the publication was created with). */
static int build_publication_names(const char *pubs, char *out, size_t cap)
{
    size_t len = 0;
    const char *p = pubs;
    int first = 1;
    out[0] = '\0';
    while (*p) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (!first && literal_append(out, cap, &len, ",", 1) < 0)
            return -1;
        if (literal_append(out, cap, &len, "\"", 1) < 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"' && literal_append(out, cap, &len, "\"", 1) < 0)
                return -1;
            if (literal_append(out, cap, &len, &p[i], 1) < 0)
                return -1;
        }
        if (literal_append(out, cap, &len, "\"", 1) < 0)
            return -1;
        first = 0;
        p += strcspn(p, ",");
    }
    return first ? -1 : 0;
}

pg_stream *pg_stream_start(PGconn *conn, const pg_stream_options *opts, pg_decoder *dec,
                           char *err, size_t errlen)
{
    pg_stream *s = NULL;
    PGresult *res = NULL;
    char pubnames[1024], cmd[1536], lsn[18], slot_q[160];
    int proto = opts->proto_version >= 2 ? 2 : 1;
    size_t sl = 0;

    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "no replication connection");
        goto fail;
    }
    if (!opts->slot || !*opts->slot || strlen(opts->slot) > 63) {
        snprintf(err, errlen, "invalid replication slot name");
        goto fail;
    }
    if (!opts->publication || build_publication_names(opts->publication, pubnames,
                                                      sizeof pubnames) < 0) {
        snprintf(err, errlen, "invalid publication name list '%s'",
                 opts->publication ? opts->publication : "");
        goto fail;
    }
    slot_q[sl++] = '"';
    for (const char *p = opts->slot; *p; p++) {
        if (*p == '"')
            slot_q[sl++] = '"';
        slot_q[sl++] = *p;
    }
    slot_q[sl++] = '"';
    slot_q[sl] = '\0';
    /* Protocol 2 (streaming of in-progress transactions) needs PostgreSQL 14. */
    if (proto == 2 && PQserverVersion(conn) < 140000)
        proto = 1;
    lsn_format(opts->start_lsn, lsn);
    snprintf(cmd, sizeof cmd,
             "START_REPLICATION SLOT %s LOGICAL %s (proto_version '%d', publication_names '%s'%s%s)",
             slot_q, lsn, proto, pubnames, opts->messages ? ", messages 'true'" : "",
             proto == 2 ? ", streaming 'true'" : "");
    res = PQexec(conn, cmd);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        conn_err(err, errlen, "cannot start replication", conn);
        goto fail;
    }
    PQclear(res);
    res = NULL;

    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->conn = conn;
    s->dec = dec;
    s->status_interval_ms = opts->status_interval_ms > 0 ? opts->status_interval_ms : 10000;
    s->received = opts->start_lsn;
    s->flushed = opts->start_lsn;
    s->next_due_ms = 0;   /* the first poll reports our position */
    s->copying = 1;
    return s;
fail:
    PQclear(res);
    if (conn)
        PQfinish(conn);
    return NULL;
}

/* The flush position to report: what the caller made durable, or the idle position. */
static uint64_t flush_to_report(const pg_stream *s)
{
    return s->idle_confirmed > s->flushed ? s->idle_confirmed : s->flushed;
}

/* Real time in PostgreSQL's epoch (microseconds since 2000-01-01), for the sendTime field only:
 * the server shows it as reply_time and never computes with it. */
static int64_t pg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - PG_EPOCH_OFFSET_S) * 1000000 + ts.tv_nsec / 1000;
}

/* Standby status update: 'r', write, flush, apply, sendTime, replyRequested = 0. */
static int send_status(pg_stream *s, int64_t now_ms, char *err, size_t errlen)
{
    char msg[1 + 8 + 8 + 8 + 8 + 1];
    uint64_t flush = flush_to_report(s);
    uint64_t write = s->received > flush ? s->received : flush;

    msg[0] = 'r';
    put_u64(&msg[1], write);
    put_u64(&msg[9], flush);
    put_u64(&msg[17], flush);
    put_u64(&msg[25], (uint64_t)pg_now_us());
    msg[33] = 0;
    if (PQputCopyData(s->conn, msg, sizeof msg) <= 0 || PQflush(s->conn) != 0) {
        conn_err(err, errlen, "cannot send the replication status", s->conn);
        return -1;
    }
    s->sent_write = write;
    s->sent_flush = flush;
    s->sent_any = 1;
    s->next_due_ms = now_ms + s->status_interval_ms;
    return 0;
}

/* 'k': walEnd, sendTime, replyRequested. */
static int handle_keepalive(pg_stream *s, const char *m, int len, int64_t now_ms, char *err,
                            size_t errlen)
{
    char at[18];
    if (len < 1 + 8 + 8 + 1) {
        lsn_format(s->received, at);
        snprintf(err, errlen, "malformed keepalive message (%d bytes) after %s", len, at);
        return -1;
    }
    uint64_t wal_end = get_u64(&m[1]);
    int reply = m[17] != 0;
    if (wal_end > s->server_end)
        s->server_end = wal_end;
    /* The idle rule (file comment): nothing open and everything received durable. */
    if (!s->in_tx && s->flushed >= s->last_tx_end && wal_end > flush_to_report(s))
        s->idle_confirmed = wal_end;
    if (reply || flush_to_report(s) != s->sent_flush || !s->sent_any)
        return send_status(s, now_ms, err, errlen);
    return 0;
}

/* 'w': dataStart, walEnd, sendTime, then one pgoutput message. */
static int handle_xlogdata(pg_stream *s, const char *m, int len, const pg_decode_handler *h,
                           char *err, size_t errlen)
{
    const int hdr = 1 + 8 + 8 + 8;
    char at[18];
    if (len < hdr + 1) {
        lsn_format(s->received, at);
        snprintf(err, errlen, "malformed XLogData message (%d bytes) after %s", len, at);
        return -1;
    }
    uint64_t start = get_u64(&m[1]), wal_end = get_u64(&m[9]);
    wrap_ctx w = {s, h};
    pg_decode_handler wrapped = {&w, wrap_begin, wrap_change, wrap_commit, wrap_schema,
                                 wrap_message};
    if (wal_end > s->server_end)
        s->server_end = wal_end;
    if (pg_decoder_feed(s->dec, start, (const uint8_t *)m + hdr, (size_t)(len - hdr), &wrapped, err,
                        errlen) < 0)
        return -1;
    if (start > s->received)
        s->received = start;
    return 0;
}

static int handle_message(pg_stream *s, const char *m, int len, const pg_decode_handler *h,
                          int64_t now_ms, char *err, size_t errlen)
{
    char at[18];
    if (len < 1) {
        lsn_format(s->received, at);
        snprintf(err, errlen, "empty replication message after %s", at);
        return -1;
    }
    if (m[0] == 'w')
        return handle_xlogdata(s, m, len, h, err, errlen);
    if (m[0] == 'k')
        return handle_keepalive(s, m, len, now_ms, err, errlen);
    lsn_format(s->received, at);
    snprintf(err, errlen, "unexpected replication message type 0x%02x after %s", (uint8_t)m[0], at);
    return -1;
}

/* The server ended the copy: CommandComplete means a clean end (1), anything else an error. */
static int handle_copy_end(pg_stream *s, char *err, size_t errlen)
{
    int rc = -1;
    PGresult *res = PQgetResult(s->conn);
    s->copying = 0;
    if (PQresultStatus(res) == PGRES_COPY_OUT) {
        /* The server sent CopyDone first; answer with ours to finish the exchange. */
        PQclear(res);
        if (PQputCopyEnd(s->conn, NULL) <= 0 || PQflush(s->conn) != 0) {
            conn_err(err, errlen, "replication stream ended", s->conn);
            return -1;
        }
        res = PQgetResult(s->conn);
    }
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        rc = 1;
    } else {
        const char *m = res ? PQresultErrorMessage(res) : "";
        char at[18];
        lsn_format(s->received, at);
        if (m && *m) {
            snprintf(err, errlen, "replication stream ended after %s: %s", at, m);
            size_t n = strlen(err);
            while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
                err[--n] = '\0';
        } else {
            conn_err(err, errlen, "replication stream ended", s->conn);
        }
    }
    PQclear(res);
    /* Drain what is left (a final NULL ends the command). */
    while ((res = PQgetResult(s->conn)) != NULL)
        PQclear(res);
    return rc;
}

/* Wait briefly so that a busy stream's messages arrive together (see STREAM_BATCH_BYTES). */
static void batch_wait(pg_stream *s)
{
    struct timespec ts = {0, STREAM_BATCH_WAIT_US * 1000L};
    if (!s->batch_wait)
        return;
    s->batch_wait = 0;
    nanosleep(&ts, NULL);
}

int pg_stream_poll(pg_stream *s, const pg_decode_handler *h, int64_t now_ms, int max_messages,
                   char *err, size_t errlen)
{
    static const pg_decode_handler none = {0};
    int handled = 0, held = 0;
    size_t bytes = 0;
    if (!h)
        h = &none;
    if (s->held) {
        int rc = handle_message(s, s->held, s->held_len, h, now_ms, err, errlen);
        PQfreemem(s->held);
        s->held = NULL;
        if (rc < 0)
            return -1;
        handled++;
    }
    batch_wait(s);
    /* Rounds of read-then-decode until a round brings nothing new (see STREAM_CALL_BYTES). */
    while (!held && bytes < STREAM_CALL_BYTES) {
        int round = 0;
        if (!PQconsumeInput(s->conn)) {
            conn_err(err, errlen, "replication connection lost", s->conn);
            return -1;
        }
        for (;;) {
            char *m = NULL;
            int len = PQgetCopyData(s->conn, &m, 1);
            if (len == 0)
                break;                      /* no complete message buffered */
            if (len == -1)
                return handle_copy_end(s, err, errlen);
            if (len < -1) {
                conn_err(err, errlen, "replication connection lost", s->conn);
                return -1;
            }
            if (max_messages > 0 && handled >= max_messages) {
                s->held = m;                /* keep it for the next call: see pg_stream_pending */
                s->held_len = len;
                held = 1;
                break;
            }
            int rc = handle_message(s, m, len, h, now_ms, err, errlen);
            PQfreemem(m);
            if (rc < 0)
                return -1;
            handled++;
            round++;
            bytes += (size_t)len;
        }
        if (!round)
            break;
    }
    s->batch_wait = handled > 0 && !held && bytes < STREAM_BATCH_BYTES;
    if (now_ms >= s->next_due_ms && send_status(s, now_ms, err, errlen) < 0)
        return -1;
    return 0;
}

int pg_stream_pending(const pg_stream *s)
{
    return s && s->held != NULL;
}

void pg_stream_set_flushed(pg_stream *s, uint64_t lsn)
{
    if (lsn > s->flushed)
        s->flushed = lsn;
}

int pg_stream_send_status(pg_stream *s, int64_t now_ms, char *err, size_t errlen)
{
    return send_status(s, now_ms, err, errlen);
}

int64_t pg_stream_next_due_ms(const pg_stream *s)
{
    return s->next_due_ms;
}

int pg_stream_fd(const pg_stream *s)
{
    return PQsocket(s->conn);
}

uint64_t pg_stream_received_lsn(const pg_stream *s)
{
    return s->received;
}

uint64_t pg_stream_flushed_lsn(const pg_stream *s)
{
    return flush_to_report(s);
}

uint64_t pg_stream_server_lsn(const pg_stream *s)
{
    return s->server_end;
}

void pg_stream_destroy(pg_stream *s)
{
    char err[256];
    if (!s)
        return;
    if (s->copying && PQstatus(s->conn) == CONNECTION_OK) {
        /* Still copying: report the final position, then end the copy. The server reads the
         * status before the CopyDone and the Terminate that PQfinish sends. */
        if (send_status(s, 0, err, sizeof err) == 0) {
            PQputCopyEnd(s->conn, NULL);
            PQflush(s->conn);
        }
    }
    PQfreemem(s->held);
    PQfinish(s->conn);
    free(s);
}
