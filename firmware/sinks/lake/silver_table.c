/* silver_table: batches of Parquet data files and position deletes committed as Iceberg
 * snapshots, two-phase with silver_state (see silver_table.h). A batch's files are named
 *   data/<batch uuid>-<n>.parquet            data files, n from 0
 *   data/<batch uuid>-deletes.parquet        its position deletes (file_path, pos; sorted)
 * and are uploaded before the snapshot that references them is committed; files of a batch a
 * crash interrupted stay unreferenced (never visible to readers). */
#define _GNU_SOURCE
#include "sinks/lake/silver_table.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/backoff.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "core/random.h"
#include "pipeline/event.h"
#include "sinks/lake/iceberg_parquet.h"

#define ST_LOG "silver"

/* Iceberg's reserved field ids of position-delete files. */
#define ICEBERG_FIELD_DELETE_FILE_PATH 2147483546
#define ICEBERG_FIELD_DELETE_POS 2147483545

/* A closed data or delete file of the batch. */
typedef struct st_file {
    char *path;                  /* URI */
    int fd;                      /* its spool file until uploaded, -1 after */
    int64_t rows;
    int64_t size;
    iceberg_file_stats *stats;
} st_file;

typedef struct st_delete {
    int64_t file;
    int64_t pos;
} st_delete;

struct silver_table {
    silver_table_options o;
    char *ns, *name, *location, *key_prefix, *spool_dir, *state_name, *writer;
    iceberg_schema_field *fields;
    parquet_column_def *columns;
    silver_state *st;
    silver_state_table sst;
    silver_mark watermark;       /* what the table holds (read from this writer's last snapshot) */
    uint64_t commits;
    uint64_t conflicts;          /* catalog swaps retried because another writer committed first */

    /* the open batch */
    char batch_uuid[37];
    int nfiles_opened;
    parquet_writer *w;           /* the open data file, or NULL */
    int w_fd;
    char *w_path;
    int64_t w_file_id;
    st_file *files;              /* closed data files */
    size_t nfiles, capfiles;
    st_delete *deletes;
    size_t ndeletes, capdeletes;
    uint64_t closed_bytes;
    st_file delfile;             /* the position-delete file, once written (path NULL before) */
    int64_t snapshot_id;         /* chosen at the first commit attempt, 0 before */
};

static iceberg_table_ref st_ref(const silver_table *t)
{
    iceberg_table_ref r = {t->o.os, t->location, t->key_prefix, t->o.catalog, {t->ns, t->name}};
    return r;
}

/* The object key of a URI below the table's location. */
static int st_key(const silver_table *t, const char *uri, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t n = strlen(t->location);
    if (strncmp(uri, t->location, n) != 0 || uri[n] != '/')
        return err_setf(err, errlen, "%s is not below %s", uri, t->location);
    int w = snprintf(out, outlen, "%s%s%s", t->key_prefix, *t->key_prefix ? "/" : "", uri + n + 1);
    return w < 0 || (size_t)w >= outlen ? err_setf(err, errlen, "object key too long for %s", uri) : 0;
}

