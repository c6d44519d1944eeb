/* silver_crash: crashes the silver writer (firmware/sinks/lake/silver_sink) at a chosen step of
 * its commits, deterministically, for tests/runtime/lake_silver_crash.sh.
 *   silver_crash --lake DIR --state DIR --seed S --tx N [--crash POINT --at K] --out DIR
 *                [--commit-bytes B] [--file-bytes B]
 * Feeds the silver sink, as the capture does (begin, change..., commit, flush(0) per
 * transaction; flush(1) at the end), a stream of N transactions computed from the seed for the
 * table public.acct (id int4 primary key, name text, balance numeric(12,2), note text, updated
 * timestamptz, active bool; as silver_workload.py's): inserts, updates that leave a long
 * ("TOASTed") note unsent, updates of the note, primary-key changes and deletes (key-only old
 * images), two changes of one row, and inserts deleted in the same transaction. Every run
 * replays the stream from its first transaction, as the capture would after a restart: the sink
 * must skip what the tables already hold. The lake is a local-directory store on DIR (source
 * "crash": tables silver/crash/public/acct and acct_history) and the catalog the SQL catalog
 * "sluice" in --state's catalog.db; silver.db and the spool are in --state too. A transaction
 * commits a snapshot per table (commit interval 0) and bigger ones commit in parts
 * (--commit-bytes, default 6000); data files roll at --file-bytes (default 2500).
 *
 * The store and catalog handed to the sink are test doubles wrapping the real ones: every call
 * is forwarded; the calls of each crash point are counted, and with --crash the K-th call of
 * POINT ends the process with _exit(99) (nothing flushed, as with kill -9):
 *   data-put        before storing a data file (key *.parquet, not a delete file)
 *   delete-put      before storing a position-delete file (*-deletes.parquet)
 *   manifest-put    before storing a manifest (*-m0.avro, *-m1.avro)
 *   list-put        before storing a manifest list (*\/snap-*)
 *   metadata-put    before storing a metadata file (*.metadata.json)
 *   metadata-after  after storing a metadata file, before the catalog swap
 *   cas-before      before the catalog's compare-and-swap (also a table's creation)
 *   cas-after       after a successful swap, before its answer returns (the answer is lost)
 *   hint-put        before storing version-hint.text
 * Puts and multipart uploads count alike (an upload at its completion).
 * A run that completes writes into --out what tests/runtime/silver_verify.py reads for table
 * acct: acct.pg.json (the rows after the last transaction: id, name, balance as text, note,
 * updated in microseconds, active), acct.initial.json ([]: no snapshot rows) and oracle.jsonl
 * (the stream as test_decoding would log it: lsn, xid, data, commit_us), and prints
 * "transactions=N changes=M calls <point>=<count>...".
 * Exit status 0 when done, 99 at a crash, 1 with "silver_crash: <reason>" on stderr on errors.
 * Ownership: main owns everything; the workload's strings live in one arena. */
#define _GNU_SOURCE

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/pg_types.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/errbuf.h"
#include "core/fs.h"
#include "objstore/objstore_local.h"
#include "pipeline/ack.h"
#include "pipeline/event.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"
#include "sinks/lake/silver_sink.h"
#include "store/store.h"

#define USAGE                                                                                              \
    "usage: silver_crash --lake DIR --state DIR --seed S --tx N [--crash POINT --at K] --out DIR"          \
    " [--commit-bytes B] [--file-bytes B]"

static int die(const char *msg)
{
    fprintf(stderr, "silver_crash: %s\n", msg);
    return 1;
}

/* ---- crash points ------------------------------------------------------------------------------- */

static int key_ends(const char *key, const char *suffix)
{
    size_t k = strlen(key), s = strlen(suffix);
    return k >= s && strcmp(key + k - s, suffix) == 0;
}

static int is_data(const char *k) { return key_ends(k, ".parquet") && !strstr(k, "deletes"); }
static int is_deletes(const char *k) { return key_ends(k, "-deletes.parquet"); }
static int is_manifest(const char *k) { return key_ends(k, "-m0.avro") || key_ends(k, "-m1.avro"); }
static int is_list(const char *k) { return strstr(k, "/snap-") != NULL; }
static int is_metadata(const char *k) { return key_ends(k, ".metadata.json"); }
static int is_hint(const char *k) { return key_ends(k, "version-hint.text"); }

