/* pg_spill: memory-bounded store of streamed transactions' records (see pg_spill.h).
 * A record is [u64 lsn][u32 subxid][u32 len][len bytes], in host byte order both in memory and
 * in files (a file lives only as long as this process). Files are written with pwrite through one
 * shared 64 KiB buffer and read back with pread through another, so no system call is made per
 * record except for records larger than the buffers. */
#include "capture/pg_spill.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/event.h"

#define SPILL_REC_HEADER 16
#define SPILL_IO_BUFFER ((size_t)64 * 1024)

typedef struct spill_txn {
    uint32_t xid;
    uint8_t *mem;          /* records while the transaction is in memory */
    size_t len, cap;
    int fd;                /* its spill file, or -1 while in memory */
    uint64_t file_len;     /* bytes written to the file (the write buffer not included) */
    uint64_t last_lsn;     /* of the last record appended, for error messages */
    int lost;              /* a write to the file failed: records are missing */
    uint32_t *aborted;     /* subtransactions aborted while in a file */
    size_t naborted, capaborted;
} spill_txn;

struct pg_spill {
    char *dir;             /* NULL: $TMPDIR or /tmp */
    size_t threshold;
    spill_txn *txns;
    size_t ntxns, captxns;
    size_t mem_bytes;      /* capacity of all in-memory record buffers */
    uint8_t *wbuf;         /* SPILL_IO_BUFFER bytes, or NULL */
    size_t wlen;
    uint32_t wxid;         /* whose records wbuf holds, when wlen > 0 */
    uint8_t *rbuf;         /* during a replay from a file */
    size_t rcap;
    pg_spill_stats stats;
};