/* An anonymous spool file (unlinked at once: a crash leaves nothing behind). */
static int st_spool_open(const silver_table *t, char *err, size_t errlen)
{
    int fd = open(t->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        err_setf(err, errlen, "silver: cannot create a spool file in %s: %s", t->spool_dir, strerror(errno));
    return fd;
}

static void st_file_clear(st_file *f)
{
    free(f->path);
    if (f->fd >= 0)
        close(f->fd);
    iceberg_file_stats_destroy(f->stats);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* Forget the batch (after its commit, or to drop it). */
static void st_data_abandon(silver_table *t);

static void st_batch_reset(silver_table *t)
{
    st_data_abandon(t);
    for (size_t i = 0; i < t->nfiles; i++)
        st_file_clear(&t->files[i]);
    t->nfiles = 0;
    t->ndeletes = 0;
    t->closed_bytes = 0;
    st_file_clear(&t->delfile);
    t->snapshot_id = 0;
    t->batch_uuid[0] = '\0';
    t->nfiles_opened = 0;
}

void silver_table_destroy(silver_table *t)
{
    if (!t)
        return;
    st_batch_reset(t);
    free(t->files);
    free(t->deletes);
    for (size_t i = 0; i < t->o.ncolumns; i++) {
        free((char *)t->fields[i].name);
        free((char *)t->fields[i].type);
    }
    free(t->fields);
    free(t->columns);
    free(t->ns);
    free(t->name);
    free(t->location);
    free(t->key_prefix);
    free(t->spool_dir);
    free(t->state_name);
    free(t->writer);
    silver_mark_free(&t->watermark);
    free(t);
}

int64_t silver_table_state_id(const silver_table *t)
{
    return t->sst.id;
}

const silver_mark *silver_table_watermark(const silver_table *t)
{
    return &t->watermark;
}

uint64_t silver_table_commits(const silver_table *t)
{
    return t->commits;
}

uint64_t silver_table_conflicts(const silver_table *t)
{
    return t->conflicts;
}

uint64_t silver_table_batch_bytes(const silver_table *t)
{
    uint64_t open = t->w ? parquet_writer_bytes_written(t->w) + parquet_writer_bytes_buffered(t->w) : 0;
    return t->closed_bytes + open;
}

uint64_t silver_table_batch_changes(const silver_table *t)
{
    uint64_t n = t->w ? parquet_writer_rows(t->w) : 0;
    for (size_t i = 0; i < t->nfiles; i++)
        n += (uint64_t)t->files[i].rows;
    return n + t->ndeletes;
}

/* ---- opening ------------------------------------------------------------------------------------- */

/* Does the table's schema have exactly our columns? */
static int st_schema_check(const silver_table *t, const iceberg_metadata *m, char *err, size_t errlen)
{
    iceberg_schema_field *have = NULL;
    size_t n = 0;
    if (iceberg_metadata_schema_fields(m, &have, &n, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (n != t->o.ncolumns)
        rc = err_setf(err, errlen, "has %zu columns, the source has %zu", n, t->o.ncolumns);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const iceberg_schema_field *a = &have[i], *b = &t->fields[i];
        if (a->id != b->id || strcmp(a->name, b->name) != 0 || strcmp(a->type, b->type) != 0 ||
            a->required != b->required)
            rc = err_setf(err, errlen, "column %d is %s %s%s, the source's is %s %s%s", (int)i + 1, a->name, a->type,
                          a->required ? " required" : "", b->name, b->type, b->required ? " required" : "");
    }
    free(have);
    return rc;
}

/* Read the watermark from the summary of this writer's last snapshot. */
static int st_watermark_read(silver_table *t, const iceberg_metadata *m, char *err, size_t errlen)
{
    silver_mark_free(&t->watermark);
    if (!t->sst.snapshot_id)
        return 0;
    const char *lsn = iceberg_metadata_snapshot_summary_get(m, t->sst.snapshot_id, "sluice.lsn");
    const char *seq = iceberg_metadata_snapshot_summary_get(m, t->sst.snapshot_id, "sluice.seq");
    const char *kafka = iceberg_metadata_snapshot_summary_get(m, t->sst.snapshot_id, SILVER_MARK_SUMMARY_KAFKA);
    if (kafka && silver_mark_kafka_parse(&t->watermark, kafka, err, errlen) < 0)
        return -1;
    if (!lsn)
        return 0;
    if (lsn_parse(lsn, &t->watermark.wal.lsn) != 0)
        return err_setf(err, errlen, "its sluice.lsn \"%s\" is not an LSN", lsn);
    t->watermark.wal.seq = seq ? strtoull(seq, NULL, 10) : UINT64_MAX;
    return 0;
}

/* Load the table, creating it first when the catalog does not have it. */
static iceberg_metadata *st_load_or_create(silver_table *t, int64_t now_ms, char *err, size_t errlen)
{
    iceberg_table_ref ref = st_ref(t);
    char *loc = NULL;
    int rc = iceberg_catalog_load_table(t->o.catalog, &ref.ident, &loc, err, errlen);
    free(loc);
    if (rc == ICEBERG_CATALOG_NOT_FOUND) {
        iceberg_table_spec spec = {.location = t->location, .fields = t->fields, .nfields = t->o.ncolumns};
        const char *props[] = {"write.format.default", "parquet", "write.delete.mode", "merge-on-read",
                               "write.update.mode", "merge-on-read", "sluice.writer", "silver"};
        spec.properties = props;
        spec.nproperties = sizeof props / sizeof props[0] / 2;
        if (iceberg_table_create(&ref, &spec, now_ms, NULL, err, errlen) != 0)
            return NULL;
        log_info(ST_LOG, "created Iceberg table %s.%s at %s", t->ns, t->name, t->location);
    } else if (rc != ICEBERG_CATALOG_OK) {
        return NULL;
    }
    return iceberg_table_load(&ref, NULL, err, errlen);
}

/* Settle an interrupted commit and check the index describes the table's current snapshot. */
static int st_recover(silver_table *t, const iceberg_metadata *m, char *err, size_t errlen)
{
    int committed = t->sst.pending_snapshot && iceberg_metadata_has_snapshot(m, t->sst.pending_snapshot);
    if (t->sst.pending_snapshot)
        log_info(ST_LOG, "%s.%s: the commit of snapshot %" PRId64 " was interrupted; it %s", t->ns, t->name,
                 t->sst.pending_snapshot, committed ? "is in the table: keeping it" : "is not in the table: its "
                                                                                      "changes come again");
    if (silver_state_settle(t->st, &t->sst, committed, err, errlen) < 0 ||
        silver_state_table_get(t->st, t->state_name, &t->sst, err, errlen) < 0)
        return -1;
    if (t->sst.snapshot_id && !iceberg_metadata_is_ancestor(m, t->sst.snapshot_id))
        return err_setf(err, errlen, "this appliance's last snapshot %" PRId64 " is no longer in the table's "
                        "history (rolled back or expired): its index of live rows does not describe the table. "
                        "Drop the table from the catalog to rebuild it from a new snapshot", t->sst.snapshot_id);
    if (!t->sst.snapshot_id && iceberg_metadata_any_snapshot_with(m, "sluice.appliance", t->writer))
        return err_setf(err, errlen, "it holds snapshots of this writer (%s) but the silver state (silver.db) has "
                        "no record of them: it was lost or replaced. Drop the table from the catalog to rebuild "
                        "it from a new snapshot", t->writer);
    return 0;
}

static int st_copy_options(silver_table *t, const silver_table_options *o)
{
    t->o = *o;
    t->ns = strdup(o->ns);
    t->name = strdup(o->name);
    t->location = strdup(o->location);
    t->key_prefix = strdup(o->key_prefix);
    t->spool_dir = strdup(o->spool_dir);
    t->writer = strdup(o->writer ? o->writer : "sluice");
    t->fields = calloc(o->ncolumns, sizeof *t->fields);
    t->columns = calloc(o->ncolumns, sizeof *t->columns);
    if (!t->ns || !t->name || !t->location || !t->key_prefix || !t->spool_dir || !t->writer || !t->fields ||
        !t->columns ||
        asprintf(&t->state_name, "%s.%s", o->ns, o->name) < 0) {
        t->state_name = NULL;
        return -1;
    }
    for (size_t i = 0; i < o->ncolumns; i++) {
        t->fields[i] = o->fields[i];
        t->fields[i].name = strdup(o->fields[i].name);
        t->fields[i].type = strdup(o->fields[i].type);
        if (!t->fields[i].name || !t->fields[i].type)
            return -1;
        t->columns[i] = o->columns[i];
        t->columns[i].name = t->fields[i].name;
    }
    return 0;
}

silver_table *silver_table_open(const silver_table_options *o, silver_state *st, int64_t now_ms, char *err,
                                size_t errlen)
{
    silver_table *t = calloc(1, sizeof *t);
    iceberg_metadata *m = NULL;
    char why[768];
    if (!t) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    t->w_fd = -1;
    t->delfile.fd = -1;
    t->st = st;
    if (st_copy_options(t, o) < 0) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(m = st_load_or_create(t, now_ms, why, sizeof why)) || st_schema_check(t, m, why, sizeof why) < 0 ||
        silver_state_table_get(st, t->state_name, &t->sst, why, sizeof why) < 0 ||
        st_recover(t, m, why, sizeof why) < 0 || st_watermark_read(t, m, why, sizeof why) < 0) {
        err_setf(err, errlen, "silver table %s.%s: %s", o->ns, o->name, why);
        goto fail;
    }
    iceberg_metadata_destroy(m);
    return t;
fail:
    iceberg_metadata_destroy(m);
    silver_table_destroy(t);
    return NULL;
}

/* ---- the batch ------------------------------------------------------------------------------------- */

static int st_batch_name(silver_table *t, char *err, size_t errlen)
{
    if (!t->batch_uuid[0] && iceberg_uuid_random(t->batch_uuid) != 0)
        return err_setf(err, errlen, "no random bytes");
    return 0;
}

/* Open the next data file of the batch. */
static int st_data_open(silver_table *t, char *err, size_t errlen)
{
    if (st_batch_name(t, err, errlen) < 0)
        return -1;
    if (asprintf(&t->w_path, "%s/data/%s-%05d.parquet", t->location, t->batch_uuid, t->nfiles_opened) < 0) {
        t->w_path = NULL;
        return err_setf(err, errlen, "out of memory");
    }
    if ((t->w_fd = st_spool_open(t, err, errlen)) < 0)
        return -1;
    if (silver_state_file_add(t->st, t->sst.id, t->w_path, &t->w_file_id, err, errlen) < 0)
        return -1;
    parquet_schema s = {t->columns, t->o.ncolumns};
    byte_output bo = {byte_output_fd_write, &t->w_fd};
    if (!(t->w = parquet_writer_create(&s, &t->o.parquet, &bo, err, errlen)))
        return -1;
    t->nfiles_opened++;
    return 0;
}

static int st_files_grow(silver_table *t)
{
    if (t->nfiles < t->capfiles)
        return 0;
    size_t cap = t->capfiles ? t->capfiles * 2 : 8;
    st_file *f = realloc(t->files, cap * sizeof *f);
    if (!f)
        return -1;
    t->files = f;
    t->capfiles = cap;
    return 0;
}

/* Finish a written Parquet file into f (keeping its spool file for the upload); truncate: its
 * string bounds (iceberg_parquet.h). */
static int st_file_finish(parquet_writer *w, const parquet_schema *s, size_t truncate, st_file *f, char *err,
                          size_t errlen)
{
    parquet_file_info info;
    if (parquet_writer_close(w, &info, err, errlen) != 0)
        return -1;
    f->rows = (int64_t)info.rows;
    f->size = (int64_t)info.bytes;
    return (f->stats = iceberg_file_stats_from_parquet(s, &info, truncate, err, errlen)) ? 0 : -1;
}

/* Close the open data file into the batch's list (uploaded at commit). */
static int st_data_close(silver_table *t, char *err, size_t errlen)
{
    if (!t->w)
        return 0;
    if (st_files_grow(t) < 0)
        return err_setf(err, errlen, "out of memory");
    st_file *f = &t->files[t->nfiles];
    memset(f, 0, sizeof *f);
    f->fd = -1;
    parquet_schema s = {t->columns, t->o.ncolumns};
    if (st_file_finish(t->w, &s, ICEBERG_METRICS_TRUNCATE_DEFAULT, f, err, errlen) < 0) {
        st_file_clear(f);
        return -1;
    }
    f->path = t->w_path;
    f->fd = t->w_fd;
    t->w_path = NULL;
    t->w_fd = -1;
    parquet_writer_destroy(t->w);
    t->w = NULL;
    t->closed_bytes += (uint64_t)f->size;
    t->nfiles++;
    return 0;
}

/* Give up a data file that could not be opened. */
static void st_data_abandon(silver_table *t)
{
    parquet_writer_destroy(t->w);
    t->w = NULL;
    if (t->w_fd >= 0)
        close(t->w_fd);
    t->w_fd = -1;
    free(t->w_path);
    t->w_path = NULL;
}

int silver_table_row_append(silver_table *t, const parquet_value *row, int64_t *file, int64_t *pos, char *err,
                            size_t errlen)
{
    if (!t->w && st_data_open(t, err, errlen) < 0) {
        st_data_abandon(t);
        return -1;
    }
    int64_t at = (int64_t)parquet_writer_rows(t->w);
    if (parquet_writer_write_row(t->w, row, err, errlen) != 0)
        return -1;
    *file = t->w_file_id;
    *pos = at;
    if (parquet_writer_bytes_written(t->w) + parquet_writer_bytes_buffered(t->w) >= t->o.file_bytes)
        return st_data_close(t, err, errlen);
    return 0;
}

int silver_table_row_delete(silver_table *t, int64_t file, int64_t pos, char *err, size_t errlen)
{
    if (t->ndeletes == t->capdeletes) {
        size_t cap = t->capdeletes ? t->capdeletes * 2 : 1024;
        st_delete *d = realloc(t->deletes, cap * sizeof *d);
        if (!d)
            return err_setf(err, errlen, "out of memory");
        t->deletes = d;
        t->capdeletes = cap;
    }
    t->deletes[t->ndeletes++] = (st_delete){file, pos};
    return 0;
}

/* ---- the position-delete file ---------------------------------------------------------------------- */

typedef struct st_pos_delete {
    const char *path;
    int64_t pos;
} st_pos_delete;

static int st_pos_delete_cmp(const void *a, const void *b)
{
    const st_pos_delete *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The path of data file id: the open batch's own files are in the state like the others. */
static int st_delete_paths(silver_table *t, st_pos_delete *out, char **paths, char *err, size_t errlen)
{
    /* Deletes come in runs against few files: resolve each distinct id once (ids sorted first). */
    int64_t last = -1;
    char *last_path = NULL;
    size_t npaths = 0;
    for (size_t i = 0; i < t->ndeletes; i++) {
        if (t->deletes[i].file != last) {
            char p[2048];
            if (silver_state_file_path(t->st, t->deletes[i].file, p, sizeof p, err, errlen) < 0)
                return -1;
            if (!(last_path = strdup(p)))
                return err_setf(err, errlen, "out of memory");
            paths[npaths++] = last_path;
            last = t->deletes[i].file;
        }
        out[i] = (st_pos_delete){last_path, t->deletes[i].pos};
    }
    return (int)npaths;
}

static int st_delete_id_cmp(const void *a, const void *b)
{
    const st_delete *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Write the batch's position deletes as a Parquet file into t->delfile (spooled). */
static int st_deletes_write(silver_table *t, char *err, size_t errlen)
{
    static const parquet_column_def cols[] = {
        {"file_path", ICEBERG_FIELD_DELETE_FILE_PATH, false, PARQUET_TYPE_STRING, 0, 0},
        {"pos", ICEBERG_FIELD_DELETE_POS, false, PARQUET_TYPE_INT64, 0, 0},
    };
    parquet_schema s = {cols, 2};
    qsort(t->deletes, t->ndeletes, sizeof *t->deletes, st_delete_id_cmp);
    st_pos_delete *rows = malloc(t->ndeletes * sizeof *rows);
    char **paths = calloc(t->ndeletes, sizeof *paths);
    parquet_writer *w = NULL;
    int rc = -1, npaths = 0;
    if (!rows || !paths) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    if ((npaths = st_delete_paths(t, rows, paths, err, errlen)) < 0)
        goto out;
    qsort(rows, t->ndeletes, sizeof *rows, st_pos_delete_cmp);
    if (st_batch_name(t, err, errlen) < 0 ||
        asprintf(&t->delfile.path, "%s/data/%s-deletes.parquet", t->location, t->batch_uuid) < 0 ||
        (t->delfile.fd = st_spool_open(t, err, errlen)) < 0)
        goto out;
    byte_output bo = {byte_output_fd_write, &t->delfile.fd};
    if (!(w = parquet_writer_create(&s, &t->o.parquet, &bo, err, errlen)))
        goto out;
    for (size_t i = 0; i < t->ndeletes; i++) {
        if (i > 0 && rows[i].pos == rows[i - 1].pos && strcmp(rows[i].path, rows[i - 1].path) == 0)
            continue;   /* one delete per position */
        parquet_value v[2] = {parquet_value_bytes(rows[i].path, strlen(rows[i].path)), parquet_value_int64(rows[i].pos)};
        if (parquet_writer_write_row(w, v, err, errlen) != 0)
            goto out;
    }
    rc = st_file_finish(w, &s, 0, &t->delfile, err, errlen);   /* full file_path bounds, as readers expect */
out:
    if (rc < 0) {
        st_file_clear(&t->delfile);
        t->delfile.path = NULL;
    }
    parquet_writer_destroy(w);
    for (int i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    free(rows);
    return rc;
}

/* ---- committing ------------------------------------------------------------------------------------ */

static int st_upload(silver_table *t, st_file *f, char *err, size_t errlen)
{
    if (f->fd < 0)
        return 0;
    char key[2200];
    if (st_key(t, f->path, key, sizeof key, err, errlen) < 0)
        return -1;
    objstore_put_options po = {.content_type = "application/vnd.apache.parquet"};
    if (objstore_put_fd(t->o.os, key, f->fd, (uint64_t)f->size, &po, err, errlen) != OBJSTORE_OK)
        return -1;
    close(f->fd);
    f->fd = -1;
    return 0;
}

/* Is snapshot id in the table already (a commit whose answer was lost)? 1, 0, -1. */
static int st_snapshot_committed(silver_table *t, int64_t id, char *err, size_t errlen)
{
    iceberg_table_ref ref = st_ref(t);
    iceberg_metadata *m = iceberg_table_load(&ref, NULL, err, errlen);
    if (!m)
        return -1;
    int has = iceberg_metadata_has_snapshot(m, id);
    iceberg_metadata_destroy(m);
    return has;
}

/* One attempt at the steps not yet done. 0 done, -1 failed (retry). */
static int st_commit_attempt(silver_table *t, const silver_mark *upto, int64_t now_ms, int attempt, char *err,
                             size_t errlen)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (st_upload(t, &t->files[i], err, errlen) < 0)
            return -1;
    if (t->ndeletes && !t->delfile.path && st_deletes_write(t, err, errlen) < 0)
        return -1;
    if (t->delfile.path && st_upload(t, &t->delfile, err, errlen) < 0)
        return -1;
    if (!t->snapshot_id) {
        uint64_t r;
        if (random_bytes(&r, sizeof r) != 0)
            return err_setf(err, errlen, "no random bytes for the snapshot id");
        int64_t id = (int64_t)(r >> 1) | 1;
        if (silver_state_pending_set(t->st, t->sst.id, id, err, errlen) < 0)
            return -1;
        t->snapshot_id = id;
    }
    int done = attempt > 0 ? st_snapshot_committed(t, t->snapshot_id, err, errlen) : 0;
    if (done < 0)
        return -1;
    if (!done) {
        iceberg_append_file *data = calloc(t->nfiles ? t->nfiles : 1, sizeof *data);
        if (!data)
            return err_setf(err, errlen, "out of memory");
        for (size_t i = 0; i < t->nfiles; i++)
            data[i] = (iceberg_append_file){t->files[i].path, t->files[i].rows, t->files[i].size, t->files[i].stats};
        iceberg_append_file del = {t->delfile.path, t->delfile.rows, t->delfile.size, t->delfile.stats};
        /* the position: the capture's (sluice.lsn, sluice.seq) or Kafka's offsets */
        char lsn[18], seq[24];
        buf offsets = BUF_INIT;
        lsn_format(upto->wal.lsn, lsn);
        snprintf(seq, sizeof seq, "%" PRIu64, upto->wal.seq);
        silver_mark_kafka_format(upto, &offsets);
        int wal = upto->nparts == 0;
        const char *summary[] = {"sluice.appliance", t->writer, wal ? "sluice.seq" : SILVER_MARK_SUMMARY_KAFKA,
                                 wal ? seq : offsets.data};
        iceberg_commit_files c = {
            .snapshot_id = t->snapshot_id,
            .data = data,
            .ndata = t->nfiles,
            .deletes = t->delfile.path ? &del : NULL,
            .ndeletes = t->delfile.path ? 1 : 0,
            .lsn = wal ? lsn : NULL,
            .summary = summary,
            .nsummary = 2,
        };
        iceberg_table_ref ref = st_ref(t);
        iceberg_commit_result res;
        int rc = iceberg_table_commit(&ref, &c, now_ms, &res, err, errlen);
        buf_free(&offsets);
        free(data);
        if (rc != 0)
            return -1;
        t->conflicts += res.attempts > 1 ? (uint64_t)(res.attempts - 1) : 0;
    }
    return silver_state_apply(t->st, t->sst.id, t->snapshot_id, err, errlen);
}

int silver_table_commit(silver_table *t, const silver_mark *upto, int64_t now_ms, char *err, size_t errlen)
{
    /* The new watermark: the summary carries all of it (a batch may lack some partitions). */
    silver_mark next = {0};
    int rc = -1;
    if (st_data_close(t, err, errlen) < 0 || silver_mark_merge(&next, &t->watermark, err, errlen) < 0 ||
        silver_mark_merge(&next, upto, err, errlen) < 0)
        goto done;
    if (t->nfiles == 0 && t->ndeletes == 0) {   /* nothing changed: only the watermark moves */
        if ((rc = silver_state_sync(t->st, err, errlen)) == 0)
            goto swap;
        goto done;
    }
    char why[1024];
    for (int attempt = 0;; attempt++) {
        if (st_commit_attempt(t, &next, now_ms, attempt, why, sizeof why) == 0)
            break;
        if (*t->o.stop) {
            err_setf(err, errlen, "silver table %s.%s: commit stopped: %s", t->ns, t->name, why);
            goto done;
        }
        if (attempt == 0 || attempt % 10 == 0)
            log_warn(ST_LOG, "%s.%s: commit failed (retrying; nothing is confirmed meanwhile): %s", t->ns, t->name, why);
        backoff_sleep_ms(backoff_next_ms(attempt, 200, t->o.retry_max_ms > 0 ? t->o.retry_max_ms : 30000));
    }
    t->commits++;
    st_batch_reset(t);
    rc = 0;
swap:;
    silver_mark old = t->watermark;
    t->watermark = next;
    next = old;
done:
    silver_mark_free(&next);
    return rc;
}