typedef struct crash_point {
    const char *name;
    int (*match)(const char *key);   /* a store key of the point; NULL: the catalog's commit */
    int after;                       /* counted once the call succeeded (else before forwarding it) */
} crash_point;

static const crash_point POINTS[] = {
    {"data-put", is_data, 0},        {"delete-put", is_deletes, 0},   {"manifest-put", is_manifest, 0},
    {"list-put", is_list, 0},        {"metadata-put", is_metadata, 0}, {"metadata-after", is_metadata, 1},
    {"cas-before", NULL, 0},         {"cas-after", NULL, 1},          {"hint-put", is_hint, 0},
};
#define NPOINTS (sizeof POINTS / sizeof POINTS[0])

/* The calls seen per point, and the one to crash at (point -1: none). */
typedef struct crash_plan {
    int point;
    long at;
    long seen[NPOINTS];
} crash_plan;

/* Count a call of the store (key) or of the catalog (key NULL) at this phase; die at the planned one. */
static void plan_count(crash_plan *p, const char *key, int after)
{
    for (size_t i = 0; i < NPOINTS; i++) {
        const crash_point *c = &POINTS[i];
        if (c->after != after || (key ? !c->match || !c->match(key) : c->match != NULL))
            continue;
        if (++p->seen[i] == p->at && (int)i == p->point) {
            fprintf(stderr, "silver_crash: crash at %s #%ld (%s)\n", c->name, p->at, key ? key : "catalog commit");
            _exit(99);
        }
    }
}

/* The object store double: forwards to inner, counting puts (and completed uploads). */
typedef struct crash_store {
    objstore base;
    objstore *inner;             /* owned */
    crash_plan *plan;            /* borrowed */
    objstore_upload *upload;     /* the upload in progress (one at a time) and its key */
    char *upload_key;
} crash_store;

static int cs_put(objstore *o, const char *key, const void *data, size_t len, const objstore_put_options *po,
                  char *err, size_t errlen)
{
    crash_store *s = (crash_store *)o;
    plan_count(s->plan, key, 0);
    int rc = objstore_put(s->inner, key, data, len, po, err, errlen);
    if (rc == OBJSTORE_OK)
        plan_count(s->plan, key, 1);
    return rc;
}

static int cs_get(objstore *o, const char *key, buf *out, size_t max, objstore_info *info, char *err, size_t errlen)
{
    return objstore_get(((crash_store *)o)->inner, key, out, max, info, err, errlen);
}

static int cs_head(objstore *o, const char *key, objstore_info *info, char *err, size_t errlen)
{
    return objstore_head(((crash_store *)o)->inner, key, info, err, errlen);
}

static int cs_list(objstore *o, const char *prefix, objstore_list_fn fn, void *arg, char *err, size_t errlen)
{
    return objstore_list(((crash_store *)o)->inner, prefix, fn, arg, err, errlen);
}

static int cs_remove(objstore *o, const char *key, char *err, size_t errlen)
{
    return objstore_remove(((crash_store *)o)->inner, key, err, errlen);
}

static void cs_upload_forget(crash_store *s)
{
    free(s->upload_key);
    s->upload_key = NULL;
    s->upload = NULL;
}

static objstore_upload *cs_upload_begin(objstore *o, const char *key, const objstore_put_options *po, char *err,
                                        size_t errlen)
{
    crash_store *s = (crash_store *)o;
    objstore_upload *u = s->inner->ops->upload_begin(s->inner, key, po, err, errlen);
    if (u) {
        cs_upload_forget(s);
        s->upload = u;
        s->upload_key = strdup(key);
    }
    return u;
}

static int cs_upload_part(objstore *o, objstore_upload *u, const void *data, size_t len, char *err, size_t errlen)
{
    crash_store *s = (crash_store *)o;
    return s->inner->ops->upload_part(s->inner, u, data, len, err, errlen);
}

static int cs_upload_complete(objstore *o, objstore_upload *u, char *err, size_t errlen)
{
    crash_store *s = (crash_store *)o;
    char *key = u == s->upload ? s->upload_key : NULL;
    s->upload_key = NULL;
    s->upload = NULL;
    if (key)
        plan_count(s->plan, key, 0);
    int rc = s->inner->ops->upload_complete(s->inner, u, err, errlen);
    if (key && rc == OBJSTORE_OK)
        plan_count(s->plan, key, 1);
    free(key);
    return rc;
}

