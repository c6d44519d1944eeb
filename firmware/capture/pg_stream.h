/* pg_stream: the logical replication stream on a replication connection, after the steps of
 * pg_recvlogical's loop: START_REPLICATION, receive CopyData, answer keepalives, send standby
 * status updates. Write LSN = what was received and handed on; flush LSN = what the caller says is
 * durable everywhere (pg_stream_set_flushed), never more. When no transaction is in flight and
 * everything received is flushed, a keepalive's server position may be confirmed too, so an idle
 * slot advances. Non-blocking: the caller polls the socket (pg_stream_fd). */
#ifndef SLUICE_CAPTURE_PG_STREAM_H
#define SLUICE_CAPTURE_PG_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "capture/pg_decode.h"

typedef struct pg_stream_options {
    const char *slot;
    const char *publication;     /* one name or a comma-separated list */
    uint64_t start_lsn;          /* 0: the slot's confirmed position */
    int proto_version;           /* 1, or 2 to stream large in-progress transactions (PG 14+) */
    int messages;                /* ask for logical decoding messages */
    int status_interval_ms;      /* standby status period (default 10000) */
} pg_stream_options;

typedef struct pg_stream pg_stream;

/* Start streaming on conn (a PG_CONN_REPLICATION connection; the stream takes ownership).
 * NULL with the reason in err; conn is closed then too. */
pg_stream *pg_stream_start(PGconn *conn, const pg_stream_options *opts, pg_decoder *dec,
                           char *err, size_t errlen);
/* Send a final status update (with the flushed LSN), end the copy and close the connection. */
void pg_stream_destroy(pg_stream *s);

int pg_stream_fd(const pg_stream *s);
/* Read and decode what has arrived (at most max_messages, 0 = no limit) without blocking on the
 * socket, hand it to h, answer keepalives and send the periodic status. While changes flow in
 * small batches it first waits up to 200 microseconds so more arrive together (fewer wake-ups;
 * see pg_stream.c). Returns 0 when it should be called
 * again after the socket is readable or the status timer (see pg_stream_next_due_ms) is due,
 * 1 when the server ended the stream, -1 on error (reason in err, LSN included). */
int pg_stream_poll(pg_stream *s, const pg_decode_handler *h, int64_t now_ms, int max_messages,
                   char *err, size_t errlen);
/* Everything up to lsn is durable in every sink (a commit's end_lsn; for a non-transactional
 * logical message, its lsn once handled). */
void pg_stream_set_flushed(pg_stream *s, uint64_t lsn);
/* Send a status update now (e.g. after flushing). 0 or -1. */
int pg_stream_send_status(pg_stream *s, int64_t now_ms, char *err, size_t errlen);
/* Milliseconds (monotonic clock) when the next status update is due. */
int64_t pg_stream_next_due_ms(const pg_stream *s);
uint64_t pg_stream_received_lsn(const pg_stream *s);
/* The flush position reported to the server (the flushed LSN, or the idle position). */
uint64_t pg_stream_flushed_lsn(const pg_stream *s);
/* The highest WAL position the server said it has sent (XLogData or keepalive walEnd). */
uint64_t pg_stream_server_lsn(const pg_stream *s);
/* 1 when pg_stream_poll stopped at max_messages with a message already read from the socket:
 * call pg_stream_poll again without waiting for the socket (it will not become readable). */
int pg_stream_pending(const pg_stream *s);

#endif