/* "streamed transaction <xid>: <detail>" into err; returns -1. */
static int spill_fail(char *err, size_t errlen, uint32_t xid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int spill_fail(char *err, size_t errlen, uint32_t xid, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "streamed transaction %" PRIu32 ": ", xid);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *spill_dir(const pg_spill *s)
{
    const char *tmp;
    if (s->dir)
        return s->dir;
    tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

static void spill_header_put(uint8_t *p, uint64_t lsn, uint32_t subxid, uint32_t len)
{
    memcpy(p, &lsn, 8);
    memcpy(p + 8, &subxid, 4);
    memcpy(p + 12, &len, 4);
}

static void spill_header_get(const uint8_t *p, pg_spill_record *rec)
{
    uint32_t len;
    memcpy(&rec->lsn, p, 8);
    memcpy(&rec->subxid, p + 8, 4);
    memcpy(&len, p + 12, 4);
    rec->len = len;
    rec->data = p + SPILL_REC_HEADER;
}

/* ---- transactions ------------------------------------------------------------------------- */

static spill_txn *spill_txn_find(pg_spill *s, uint32_t xid)
{
    for (size_t i = 0; i < s->ntxns; i++)
        if (s->txns[i].xid == xid)
            return &s->txns[i];
    return NULL;
}

static spill_txn *spill_txn_get(pg_spill *s, uint32_t xid)
{
    spill_txn *t = spill_txn_find(s, xid);
    if (t)
        return t;
    if (s->ntxns == s->captxns) {
        size_t ncap = s->captxns ? s->captxns * 2 : 4;
        spill_txn *n = realloc(s->txns, ncap * sizeof *n);
        if (!n)
            return NULL;
        s->txns = n;
        s->captxns = ncap;
    }
    t = &s->txns[s->ntxns++];
    *t = (spill_txn){.xid = xid, .fd = -1};
    return t;
}

/* Back to an empty in-memory transaction; the memory buffer is kept unless free_mem. */
static void spill_txn_clear(pg_spill *s, spill_txn *t, int free_mem)
{
    if (s->wlen && s->wxid == t->xid)
        s->wlen = 0;
    if (t->fd >= 0) {
        close(t->fd);   /* the file is unlinked: this frees its space */
        s->stats.files_open--;
    }
    t->fd = -1;
    t->file_len = 0;
    t->lost = 0;
    t->len = 0;
    free(t->aborted);
    t->aborted = NULL;
    t->naborted = t->capaborted = 0;
    if (free_mem) {
        s->mem_bytes -= t->cap;
        free(t->mem);
        t->mem = NULL;
        t->cap = 0;
    }
}

static int spill_subxid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- files -------------------------------------------------------------------------------- */

/* Write n bytes at the end of t's file. */
static int spill_write(pg_spill *s, spill_txn *t, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    while (n > 0) {
        ssize_t w = pwrite(t->fd, p, n, (off_t)t->file_len);
        s->stats.write_calls++;
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            char lsn[18];
            int e = w < 0 ? errno : ENOSPC;
            t->lost = 1;
            lsn_format(t->last_lsn, lsn);
            return spill_fail(err, errlen, t->xid, "cannot write spill file in %s (record at %s): %s",
                              spill_dir(s), lsn, strerror(e));
        }
        p += w;
        n -= (size_t)w;
        t->file_len += (uint64_t)w;
        s->stats.spilled_bytes += (uint64_t)w;
    }
    return 0;
}

static int spill_wbuf_flush(pg_spill *s, char *err, size_t errlen)
{
    spill_txn *t;
    size_t n = s->wlen;
    if (!n)
        return 0;
    s->wlen = 0;
    if (!(t = spill_txn_find(s, s->wxid)))
        return 0;
    return spill_write(s, t, s->wbuf, n, err, errlen);
}

/* Move an in-memory transaction to a new spill file. On failure it stays in memory. */
static int spill_txn_move(pg_spill *s, spill_txn *t, char *err, size_t errlen)
{
    char path[4096];
    const char *dir = spill_dir(s);
    int n = snprintf(path, sizeof path, "%s/sluice-spill-%" PRIu32 "-XXXXXX", dir, t->xid);
    if (n < 0 || (size_t)n >= sizeof path)
        return spill_fail(err, errlen, t->xid, "spill directory name is too long: %s", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return spill_fail(err, errlen, t->xid, "cannot create spill file in %s: %s", dir, strerror(errno));
    if (unlink(path) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;
        unlink(path);
        close(fd);
        return spill_fail(err, errlen, t->xid, "cannot set up spill file %s: %s", path, strerror(e));
    }
    t->fd = fd;
    t->file_len = 0;
    s->stats.files_open++;
    s->stats.spilled_txns++;
    if (spill_write(s, t, t->mem, t->len, err, errlen) < 0) {
        close(fd);
        s->stats.files_open--;
        t->fd = -1;
        t->file_len = 0;
        t->lost = 0;   /* the records are still in memory */
        return -1;
    }
    s->mem_bytes -= t->cap;
    free(t->mem);
    t->mem = NULL;
    t->len = t->cap = 0;
    return 0;
}

/* Append a record to a transaction that is in a file. */
static int spill_file_append(pg_spill *s, spill_txn *t, uint64_t lsn, uint32_t subxid, const uint8_t *data,
                             size_t len, char *err, size_t errlen)
{
    size_t need = SPILL_REC_HEADER + len;
    if (t->lost)
        return spill_fail(err, errlen, t->xid, "records were lost by an earlier spill write error");
    if (s->wlen && s->wxid != t->xid && spill_wbuf_flush(s, err, errlen) < 0)
        return -1;
    if (!s->wbuf && !(s->wbuf = malloc(SPILL_IO_BUFFER)))
        return spill_fail(err, errlen, t->xid, "out of memory for the spill write buffer");
    if (need > SPILL_IO_BUFFER - s->wlen && spill_wbuf_flush(s, err, errlen) < 0)
        return -1;
    if (need > SPILL_IO_BUFFER) {   /* a big record goes straight to the file */
        uint8_t hdr[SPILL_REC_HEADER];
        spill_header_put(hdr, lsn, subxid, (uint32_t)len);
        if (spill_write(s, t, hdr, sizeof hdr, err, errlen) < 0 || spill_write(s, t, data, len, err, errlen) < 0)
            return -1;
        return 0;
    }
    spill_header_put(s->wbuf + s->wlen, lsn, subxid, (uint32_t)len);
    memcpy(s->wbuf + s->wlen + SPILL_REC_HEADER, data, len);
    s->wlen += need;
    s->wxid = t->xid;
    return 0;
}

/* ---- memory ------------------------------------------------------------------------------- */

/* Make room for need more bytes in t's memory buffer within the threshold: 0, or -1 when over
 * budget (or out of memory), and something must move to a file. */
static int spill_mem_reserve(pg_spill *s, spill_txn *t, size_t need)
{
    if (t->cap - t->len >= need)
        return 0;
    size_t others = s->mem_bytes - t->cap;
    if (others > s->threshold || s->threshold - others < t->len || s->threshold - others - t->len < need)
        return -1;
    size_t budget = s->threshold - others;
    size_t ncap = t->cap ? t->cap : 4096;
    while (ncap - t->len < need)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    if (ncap > budget)
        ncap = budget;
    uint8_t *n = realloc(t->mem, ncap);
    if (!n)
        return -1;
    s->mem_bytes += ncap - t->cap;
    t->mem = n;
    t->cap = ncap;
    return 0;
}

/* The in-memory transaction holding the most memory; t when none holds more. */
static spill_txn *spill_txn_largest(pg_spill *s, spill_txn *t)
{
    spill_txn *best = t;
    for (size_t i = 0; i < s->ntxns; i++)
        if (s->txns[i].fd < 0 && s->txns[i].cap > best->cap)
            best = &s->txns[i];
    return best;
}

/* ---- public ------------------------------------------------------------------------------- */

pg_spill *pg_spill_create(const char *dir, size_t threshold)
{
    pg_spill *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pg_spill_configure(s, dir, threshold) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void pg_spill_destroy(pg_spill *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntxns; i++)
        spill_txn_clear(s, &s->txns[i], 1);
    free(s->txns);
    free(s->wbuf);
    free(s->rbuf);
    free(s->dir);
    free(s);
}

int pg_spill_configure(pg_spill *s, const char *dir, size_t threshold)
{
    char *copy = NULL;
    if (dir && !(copy = strdup(dir)))
        return -1;
    free(s->dir);
    s->dir = copy;
    s->threshold = threshold;
    return 0;
}

int pg_spill_append(pg_spill *s, uint32_t xid, uint64_t lsn, uint32_t subxid, const uint8_t *data,
                    size_t len, char *err, size_t errlen)
{
    char lsn_text[18];
    spill_txn *t;
    if (len > UINT32_MAX - SPILL_REC_HEADER) {
        lsn_format(lsn, lsn_text);
        return spill_fail(err, errlen, xid, "record at %s is too large (%zu bytes)", lsn_text, len);
    }
    if (!(t = spill_txn_get(s, xid)))
        return spill_fail(err, errlen, xid, "out of memory");
    t->last_lsn = lsn;
    size_t need = SPILL_REC_HEADER + len;
    while (t->fd < 0) {
        if (spill_mem_reserve(s, t, need) == 0) {
            spill_header_put(t->mem + t->len, lsn, subxid, (uint32_t)len);
            memcpy(t->mem + t->len + SPILL_REC_HEADER, data, len);
            t->len += need;
            return 0;
        }
        spill_txn *victim = spill_txn_largest(s, t);
        if (spill_txn_move(s, victim, err, errlen) < 0)
            return -1;
    }
    return spill_file_append(s, t, lsn, subxid, data, len, err, errlen);
}

int pg_spill_abort_subxact(pg_spill *s, uint32_t xid, uint32_t subxid, char *err, size_t errlen)
{
    spill_txn *t = spill_txn_find(s, xid);
    if (!t || subxid == 0)
        return 0;
    if (t->fd < 0) {   /* in memory: drop its records now */
        size_t in = 0, out = 0;
        while (in < t->len) {
            pg_spill_record rec;
            spill_header_get(t->mem + in, &rec);
            size_t size = SPILL_REC_HEADER + rec.len;
            if (rec.subxid != subxid) {
                if (out != in)
                    memmove(t->mem + out, t->mem + in, size);
                out += size;
            }
            in += size;
        }
        t->len = out;
        return 0;
    }
    for (size_t i = 0; i < t->naborted; i++)
        if (t->aborted[i] == subxid)
            return 0;
    if (t->naborted == t->capaborted) {
        size_t ncap = t->capaborted ? t->capaborted * 2 : 8;
        uint32_t *n = realloc(t->aborted, ncap * sizeof *n);
        if (!n)
            return spill_fail(err, errlen, xid, "out of memory recording aborted subtransaction %" PRIu32,
                              subxid);
        t->aborted = n;
        t->capaborted = ncap;
    }
    t->aborted[t->naborted++] = subxid;
    return 0;
}

void pg_spill_reset(pg_spill *s, uint32_t xid)
{
    spill_txn *t = spill_txn_find(s, xid);
    if (t)
        spill_txn_clear(s, t, 0);
}

void pg_spill_close(pg_spill *s, uint32_t xid)
{
    spill_txn *t = spill_txn_find(s, xid);
    if (!t)
        return;
    spill_txn_clear(s, t, 1);
    *t = s->txns[--s->ntxns];
}

/* Reading a spill file back: rbuf[pos, have) holds file bytes not yet replayed; off is where the
 * next read starts. */
typedef struct spill_reader {
    pg_spill *s;
    spill_txn *t;
    size_t pos, have;
    uint64_t off;
    uint64_t last_lsn;   /* of the last record replayed, for error messages */
} spill_reader;

/* Make rbuf[pos, pos + want) hold the next want bytes of the file, reading as much as fits. */
static int spill_reader_need(spill_reader *r, size_t want, char *err, size_t errlen)
{
    pg_spill *s = r->s;
    char lsn[18];
    if (r->have - r->pos >= want)
        return 0;
    if (want > s->rcap) {   /* a record larger than the buffer */
        uint8_t *n = malloc(want);
        if (!n)
            return spill_fail(err, errlen, r->t->xid, "out of memory for a %zu-byte spilled record", want);
        memcpy(n, s->rbuf + r->pos, r->have - r->pos);
        free(s->rbuf);
        s->rbuf = n;
        s->rcap = want;
    } else {
        memmove(s->rbuf, s->rbuf + r->pos, r->have - r->pos);
    }
    r->have -= r->pos;
    r->pos = 0;
    while (r->have < want) {
        size_t room = s->rcap - r->have;
        if (room > r->t->file_len - r->off)
            room = (size_t)(r->t->file_len - r->off);
        ssize_t n = room ? pread(r->t->fd, s->rbuf + r->have, room, (off_t)r->off) : 0;
        s->stats.read_calls++;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            lsn_format(r->last_lsn, lsn);
            return spill_fail(err, errlen, r->t->xid, "cannot read spill file (after record at %s): %s", lsn,
                              n < 0 ? strerror(errno) : "unexpected end of file");
        }
        r->have += (size_t)n;
        r->off += (uint64_t)n;
    }
    return 0;
}

/* Replay from t's file, skipping records of aborted subtransactions. */
static int spill_replay_file(pg_spill *s, spill_txn *t, pg_spill_visit fn, void *arg, char *err, size_t errlen)
{
    spill_reader r = {.s = s, .t = t};
    uint64_t done = 0;
    char lsn[18];
    int rc = -1;
    if (t->naborted > 1)
        qsort(t->aborted, t->naborted, sizeof *t->aborted, spill_subxid_cmp);
    if (!(s->rbuf = malloc(SPILL_IO_BUFFER))) {
        spill_fail(err, errlen, t->xid, "out of memory for the spill read buffer");
        goto out;
    }
    s->rcap = SPILL_IO_BUFFER;
    while (done < t->file_len) {
        pg_spill_record rec;
        if (spill_reader_need(&r, SPILL_REC_HEADER, err, errlen) < 0)
            goto out;
        spill_header_get(s->rbuf + r.pos, &rec);
        size_t size = SPILL_REC_HEADER + rec.len;
        if (size > t->file_len - done) {
            lsn_format(r.last_lsn, lsn);
            spill_fail(err, errlen, t->xid, "spill file is corrupt after record at %s", lsn);
            goto out;
        }
        if (spill_reader_need(&r, size, err, errlen) < 0)
            goto out;
        spill_header_get(s->rbuf + r.pos, &rec);
        r.pos += size;
        done += size;
        r.last_lsn = rec.lsn;
        if (rec.subxid && t->naborted &&
            bsearch(&rec.subxid, t->aborted, t->naborted, sizeof *t->aborted, spill_subxid_cmp))
            continue;
        if (fn(arg, &rec) != 0)
            goto out;
    }
    rc = 0;
out:
    free(s->rbuf);
    s->rbuf = NULL;
    s->rcap = 0;
    return rc;
}

int pg_spill_replay(pg_spill *s, uint32_t xid, pg_spill_visit fn, void *arg, char *err, size_t errlen)
{
    spill_txn *t = spill_txn_find(s, xid);
    if (errlen)
        err[0] = '\0';
    if (!t)
        return 0;
    if (t->lost)
        return spill_fail(err, errlen, xid, "records were lost by an earlier spill write error");
    if (t->fd >= 0) {
        if (s->wlen && s->wxid == xid && spill_wbuf_flush(s, err, errlen) < 0)
            return -1;
        return spill_replay_file(s, t, fn, arg, err, errlen);
    }
    for (size_t off = 0; off < t->len;) {
        pg_spill_record rec;
        spill_header_get(t->mem + off, &rec);
        off += SPILL_REC_HEADER + rec.len;
        if (fn(arg, &rec) != 0)
            return -1;
    }
    return 0;
}

int pg_spill_flush(pg_spill *s, char *err, size_t errlen)
{
    int rc = spill_wbuf_flush(s, err, errlen);
    free(s->wbuf);
    s->wbuf = NULL;
    return rc;
}

size_t pg_spill_footprint(const pg_spill *s)
{
    size_t n = s->mem_bytes + (s->wbuf ? SPILL_IO_BUFFER : 0) + s->rcap + s->captxns * sizeof(spill_txn);
    for (size_t i = 0; i < s->ntxns; i++)
        n += s->txns[i].capaborted * sizeof(uint32_t);
    return n;
}

void pg_spill_stats_get(const pg_spill *s, pg_spill_stats *out)
{
    *out = s->stats;
}