static void cs_upload_abort(objstore *o, objstore_upload *u)
{
    crash_store *s = (crash_store *)o;
    if (u == s->upload)
        cs_upload_forget(s);
    s->inner->ops->upload_abort(s->inner, u);
}

static void cs_destroy(objstore *o)
{
    crash_store *s = (crash_store *)o;
    objstore_destroy(s->inner);
    free(s->upload_key);
    free(s);
}

static const char *cs_describe(const objstore *o)
{
    return objstore_describe(((const crash_store *)o)->inner);
}

static const objstore_ops crash_store_ops = {
    .put = cs_put,
    .get = cs_get,
    .head = cs_head,
    .list = cs_list,
    .remove = cs_remove,
    .upload_begin = cs_upload_begin,
    .upload_part = cs_upload_part,
    .upload_complete = cs_upload_complete,
    .upload_abort = cs_upload_abort,
    .destroy = cs_destroy,
    .describe = cs_describe,
};

/* The catalog double: forwards to inner, counting commits. */
typedef struct crash_catalog {
    iceberg_catalog base;
    iceberg_catalog *inner;      /* owned */
    crash_plan *plan;            /* borrowed */
} crash_catalog;

static int cc_load(iceberg_catalog *c, const iceberg_table_ident *t, char **location, char *err, size_t errlen)
{
    return iceberg_catalog_load_table(((crash_catalog *)c)->inner, t, location, err, errlen);
}

static int cc_commit(iceberg_catalog *c, const iceberg_table_ident *t, const char *expected, const char *new_location,
                     char *err, size_t errlen)
{
    crash_catalog *x = (crash_catalog *)c;
    plan_count(x->plan, NULL, 0);
    int rc = iceberg_catalog_commit(x->inner, t, expected, new_location, err, errlen);
    if (rc == ICEBERG_CATALOG_OK)
        plan_count(x->plan, NULL, 1);
    return rc;
}

static void cc_destroy(iceberg_catalog *c)
{
    crash_catalog *x = (crash_catalog *)c;
    iceberg_catalog_destroy(x->inner);
    free(x);
}

static const iceberg_catalog_ops crash_catalog_ops = {cc_load, cc_commit, cc_destroy};

/* ---- the workload --------------------------------------------------------------------------------- */

#define T0_US 1767225600000000LL   /* 2026-01-01 00:00:00 UTC */
#define TX_MAX_CHANGES 6
#define LONG_NOTE 1000             /* longer notes are "TOASTed": unsent when an update leaves them */

typedef struct row {
    int id;
    const char *name;            /* in the workload's arena */
    int64_t cents;
    const char *note;            /* NULL: SQL null */
    int64_t updated_us;
    int active;                  /* 0 false, 1 true, 2 null */
} row;

typedef struct change {
    char op;                     /* 'c' insert, 'u' update, 'd' delete */
    int old_id;                  /* update: the key before (a primary-key change when it differs); delete: the key */
    row r;                       /* insert, update: the row after */
    int note_unsent;             /* update: the note is an unchanged TOASTed value */
    uint64_t lsn;
} change;

typedef struct txn {
    tx_info info;
    uint64_t begin_lsn;
    int n;
    change ch[TX_MAX_CHANGES];
} txn;

typedef struct workload {
    arena *strings;
    uint64_t rng;
    int next_id;
    txn *tx;
    int ntx;
    row *live;                   /* the table as PostgreSQL has it after the transactions so far */
    int nlive;
    int changes;
} workload;

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int rng_below(uint64_t *s, int n)
{
    return (int)(rng_next(s) % (uint64_t)n);
}

static const char *wl_name(workload *w)
{
    static const char *names[] = {"ana", "bo", "chen", "dara", "\xc3\xa9mile", "o'neil", "zo\xc3\xab"};
    char b[64];
    snprintf(b, sizeof b, "%s%d", names[rng_below(&w->rng, 7)], rng_below(&w->rng, 100));
    return arena_strndup(w->strings, b, strlen(b));
}

