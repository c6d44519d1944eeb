/* silver_sink: the silver layer as a sink (see silver_sink.h): destinations and their table
 * pairs, when batches commit, and what is acknowledged. Acknowledgement works like bronze's:
 * each destination with uncommitted changes remembers prev_end, the end LSN of the last
 * transaction committed before its batch's first change; everything up to the smallest prev_end
 * (or, with no batch open, the last transaction) is in committed snapshots. */
#define _GNU_SOURCE
#include "sinks/lake/silver_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"
#include "core/fs.h"
#include "core/log.h"
#include "sinks/lake/silver_pair.h"
#include "sinks/lake/silver_state.h"

#define SV_LOG "silver"

typedef struct sv_dest {
    char *name;                /* "schema.table" or the route's table */
    silver_pair *pair;         /* NULL for a table silver skips (no primary key) */
    uint64_t prev_end;         /* see above; meaningful while the pair is dirty */
    int dirty;                 /* changes since the last commit */
    int64_t opened_ms;         /* monotonic time of the batch's first change */
    int64_t *tx_commit_us;     /* source commit times of the batch's transactions (freshness) */
    size_t ntx, captx;
    uint32_t last_tx_xid;      /* the last transaction recorded there (xid and commit time: from */
    int64_t last_tx_us;        /* Kafka, each change has its own LSN but they share these) */
    struct sv_dest *next;
} sv_dest;

struct silver_sink {
    silver_sink_options o;
    silver_sink_deps d;
    char *source, *writer, *state_path, *spool_dir, *base_uri;
    silver_state *st;
    silver_counters counters, published;
    silver_pair_env env;
    sv_dest **buckets;
    size_t nbuckets;
    const tx_info *tx;         /* the open transaction, NULL between transactions */
    uint64_t last_commit;      /* end LSN of the last transaction handed over */
    const table_def *last_def; /* the previous unrouted event's table and destination */
    sv_dest *last_dest;
    metric *m_commits, *m_rows, *m_deletes, *m_skipped, *m_lossy, *m_toast_filled, *m_toast_missing, *m_keyless,
        *m_pending, *m_freshness, *m_conflicts;
};

static int64_t sv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t sv_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

#define SV_EACH_DEST(s, x)                                                                               \
    for (size_t sv_i_ = 0; sv_i_ < (s)->nbuckets; sv_i_++)                                              \
        for (sv_dest *x = (s)->buckets[sv_i_]; x; x = x->next)

/* Open the pair of destination name for ev's table: namespace and table from a route "ns.table"
 * (a route without '.' lands in the source table's schema), else the source's schema and name. */
static int sv_dest_open(silver_sink *s, sv_dest *x, const event *ev, char *err, size_t errlen)
{
    const table_def *t = ev->table;
    char ns[256], name[256];
    const char *dot = ev->route_table ? strrchr(ev->route_table, '.') : NULL;
    if (!ev->route_table) {
        snprintf(ns, sizeof ns, "%s", t->schema);
        snprintf(name, sizeof name, "%s", t->name);
    } else if (dot) {
        snprintf(ns, sizeof ns, "%.*s", (int)(dot - ev->route_table), ev->route_table);
        snprintf(name, sizeof name, "%s", dot + 1);
    } else {
        snprintf(ns, sizeof ns, "%s", t->schema);
        snprintf(name, sizeof name, "%s", ev->route_table);
    }
    if (silver_pair_keyless(t)) {
        log_warn(SV_LOG, "%s has no primary key: it is not written to silver (bronze and Kafka have it)", x->name);
        metric_add(s->m_keyless, 1);
        return 0;
    }
    char why[1024];
    if (!(x->pair = silver_pair_open(&s->env, ns, name, t, sv_now_ms(), why, sizeof why)))
        return err_setf(err, errlen, "silver: %s", why);
    return 0;
}

