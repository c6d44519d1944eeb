/* pg_spill: bounded buffering of streamed (in-progress) transactions for the pgoutput decoder.
 * Each top-level xid's records (message bytes with their LSN and subtransaction xid) stay in
 * memory while all transactions together fit under a threshold; beyond it the largest ones move
 * to a temporary file (mkstemp, unlinked at once, so a crash leaves nothing behind) and their
 * later records are appended there through one shared write buffer. Replay walks a transaction's
 * records in order through a read buffer, skipping records of aborted subtransactions. */
#ifndef SLUICE_CAPTURE_PG_SPILL_H
#define SLUICE_CAPTURE_PG_SPILL_H

#include <stddef.h>
#include <stdint.h>

/* Default memory threshold for all buffered streamed transactions together. */
#define PG_SPILL_DEFAULT_THRESHOLD ((size_t)8 << 20)

typedef struct pg_spill pg_spill;

/* One buffered message. data is valid only during the replay callback. */
typedef struct pg_spill_record {
    uint64_t lsn;
    uint32_t subxid;   /* the subtransaction it belongs to; 0: none (never dropped by an abort) */
    const uint8_t *data;
    size_t len;
} pg_spill_record;

typedef struct pg_spill_stats {
    uint64_t spilled_txns;    /* transactions moved to a file, ever */
    uint64_t spilled_bytes;   /* bytes written to spill files, ever */
    uint64_t write_calls;     /* pwrite system calls */
    uint64_t read_calls;      /* pread system calls */
    size_t files_open;        /* spill files open now */
} pg_spill_stats;

/* dir: where spill files go; NULL means $TMPDIR, or /tmp, looked up when a file is made.
 * threshold: bytes of memory for all transactions' records together (0: spill everything). */
pg_spill *pg_spill_create(const char *dir, size_t threshold);
/* Closes (and so frees the disk space of) every spill file. Accepts NULL. */
void pg_spill_destroy(pg_spill *s);

/* Change the directory and threshold; they apply from the next record on. -1 when out of
 * memory (the old settings stay). */
int pg_spill_configure(pg_spill *s, const char *dir, size_t threshold);

/* Append a record to transaction xid (created on first use). Moves transactions to files as
 * needed to stay under the threshold. 0, or -1 with a reason naming the xid in err
 * (e.g. "streamed transaction 742: cannot write spill file in /tmp: No space left on device"). */
int pg_spill_append(pg_spill *s, uint32_t xid, uint64_t lsn, uint32_t subxid, const uint8_t *data,
                    size_t len, char *err, size_t errlen);

/* Drop subtransaction subxid's records from xid (now if in memory, at replay if in a file).
 * 0, or -1 with the reason in err (out of memory). */
int pg_spill_abort_subxact(pg_spill *s, uint32_t xid, uint32_t subxid, char *err, size_t errlen);

/* Forget xid's records but keep it open (it is being streamed again from its start). */
void pg_spill_reset(pg_spill *s, uint32_t xid);

/* Forget xid entirely: free its memory, close its file. Unknown xids are ignored. */
void pg_spill_close(pg_spill *s, uint32_t xid);

/* Called once per record of xid, in append order; must not call into s. Non-zero stops replay. */
typedef int (*pg_spill_visit)(void *arg, const pg_spill_record *rec);

/* Replay xid's records (none if xid is unknown). 0; -1 with err empty when fn failed (fn keeps
 * its own reason); -1 with a reason naming the xid and LSN in err on a read error. */
int pg_spill_replay(pg_spill *s, uint32_t xid, pg_spill_visit fn, void *arg, char *err, size_t errlen);

/* Write out and release the write buffer (the end of a stream segment). 0 or -1 with reason. */
int pg_spill_flush(pg_spill *s, char *err, size_t errlen);

/* Bytes of memory held: record buffers, I/O buffers, bookkeeping. Spilled data is not counted. */
size_t pg_spill_footprint(const pg_spill *s);

void pg_spill_stats_get(const pg_spill *s, pg_spill_stats *out);

#endif