static const char *wl_note(workload *w)
{
    int r = rng_below(&w->rng, 10);
    if (r == 0)
        return NULL;
    if (r <= 3) {
        char b[64];
        snprintf(b, sizeof b, "short note %d", rng_below(&w->rng, 1000));
        return arena_strndup(w->strings, b, strlen(b));
    }
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ";
    size_t n = 1200 + (size_t)rng_below(&w->rng, 1800);
    char *s = arena_alloc(w->strings, n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = letters[rng_below(&w->rng, (int)sizeof letters - 1)];
    s[n] = '\0';
    return s;
}

static void wl_values(workload *w, row *r)
{
    r->cents = (int64_t)rng_below(&w->rng, 10500000) - 500000;
    r->updated_us = T0_US + (int64_t)rng_below(&w->rng, 365 * 86400) * 1000000 + rng_below(&w->rng, 1000000);
}

static int note_toasted(const row *r)
{
    return r->note && strlen(r->note) > LONG_NOTE;
}

static change *wl_add(workload *w, txn *t, char op)
{
    change *c = &t->ch[t->n++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->lsn = t->begin_lsn + 0x100 * (uint64_t)t->n;
    w->changes++;
    return c;
}

static void wl_insert(workload *w, txn *t, int active)
{
    row r = {.id = ++w->next_id, .name = wl_name(w), .note = wl_note(w), .active = active};
    wl_values(w, &r);
    w->live[w->nlive++] = r;
    wl_add(w, t, 'c')->r = r;
}

/* Record live row i as changed (the update's change; the note unsent when TOASTed and kept). */
static void wl_update(workload *w, txn *t, int i, int old_id, int note_kept)
{
    change *c = wl_add(w, t, 'u');
    c->old_id = old_id;
    c->r = w->live[i];
    c->note_unsent = note_kept && note_toasted(&w->live[i]);
}

static void wl_delete(workload *w, txn *t, int i)
{
    wl_add(w, t, 'd')->old_id = w->live[i].id;
    w->live[i] = w->live[--w->nlive];
}

/* One operation of 1 or 2 changes, at most room. */
static void wl_op(workload *w, txn *t, int room)
{
    int r = rng_below(&w->rng, 100);
    if (w->nlive < 5 || r < 32) {
        wl_insert(w, t, rng_below(&w->rng, 3));
        return;
    }
    int i = rng_below(&w->rng, w->nlive);
    row *x = &w->live[i];
    if (r < 50) {                 /* balance and time: the note stays */
        wl_values(w, x);
        wl_update(w, t, i, x->id, 1);
    } else if (r < 60) {          /* the note */
        x->note = wl_note(w);
        x->active = x->active == 1 ? 0 : 1;
        wl_update(w, t, i, x->id, 0);
    } else if (r < 70) {          /* the primary key */
        int old = x->id;
        x->id = ++w->next_id;
        x->name = wl_name(w);
        wl_update(w, t, i, old, 1);
    } else if (r < 80 && room >= 2) {   /* two changes of one row */
        x->cents += 100;
        wl_update(w, t, i, x->id, 1);
        x->name = wl_name(w);
        wl_update(w, t, i, x->id, 1);
    } else if (r < 86 && room >= 2) {   /* a row that lives within one transaction */
        wl_insert(w, t, 1);
        wl_delete(w, t, w->nlive - 1);
    } else {
        wl_delete(w, t, i);
    }
}

static int wl_make(workload *w, uint64_t seed, int ntx)
{
    memset(w, 0, sizeof *w);
    w->rng = seed;
    w->next_id = 0;
    w->strings = arena_create(1 << 20);
    w->tx = calloc((size_t)ntx, sizeof *w->tx);
    w->live = calloc((size_t)ntx * TX_MAX_CHANGES + 1, sizeof *w->live);
    if (!w->strings || !w->tx || !w->live)
        return -1;
    for (int i = 0; i < ntx; i++) {
        txn *t = &w->tx[w->ntx++];
        t->begin_lsn = 0x1000000 + (uint64_t)i * 0x10000;
        t->info.xid = 1000 + (uint32_t)i;
        t->info.final_lsn = t->begin_lsn + 0x8000;
        t->info.end_lsn = t->info.final_lsn + 0x30;
        t->info.commit_time_us = T0_US + (int64_t)i * 1000000 + rng_below(&w->rng, 1000000);
        int want = 1 + rng_below(&w->rng, 5);
        while (t->n < want)
            wl_op(w, t, TX_MAX_CHANGES - t->n);
    }
    return 0;
}

static void wl_free(workload *w)
{
    arena_destroy(w->strings);
    free(w->tx);
    free(w->live);
}

/* ---- text forms ------------------------------------------------------------------------------------ */

static void cents_text(int64_t cents, char *out, size_t n)
{
    int64_t a = cents < 0 ? -cents : cents;
    snprintf(out, n, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "", a / 100, a % 100);
}

/* As PostgreSQL prints a timestamptz in UTC: trailing zeros of the fraction dropped. */
static void ts_text(int64_t us, char *out, size_t n)
{
    time_t secs = (time_t)(us / 1000000);
    int frac = (int)(us % 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char f[16] = "";
    if (frac) {
        snprintf(f, sizeof f, ".%06d", frac);
        for (size_t l = strlen(f); f[l - 1] == '0'; l--)
            f[l - 1] = '\0';
    }
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d%s+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, f);
}

static void json_str(buf *b, const char *s)
{
    buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            buf_printf(b, "\\u%04x", ch);
        else
            buf_append(b, s, 1);
    }
    buf_append(b, "\"", 1);
}

static void td_quoted(buf *b, const char *s)
{
    buf_append(b, "'", 1);
    for (; *s; s++)
        buf_append(b, *s == '\'' ? "''" : s, *s == '\'' ? 2 : 1);
    buf_append(b, "'", 1);
}

/* A row as test_decoding prints a tuple. */
static void td_row(buf *b, const row *r, int note_unsent)
{
    char t[48];
    buf_printf(b, "id[integer]:%d name[text]:", r->id);
    td_quoted(b, r->name);
    cents_text(r->cents, t, sizeof t);
    buf_printf(b, " balance[numeric]:%s note[text]:", t);
    if (note_unsent)
        buf_printf(b, "unchanged-toast-datum");
    else if (r->note)
        td_quoted(b, r->note);
    else
        buf_printf(b, "null");
    ts_text(r->updated_us, t, sizeof t);
    buf_printf(b, " updated[timestamp with time zone]:'%s' active[boolean]:%s", t,
               r->active == 2 ? "null" : r->active ? "true" : "false");
}

static void oracle_line(buf *b, uint64_t lsn, uint32_t xid, const char *data, int64_t commit_us)
{
    buf_printf(b, "{\"lsn\": %" PRIu64 ", \"xid\": %" PRIu32 ", \"data\": ", lsn, xid);
    json_str(b, data);
    if (commit_us)
        buf_printf(b, ", \"commit_us\": %" PRId64 "}\n", commit_us);
    else
        buf_printf(b, ", \"commit_us\": null}\n");
}

static void oracle_write(const workload *w, buf *out)
{
    buf d = BUF_INIT;
    for (int i = 0; i < w->ntx; i++) {
        const txn *t = &w->tx[i];
        char ts[48];
        buf_reset(&d);
        buf_printf(&d, "BEGIN %" PRIu32, t->info.xid);
        oracle_line(out, t->begin_lsn, t->info.xid, d.data, 0);
        for (int j = 0; j < t->n; j++) {
            const change *c = &t->ch[j];
            buf_reset(&d);
            if (c->op == 'c') {
                buf_printf(&d, "table public.acct: INSERT: ");
                td_row(&d, &c->r, 0);
            } else if (c->op == 'u') {
                buf_printf(&d, "table public.acct: UPDATE: ");
                if (c->old_id != c->r.id)
                    buf_printf(&d, "old-key: id[integer]:%d new-tuple: ", c->old_id);
                td_row(&d, &c->r, c->note_unsent);
            } else {
                buf_printf(&d, "table public.acct: DELETE: id[integer]:%d", c->old_id);
            }
            oracle_line(out, c->lsn, t->info.xid, d.data, 0);
        }
        ts_text(t->info.commit_time_us, ts, sizeof ts);
        buf_reset(&d);
        buf_printf(&d, "COMMIT %" PRIu32 " (at %s)", t->info.xid, ts);
        oracle_line(out, t->info.end_lsn, t->info.xid, d.data, t->info.commit_time_us);
    }
    buf_free(&d);
}

static void rows_write(const workload *w, buf *out)
{
    buf_printf(out, "[");
    for (int i = 0; i < w->nlive; i++) {
        const row *r = &w->live[i];
        char t[48];
        cents_text(r->cents, t, sizeof t);
        buf_printf(out, "%s{\"id\": %d, \"name\": ", i ? ",\n " : "", r->id);
        json_str(out, r->name);
        buf_printf(out, ", \"balance\": \"%s\", \"note\": ", t);
        if (r->note)
            json_str(out, r->note);
        else
            buf_printf(out, "null");
        buf_printf(out, ", \"updated\": %" PRId64 ", \"active\": %s}", r->updated_us,
                   r->active == 2 ? "null" : r->active ? "true" : "false");
    }
    buf_printf(out, "]\n");
}

static int file_write(const char *dir, const char *name, const buf *b, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return err_setf(err, errlen, "cannot write %s", path);
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    if (fclose(f) != 0 || n != b->len)
        return err_setf(err, errlen, "cannot write %s", path);
    return 0;
}

static int outputs_write(const workload *w, const char *dir, char *err, size_t errlen)
{
    buf b = BUF_INIT;
    int rc = fs_mkdirs(dir, 0755, err, errlen);
    if (rc == 0) {
        rows_write(w, &b);
        rc = file_write(dir, "acct.pg.json", &b, err, errlen);
    }
    if (rc == 0) {
        buf_reset(&b);
        buf_printf(&b, "[]\n");
        rc = file_write(dir, "acct.initial.json", &b, err, errlen);
    }
    if (rc == 0) {
        buf_reset(&b);
        oracle_write(w, &b);
        rc = file_write(dir, "oracle.jsonl", &b, err, errlen);
    }
    buf_free(&b);
    return rc;
}

/* ---- the events ------------------------------------------------------------------------------------ */

enum { C_ID, C_NAME, C_BALANCE, C_NOTE, C_UPDATED, C_ACTIVE, NCOLS };

/* public.acct as the capture describes it (replica identity default: the key is the primary key). */
static void acct_def(table_def *t, column_def cols[NCOLS])
{
    static const struct { const char *name; uint32_t oid; int32_t typmod; } c[NCOLS] = {
        {"id", 23, -1},
        {"name", 25, -1},
        {"balance", 1700, ((12 << 16) | 2) + 4},
        {"note", 25, -1},
        {"updated", 1184, -1},
        {"active", 16, -1},
    };
    memset(cols, 0, NCOLS * sizeof *cols);
    for (int i = 0; i < NCOLS; i++) {
        cols[i].name = (char *)c[i].name;
        cols[i].type_oid = c[i].oid;
        cols[i].typmod = c[i].typmod;
        cols[i].type_name = (char *)pg_type_name(c[i].oid);
        cols[i].kind = pg_type_kind(c[i].oid, &cols[i].elem_kind);
    }
    cols[C_ID].is_key = cols[C_ID].is_pk = cols[C_ID].not_null = 1;
    *t = (table_def){.oid = 16384, .schema = "public", .name = "acct", .replica_identity = 'd', .version = 1,
                     .ncols = NCOLS, .cols = cols};
}

static int value_parse(const table_def *t, int col, const char *text, value *out, arena *a, char *err, size_t errlen)
{
    char why[200];
    const char *s = arena_strndup(a, text, strlen(text));
    if (pg_value_parse(t->cols[col].kind, s, strlen(s), out, a, why, sizeof why) != 0)
        return err_setf(err, errlen, "column %s: \"%.40s\": %s", t->cols[col].name, text, why);
    return 0;
}

/* The values of r (only the key with key_only; the note unavailable with note_unsent), parsed from
 * PostgreSQL's text as the decoder does. NULL with err. */
static value *row_values(const table_def *t, const row *r, int key_only, int note_unsent, arena *a, char *err,
                         size_t errlen)
{
    value *v = arena_alloc(a, NCOLS * sizeof *v);
    memset(v, 0, NCOLS * sizeof *v);
    for (int i = 0; i < NCOLS; i++)
        v[i].state = VALUE_UNAVAILABLE;
    char txt[64];
    snprintf(txt, sizeof txt, "%d", r->id);
    if (value_parse(t, C_ID, txt, &v[C_ID], a, err, errlen) < 0)
        return NULL;
    if (key_only)
        return v;
    cents_text(r->cents, txt, sizeof txt);
    if (value_parse(t, C_NAME, r->name, &v[C_NAME], a, err, errlen) < 0 ||
        value_parse(t, C_BALANCE, txt, &v[C_BALANCE], a, err, errlen) < 0)
        return NULL;
    if (!r->note)
        v[C_NOTE].state = VALUE_IS_NULL;
    else if (!note_unsent && value_parse(t, C_NOTE, r->note, &v[C_NOTE], a, err, errlen) < 0)
        return NULL;
    ts_text(r->updated_us, txt, sizeof txt);
    if (value_parse(t, C_UPDATED, txt, &v[C_UPDATED], a, err, errlen) < 0)
        return NULL;
    if (r->active == 2)
        v[C_ACTIVE].state = VALUE_IS_NULL;
    else if (value_parse(t, C_ACTIVE, r->active ? "t" : "f", &v[C_ACTIVE], a, err, errlen) < 0)
        return NULL;
    return v;
}

static int change_event(const table_def *def, const txn *t, int j, event *ev, arena *a, char *err, size_t errlen)
{
    const change *c = &t->ch[j];
    memset(ev, 0, sizeof *ev);
    ev->table = def;
    ev->lsn = c->lsn;
    ev->tx = &t->info;
    ev->seq = (uint64_t)j;
    if (c->op == 'c') {
        ev->op = EVENT_CREATE;
        ev->after = row_values(def, &c->r, 0, 0, a, err, errlen);
        return ev->after ? 0 : -1;
    }
    if (c->op == 'u') {
        ev->op = EVENT_UPDATE;
        if (c->old_id != c->r.id) {   /* the old key, as REPLICA IDENTITY DEFAULT sends it */
            row old = {.id = c->old_id};
            if (!(ev->before = row_values(def, &old, 1, 0, a, err, errlen)))
                return -1;
            ev->before_key_only = 1;
        }
        ev->after = row_values(def, &c->r, 0, c->note_unsent, a, err, errlen);
        return ev->after ? 0 : -1;
    }
    row old = {.id = c->old_id};
    ev->op = EVENT_DELETE;
    ev->before_key_only = 1;
    ev->before = row_values(def, &old, 1, 0, a, err, errlen);
    return ev->before ? 0 : -1;
}

/* Hand every transaction to the sink as the capture does, then wait for all of it to be durable. */
static int stream_run(const workload *w, const sink *sk, ack_tracker *ack, char *err, size_t errlen)
{
    table_def def;
    column_def cols[NCOLS];
    acct_def(&def, cols);
    arena *a = arena_create(64 * 1024);
    int rc = -1;
    for (int i = 0; i < w->ntx; i++) {
        const txn *t = &w->tx[i];
        arena_reset(a);
        if (sk->ops->begin(sk->self, &t->info, err, errlen) < 0)
            goto out;
        for (int j = 0; j < t->n; j++) {
            event ev;
            if (change_event(&def, t, j, &ev, a, err, errlen) < 0 || sk->ops->change(sk->self, &ev, err, errlen) < 0)
                goto out;
        }
        if (sk->ops->commit(sk->self, &t->info, err, errlen) < 0 || sk->ops->flush(sk->self, 0, err, errlen) < 0)
            goto out;
    }
    if (sk->ops->flush(sk->self, 1, err, errlen) < 0)
        goto out;
    uint64_t last = w->ntx ? w->tx[w->ntx - 1].info.end_lsn : 0, got = ack_tracker_flushed(ack);
    if (got < last) {
        err_setf(err, errlen, "after the final flush only %" PRIu64 " is durable, want %" PRIu64, got, last);
        goto out;
    }
    rc = 0;
out:
    arena_destroy(a);
    return rc;
}

/* ---- main ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *lake = NULL, *state = NULL, *out = NULL, *crash = NULL;
    long seed = -1, ntx = -1, at = 0, commit_bytes = 6000, file_bytes = 2500;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--lake")) lake = v;
        else if (!strcmp(k, "--state")) state = v;
        else if (!strcmp(k, "--out")) out = v;
        else if (!strcmp(k, "--crash")) crash = v;
        else if (!strcmp(k, "--at")) at = atol(v);
        else if (!strcmp(k, "--seed")) seed = atol(v);
        else if (!strcmp(k, "--tx")) ntx = atol(v);
        else if (!strcmp(k, "--commit-bytes")) commit_bytes = atol(v);
        else if (!strcmp(k, "--file-bytes")) file_bytes = atol(v);
        else return die(USAGE);
    }
    if (argc % 2 == 0 || !lake || !state || !out || seed < 0 || ntx < 1 || ntx > 100000 || !crash != !at ||
        at < 0 || commit_bytes < 1 || file_bytes < 1)
        return die(USAGE);
    crash_plan plan = {.point = -1};
    for (size_t i = 0; crash && i < NPOINTS; i++)
        if (!strcmp(crash, POINTS[i].name))
            plan.point = (int)i;
    if (crash && plan.point < 0)
        return die("unknown crash point (data-put, delete-put, manifest-put, list-put, metadata-put, "
                   "metadata-after, cas-before, cas-after, hint-put)");
    plan.at = at;

    char err[1024], path[4096], spool[4096], dbpath[4096];
    workload w;
    snprintf(err, sizeof err, "out of memory");
    if (wl_make(&w, (uint64_t)seed, (int)ntx) < 0 || fs_mkdirs(state, 0700, err, sizeof err) < 0) {
        wl_free(&w);
        return die(err);
    }
    snprintf(dbpath, sizeof dbpath, "%s/catalog.db", state);
    snprintf(path, sizeof path, "%s/silver.db", state);
    snprintf(spool, sizeof spool, "%s/spool", state);

    crash_store *cs = calloc(1, sizeof *cs);
    crash_catalog *cc = calloc(1, sizeof *cc);
    store *st = NULL;
    ack_tracker *ack = ack_tracker_create(1, 0);
    sink sk = {0};
    int rc = 1;
    /* Set from the start: a failed commit fails the run at once instead of being retried (nothing
     * here fails for a reason that passes). */
    volatile sig_atomic_t stop = 1;
    silver_sink_options o = {
        .source = "crash",
        .writer = "crash/test",
        .state_path = path,
        .spool_dir = spool,
        .commit_interval_ms = 0,
        .commit_bytes = (uint64_t)commit_bytes,
        .file_bytes = (uint64_t)file_bytes,
        .row_group_bytes = 0,
        .compression = PARQUET_COMPRESSION_ZSTD,
        .history = 1,
        .retry_max_ms = 100,
    };
    silver_sink_deps d = {.ack = ack, .ack_index = 0, .stop = &stop};
    if (!cs || !cc || !ack) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    cs->base.ops = &crash_store_ops;
    cs->plan = &plan;
    cc->base.ops = &crash_catalog_ops;
    cc->plan = &plan;
    d.objects = &cs->base;
    d.catalog = &cc->base;
    if (!(cs->inner = objstore_local_create(lake, err, sizeof err)) ||
        !(st = store_open(dbpath, NULL, err, sizeof err)) ||
        !(cc->inner = iceberg_catalog_sqlite_create(st, "sluice", err, sizeof err)))
        goto out;
    if (silver_sink_create(&o, &d, &sk, err, sizeof err) < 0)
        goto out;
    if (stream_run(&w, &sk, ack, err, sizeof err) < 0)
        goto out;
    sk.ops->destroy(sk.self);
    sk.ops = NULL;
    if (outputs_write(&w, out, err, sizeof err) < 0)
        goto out;
    printf("transactions=%d changes=%d rows=%d calls", w.ntx, w.changes, w.nlive);
    for (size_t i = 0; i < NPOINTS; i++)
        printf(" %s=%ld", POINTS[i].name, plan.seen[i]);
    printf("\n");
    rc = 0;
out:
    if (sk.ops)
        sk.ops->destroy(sk.self);
    if (cc && cc->inner)
        iceberg_catalog_destroy(&cc->base);
    else
        free(cc);
    store_close(st);
    if (cs && cs->inner)
        objstore_destroy(&cs->base);
    else
        free(cs);
    ack_tracker_destroy(ack);
    wl_free(&w);
    if (rc)
        return die(err);
    return 0;
}