/* The destination of ev, opened at first sight. */
static sv_dest *sv_dest_get(silver_sink *s, const event *ev, char *err, size_t errlen)
{
    const table_def *t = ev->table;
    if (!ev->route_table && t == s->last_def)
        return s->last_dest;
    char name[600];
    if (ev->route_table)
        snprintf(name, sizeof name, "%s", ev->route_table);
    else
        snprintf(name, sizeof name, "%s.%s", t->schema, t->name);
    size_t i = sv_hash(name) & (s->nbuckets - 1);
    sv_dest *x;
    for (x = s->buckets[i]; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            goto found;
    if (!(x = calloc(1, sizeof *x)) || !(x->name = strdup(name))) {
        free(x);
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    if (sv_dest_open(s, x, ev, err, errlen) < 0) {
        free(x->name);
        free(x);
        return NULL;
    }
    x->next = s->buckets[i];
    s->buckets[i] = x;
found:
    if (!ev->route_table) {
        s->last_def = t;
        s->last_dest = x;
    }
    return x;
}

/* ---- commits and acknowledgement ----------------------------------------------------------------- */

static void sv_metrics_publish(silver_sink *s)
{
    const silver_counters *c = &s->counters, *p = &s->published;
    metric_add(s->m_rows, (double)(c->rows - p->rows));
    metric_add(s->m_deletes, (double)(c->deletes - p->deletes));
    metric_add(s->m_skipped, (double)(c->skipped - p->skipped));
    metric_add(s->m_lossy, (double)(c->lossy - p->lossy));
    metric_add(s->m_toast_filled, (double)(c->toast_filled - p->toast_filled));
    metric_add(s->m_toast_missing, (double)(c->toast_missing - p->toast_missing));
    metric_add(s->m_conflicts, (double)(c->conflicts - p->conflicts));
    s->published = s->counters;
}

/* Remember the commit time of the change's transaction (once per transaction). */
static void sv_tx_note(sv_dest *x, const tx_info *tx)
{
    if (!tx || !tx->commit_time_us || (tx->xid == x->last_tx_xid && tx->commit_time_us == x->last_tx_us))
        return;
    if (x->ntx == x->captx) {
        size_t cap = x->captx ? x->captx * 2 : 64;
        int64_t *n = realloc(x->tx_commit_us, cap * sizeof *n);
        if (!n)
            return;   /* only the freshness metric misses it */
        x->tx_commit_us = n;
        x->captx = cap;
    }
    x->tx_commit_us[x->ntx++] = tx->commit_time_us;
    x->last_tx_xid = tx->xid;
    x->last_tx_us = tx->commit_time_us;
}

static int sv_commit(silver_sink *s, sv_dest *x, char *err, size_t errlen)
{
    if (!x->pair || !x->dirty)
        return 0;
    if (silver_pair_commit(x->pair, sv_now_ms(), err, errlen) < 0)
        return -1;
    x->dirty = 0;
    metric_add(s->m_commits, 1);
    double now_us = (double)sv_now_ms() * 1000.0;
    for (size_t i = 0; i < x->ntx; i++)
        metric_observe(s->m_freshness, (now_us - (double)x->tx_commit_us[i]) / 1e6);
    x->ntx = 0;
    x->last_tx_xid = 0;
    x->last_tx_us = 0;
    return 0;
}

/* Commit the batches that are due (all of them with all set). Between transactions only. */
static int sv_commit_due(silver_sink *s, int all, char *err, size_t errlen)
{
    int64_t now = sv_mono_ms();
    SV_EACH_DEST(s, x)
    {
        if (x->dirty && (all || now - x->opened_ms >= s->o.commit_interval_ms) && sv_commit(s, x, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void sv_publish(silver_sink *s)
{
    uint64_t durable = s->last_commit;
    size_t pending = 0;
    SV_EACH_DEST(s, x)
    {
        if (x->dirty) {
            pending++;
            if (x->prev_end < durable)
                durable = x->prev_end;
        }
    }
    metric_set(s->m_pending, (double)pending);
    sv_metrics_publish(s);
    if (s->d.ack)
        ack_tracker_durable(s->d.ack, s->d.ack_index, durable);
}

/* ---- sink ops ---------------------------------------------------------------------------------------- */

static int silver_sink_begin(void *self, const tx_info *tx, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    ((silver_sink *)self)->tx = tx;
    return 0;
}

/* One change at pos (mv: its half of a key change, or NULL) into its destination. 0, -1, or 1
 * (silver_pair_change: the create waits for the old key's delete). */
static int sv_change(silver_sink *s, const event *ev, const tx_info *tx, const silver_pos *pos, const silver_move *mv,
                     char *err, size_t errlen)
{
    sv_dest *x = sv_dest_get(s, ev, err, errlen);
    if (!x)
        return -1;
    if (!x->pair)
        return 0;
    if (!x->dirty) {
        x->prev_end = s->last_commit;
        x->opened_ms = sv_mono_ms();
    }
    int rc = silver_pair_change(x->pair, ev, pos, mv, sv_now_ms(), err, errlen);
    if (rc != 0)
        return rc;
    sv_tx_note(x, tx);
    x->dirty = silver_pair_dirty(x->pair);
    /* A transaction larger than commit_size commits in parts (its watermark is per change). */
    if (x->dirty && silver_pair_batch_bytes(x->pair) >= s->o.commit_bytes)
        return sv_commit(s, x, err, errlen);
    return 0;
}

static int silver_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    silver_sink *s = self;
    const tx_info *tx = ev->tx ? ev->tx : s->tx;
    silver_pos pos = {.wal = {tx ? tx->final_lsn : ev->lsn, ev->seq}};
    return sv_change(s, ev, tx, &pos, NULL, err, errlen);
}

static int silver_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    silver_sink *s = self;
    s->last_commit = tx->end_lsn;
    s->tx = NULL;
    return sv_commit_due(s, 0, err, errlen);
}

static int silver_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    silver_sink *s = self;
    if (!s->tx && sv_commit_due(s, wait, err, errlen) < 0)
        return -1;
    if (silver_state_sync(s->st, err, errlen) < 0)
        return -1;
    sv_publish(s);
    return 0;
}

void silver_sink_close(silver_sink *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (sv_dest *x = s->buckets[i], *next; x; x = next) {
            next = x->next;
            silver_pair_destroy(x->pair);
            free(x->tx_commit_us);
            free(x->name);
            free(x);
        }
    }
    free(s->buckets);
    silver_state_close(s->st);
    free(s->source);
    free(s->writer);
    free(s->state_path);
    free(s->spool_dir);
    free(s->base_uri);
    free(s);
}

static void silver_sink_destroy(void *self)
{
    silver_sink_close(self);
}

/* ---- the Kafka feed ------------------------------------------------------------------------------------ */

int silver_sink_record(silver_sink *s, const event *ev, const silver_pos *pos, const silver_move *mv, char *err,
                       size_t errlen)
{
    return sv_change(s, ev, ev->tx, pos, mv, err, errlen);
}

int silver_sink_due(const silver_sink *s)
{
    int64_t now = sv_mono_ms(), dirty = 0;
    SV_EACH_DEST(s, x)
    {
        if (x->dirty && now - x->opened_ms >= s->o.commit_interval_ms)
            return 1;
        dirty += x->dirty;
    }
    return !dirty;   /* nothing open (all skipped, or committed at commit_size): nothing to wait for */
}

int silver_sink_commit_all(silver_sink *s, char *err, size_t errlen)
{
    int rc = sv_commit_due(s, 1, err, errlen) < 0 || silver_state_sync(s->st, err, errlen) < 0 ? -1 : 0;
    sv_publish(s);
    return rc;
}

static const sink_ops silver_sink_ops = {
    .name = "silver",
    .begin = silver_sink_begin,
    .change = silver_sink_change,
    .commit = silver_sink_commit,
    .flush = silver_sink_flush,
    .destroy = silver_sink_destroy,
};

static void sv_metrics_register(silver_sink *s, metrics *m)
{
    if (!m)
        return;
    s->m_commits = metrics_counter(m, "sluice_silver_commits_total", "Silver table-pair commits.", NULL);
    s->m_rows = metrics_counter(m, "sluice_silver_rows_total", "Rows written to silver data files.", NULL);
    s->m_deletes = metrics_counter(m, "sluice_silver_position_deletes_total",
                                   "Rows of silver tables deleted by position (updated, deleted, closed versions).",
                                   NULL);
    s->m_skipped = metrics_counter(m, "sluice_silver_skipped_events_total",
                                   "Replayed changes skipped because the silver tables already hold them.", NULL);
    s->m_lossy = metrics_counter(m, "sluice_silver_unrepresentable_values_total",
                                 "Values written as null because their column type cannot hold them "
                                 "(NaN or infinite numeric in a decimal column, infinite dates and timestamps).",
                                 NULL);
    s->m_toast_filled = metrics_counter(m, "sluice_silver_toast_filled_total",
                                        "Unchanged TOASTed values taken from the live row.", NULL);
    s->m_toast_missing = metrics_counter(m, "sluice_silver_toast_missing_total",
                                         "Unchanged TOASTed values written as null: no live row to take them from.",
                                         NULL);
    s->m_conflicts = metrics_counter(m, "sluice_silver_commit_conflicts_total",
                                     "Silver commits retried because another writer committed to the table first.",
                                     NULL);
    s->m_keyless = metrics_counter(m, "sluice_silver_keyless_tables_total",
                                   "Tables not written to silver because they have no primary key.", NULL);
    s->m_pending = metrics_gauge(m, "sluice_silver_open_batches", "Silver table pairs with uncommitted changes.", NULL);
    static const double bounds[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1,  1.2, 1.5, 2,   2.5, 3,
                                    4,    5,   7.5, 10,  15,  20,  30,  45,  60, 75,  90,  120, 180, 300};
    s->m_freshness = metrics_histogram(m, "sluice_silver_commit_to_visible_seconds",
                                       "From a transaction's commit in PostgreSQL to the silver snapshot that "
                                       "makes its changes visible (per destination table).",
                                       NULL, bounds, sizeof bounds / sizeof bounds[0]);
}

silver_sink *silver_sink_open(const silver_sink_options *o, const silver_sink_deps *d, char *err, size_t errlen)
{
    silver_sink *s = calloc(1, sizeof *s);
    if (!s) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->d = *d;
    s->nbuckets = 256;
    const char *root = objstore_describe(d->objects);
    size_t rootlen = strlen(root);
    while (rootlen > 0 && root[rootlen - 1] == '/')
        rootlen--;
    if (!(s->source = strdup(o->source)) || !(s->writer = strdup(o->writer ? o->writer : o->source)) ||
        !(s->state_path = strdup(o->state_path)) ||
        !(s->spool_dir = strdup(o->spool_dir)) || !(s->base_uri = strndup(root, rootlen)) ||
        !(s->buckets = calloc(s->nbuckets, sizeof *s->buckets))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    if (fs_mkdirs(s->spool_dir, 0700, err, errlen) < 0 || !(s->st = silver_state_open(s->state_path, err, errlen)))
        goto fail;
    parquet_options_default(&s->env.parquet);
    s->env.parquet.compression = o->compression;
    s->env.parquet.row_group_bytes = (size_t)o->row_group_bytes;
    s->env = (silver_pair_env){
        .os = d->objects,
        .catalog = d->catalog,
        .st = s->st,
        .source = s->source,
        .writer = s->writer,
        .base_uri = s->base_uri,
        .spool_dir = s->spool_dir,
        .parquet = s->env.parquet,
        .file_bytes = o->file_bytes,
        .history = o->history,
        .retry_max_ms = o->retry_max_ms,
        .stop = d->stop,
        .counters = &s->counters,
    };
    sv_metrics_register(s, d->metrics);
    if (d->health)
        health_set(d->health, "silver", HEALTH_OK, "writing");
    return s;
fail:
    silver_sink_close(s);
    return NULL;
}

int silver_sink_create(const silver_sink_options *o, const silver_sink_deps *d, sink *out, char *err,
                       size_t errlen)
{
    silver_sink *s = silver_sink_open(o, d, err, errlen);
    if (!s)
        return -1;
    out->ops = &silver_sink_ops;
    out->self = s;
    return 0;
}
