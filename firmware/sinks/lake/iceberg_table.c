/* iceberg_table: create and commit with optimistic concurrency through the catalog's
 * compare-and-swap (see the header). Steps of a commit: load, write the data and delete
 * manifests (once), write the manifest list, write the next metadata file create-only, swap the
 * catalog; on a conflict back off and start again from the load. A schema change: load, change
 * the schema, write the next metadata file, swap; the same retries. */
#include "sinks/lake/iceberg_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backoff.h"
#include "core/buf.h"
#include "core/byte_output.h"
#include "core/random.h"
#include "sinks/lake/iceberg_manifest.h"
#include "sinks/lake/iceberg_manifest_read.h"

/* The object key of a URI below the table's location. 0 or -1. */
static int table_key(const iceberg_table_ref *t, const char *uri, char *out, size_t outlen, char *err,
                     size_t errlen)
{
    size_t n = strlen(t->location);
    if (strncmp(uri, t->location, n) != 0 || uri[n] != '/') {
        snprintf(err, errlen, "%s is not below the table location %s", uri, t->location);
        return -1;
    }
    int w = snprintf(out, outlen, "%s%s%s", t->key_prefix, *t->key_prefix ? "/" : "", uri + n + 1);
    if (w < 0 || (size_t)w >= outlen) {
        snprintf(err, errlen, "object key too long for %s", uri);
        return -1;
    }
    return 0;
}

/* Store bytes at the URI's key (create_only: OBJSTORE_EXISTS when taken). An objstore status. */
static int table_put(const iceberg_table_ref *t, const char *uri, const void *data, size_t len, int create_only,
                     const char *content_type, char *err, size_t errlen)
{
    char key[1100];
    if (table_key(t, uri, key, sizeof key, err, errlen) != 0)
        return OBJSTORE_ERR;
    objstore_put_options o = {.content_type = content_type, .if_none_match = create_only};
    return objstore_put(t->os, key, data, len, &o, err, errlen);
}

/* The N of ".../vN.metadata.json"; 0 when the name is not of that form. */
static int metadata_version(const char *location)
{
    const char *slash = strrchr(location, '/');
    const char *name = slash ? slash + 1 : location;
    int v = 0;
    char tail[32];
    if (sscanf(name, "v%d%31s", &v, tail) == 2 && strcmp(tail, ".metadata.json") == 0 && v > 0)
        return v;
    return 0;
}

/* The N to try first for the file after prev_loc. */
static int version_next(const char *prev_loc, const iceberg_metadata *m)
{
    int v = metadata_version(prev_loc) + 1;
    return v >= 2 ? v : iceberg_metadata_snapshot_count(m) + 1;
}

static void version_hint_write(const iceberg_table_ref *t, int version)
{
    char uri[1100], text[16], err[256];
    snprintf(uri, sizeof uri, "%s/metadata/version-hint.text", t->location);
    snprintf(text, sizeof text, "%d", version);
    /* Best effort: the catalog is the truth; path readers see the previous version until the
     * next commit rewrites the hint. */
    (void)table_put(t, uri, text, strlen(text), 0, "text/plain", err, sizeof err);
}

/* Write metadata as vN (create-only), trying higher N when another writer took one. Returns
 * OBJSTORE_OK with the URI in out, or an error. */
static int metadata_write(const iceberg_table_ref *t, const iceberg_metadata *m, int *version, char *out,
                          size_t outlen, char *err, size_t errlen)
{
    char *text = iceberg_metadata_dump(m);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return OBJSTORE_ERR;
    }
    int rc = OBJSTORE_ERR;
    for (int tries = 0; tries < 8; tries++, (*version)++) {
        snprintf(out, outlen, "%s/metadata/v%d.metadata.json", t->location, *version);
        rc = table_put(t, out, text, strlen(text), 1, "application/json", err, errlen);
        if (rc != OBJSTORE_EXISTS)
            break;
    }
    free(text);
    return rc;
}

iceberg_metadata *iceberg_table_load(const iceberg_table_ref *t, char **location, char *err, size_t errlen)
{
    char *loc = NULL, key[1100];
    buf b = BUF_INIT;
    iceberg_metadata *m = NULL;
    if (iceberg_catalog_load_table(t->catalog, &t->ident, &loc, err, errlen) != ICEBERG_CATALOG_OK)
        return NULL;
    if (table_key(t, loc, key, sizeof key, err, errlen) == 0 &&
        objstore_get(t->os, key, &b, 0, NULL, err, errlen) == OBJSTORE_OK)
        m = iceberg_metadata_parse(b.data ? b.data : "", b.len, err, errlen);
    buf_free(&b);
    if (m && location)
        *location = loc;
    else
        free(loc);
    return m;
}

int iceberg_table_create(const iceberg_table_ref *t, const iceberg_table_spec *spec, int64_t now_ms,
                         iceberg_commit_result *res, char *err, size_t errlen)
{
    iceberg_commit_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (strcmp(spec->location, t->location) != 0) {
        snprintf(err, errlen, "table spec location %s differs from %s", spec->location, t->location);
        return -1;
    }
    char *existing = NULL;
    int found = iceberg_catalog_load_table(t->catalog, &t->ident, &existing, err, errlen);
    free(existing);
    if (found != ICEBERG_CATALOG_NOT_FOUND) {
        if (found == ICEBERG_CATALOG_OK)
            snprintf(err, errlen, "table %s.%s already exists", t->ident.ns, t->ident.name);
        return -1;   /* checked first so that a refused create writes nothing */
    }
    iceberg_metadata *m = iceberg_metadata_create(spec, now_ms, err, errlen);
    if (!m)
        return -1;
    res->version = 1;
    res->attempts = 1;
    int rc = metadata_write(t, m, &res->version, res->metadata_location, sizeof res->metadata_location, err,
                            errlen);
    iceberg_metadata_destroy(m);
    if (rc != OBJSTORE_OK)
        return -1;
    if (iceberg_catalog_commit(t->catalog, &t->ident, NULL, res->metadata_location, err, errlen) !=
        ICEBERG_CATALOG_OK)
        return -1;
    version_hint_write(t, res->version);
    return 0;
}

/* A manifest of the commit's new files (written once per commit, reused by its retries). */
typedef struct new_manifest {
    iceberg_manifest_writer *w;
    iceberg_manifest_file summary;
    char uri[1100];
} new_manifest;

/* Write the manifest of files (data or position deletes, by content) as <uuid>-m<index>.avro. */
static int manifest_write(const iceberg_table_ref *t, const iceberg_metadata *m, int64_t snapshot_id,
                          iceberg_manifest_content content, const iceberg_append_file *files, size_t n,
                          new_manifest *nm, char *err, size_t errlen)
{
    char uuid[37];
    buf schema = BUF_INIT, out = BUF_INIT;
    int rc = -1;
    if (iceberg_uuid_random(uuid) != 0) {
        snprintf(err, errlen, "no random bytes");
        return -1;
    }
    snprintf(nm->uri, sizeof nm->uri, "%s/metadata/%s-m%d.avro", t->location, uuid,
             content == ICEBERG_MANIFEST_DATA ? 0 : 1);
    if (iceberg_metadata_schema_json(m, &schema, err, errlen) != 0)
        goto out;
    iceberg_manifest_options o = {
        .path = nm->uri,
        .schema_json = schema.data,
        .schema_id = iceberg_metadata_current_schema_id(m),
        .partition_spec_id = 0,
        .content = content,
        .snapshot_id = snapshot_id,
        .codec = AVRO_OCF_CODEC_DEFLATE,
    };
    byte_output bo = {byte_output_buf_write, &out};
    nm->w = iceberg_manifest_writer_create(&o, &bo, err, errlen);
    if (!nm->w)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const iceberg_file_stats *st = files[i].stats;
        bool data = content == ICEBERG_MANIFEST_DATA;
        iceberg_data_file df = {
            .content = data ? ICEBERG_CONTENT_DATA : ICEBERG_CONTENT_POSITION_DELETES,
            .file_path = files[i].path,
            .record_count = files[i].record_count,
            .file_size_in_bytes = files[i].file_size,
            .columns = st ? st->columns : NULL,
            .ncolumns = st ? st->ncolumns : 0,
            .split_offsets = st && st->nsplit_offsets ? st->split_offsets : NULL,
            .nsplit_offsets = st ? st->nsplit_offsets : 0,
            .referenced_data_file = data ? NULL : files[i].referenced_data_file,
        };
        iceberg_manifest_entry e = {.status = ICEBERG_STATUS_ADDED, .file = &df};
        if (iceberg_manifest_writer_add(nm->w, &e, err, errlen) != 0)
            goto out;
    }
    if (iceberg_manifest_writer_close(nm->w, &nm->summary, err, errlen) != 0 ||
        table_put(t, nm->uri, out.data, out.len, 1, "application/octet-stream", err, errlen) != OBJSTORE_OK)
        goto out;
    rc = 0;
out:
    buf_free(&schema);
    buf_free(&out);
    return rc;
}

/* The manifest list of the new snapshot: the new manifests (those written), then the parent's,
 * data and delete ones alike. 0 or -1. */
static int list_write(const iceberg_table_ref *t, const iceberg_metadata *m, int64_t snapshot_id, int attempt,
                      const new_manifest *nm, size_t nnm, char *uri, size_t urilen, char *err, size_t errlen)
{
    iceberg_snapshot_info cur;
    iceberg_manifest_list *prev = NULL;
    iceberg_manifest_list_writer *w = NULL;
    buf out = BUF_INIT, prev_bytes = BUF_INIT;
    char uuid[37], key[1100];
    int rc = -1;
    int has = iceberg_metadata_current_snapshot(m, &cur, err, errlen);
    if (has < 0 || iceberg_uuid_random(uuid) != 0)
        goto out;
    if (has) {
        if (table_key(t, cur.manifest_list, key, sizeof key, err, errlen) != 0 ||
            objstore_get(t->os, key, &prev_bytes, 0, NULL, err, errlen) != OBJSTORE_OK ||
            !(prev = iceberg_manifest_list_read(prev_bytes.data, prev_bytes.len, err, errlen)))
            goto out;
    }
    snprintf(uri, urilen, "%s/metadata/snap-%" PRId64 "-%d-%s.avro", t->location, snapshot_id, attempt, uuid);
    iceberg_manifest_list_options o = {
        .snapshot_id = snapshot_id,
        .has_parent_snapshot_id = has == 1,
        .parent_snapshot_id = has == 1 ? cur.snapshot_id : 0,
        .sequence_number = iceberg_metadata_last_sequence_number(m) + 1,
        .codec = AVRO_OCF_CODEC_DEFLATE,
    };
    byte_output bo = {byte_output_buf_write, &out};
    if (!(w = iceberg_manifest_list_writer_create(&o, &bo, err, errlen)))
        goto out;
    for (size_t i = 0; i < nnm; i++)
        if (nm[i].w && iceberg_manifest_list_writer_add(w, &nm[i].summary, err, errlen) != 0)
            goto out;
    for (size_t i = 0; prev && i < prev->nfiles; i++)
        if (iceberg_manifest_list_writer_add(w, &prev->files[i], err, errlen) != 0)
            goto out;
    if (iceberg_manifest_list_writer_close(w, NULL, err, errlen) != 0 ||
        table_put(t, uri, out.data, out.len, 1, "application/octet-stream", err, errlen) != OBJSTORE_OK)
        goto out;
    rc = 0;
out:
    iceberg_manifest_list_writer_destroy(w);
    iceberg_manifest_list_destroy(prev);
    buf_free(&out);
    buf_free(&prev_bytes);
    return rc;
}

/* Write m as the next metadata file (create-only) and swap the catalog from prev_loc to it.
 * 0 committed, 1 conflict (another writer took the file or moved the catalog), -1 failed. */
static int metadata_swap(const iceberg_table_ref *t, const iceberg_metadata *m, const char *prev_loc,
                         iceberg_commit_result *res, char *err, size_t errlen)
{
    res->version = version_next(prev_loc, m);
    int put = metadata_write(t, m, &res->version, res->metadata_location, sizeof res->metadata_location, err,
                             errlen);
    if (put == OBJSTORE_EXISTS)
        return 1;
    if (put != OBJSTORE_OK)
        return -1;
    int cc = iceberg_catalog_commit(t->catalog, &t->ident, prev_loc, res->metadata_location, err, errlen);
    return cc == ICEBERG_CATALOG_OK ? 0 : cc == ICEBERG_CATALOG_CONFLICT ? 1 : -1;
}

/* One attempt on the loaded table m (at prev_loc): manifests (unless written by an earlier
 * attempt), list, metadata file, catalog swap. 0 committed, 1 conflict, -1 failed (err). */
static int commit_try(const iceberg_table_ref *t, const iceberg_commit_files *c, iceberg_metadata *m,
                      const char *prev_loc, iceberg_snapshot_add *add, int attempt, new_manifest nm[2],
                      int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen)
{
    char list_uri[1100];
    if (iceberg_metadata_has_snapshot(m, add->snapshot_id)) {
        snprintf(err, errlen, "snapshot id %" PRId64 " is already in table %s.%s", add->snapshot_id, t->ident.ns,
                 t->ident.name);
        return -1;
    }
    if ((c->ndata && !nm[0].w &&
         manifest_write(t, m, add->snapshot_id, ICEBERG_MANIFEST_DATA, c->data, c->ndata, &nm[0], err, errlen) !=
             0) ||
        (c->ndeletes && !nm[1].w &&
         manifest_write(t, m, add->snapshot_id, ICEBERG_MANIFEST_DELETES, c->deletes, c->ndeletes, &nm[1], err,
                        errlen) != 0) ||
        list_write(t, m, add->snapshot_id, attempt, nm, 2, list_uri, sizeof list_uri, err, errlen) != 0)
        return -1;
    add->manifest_list = list_uri;
    int rc = iceberg_metadata_add_snapshot(m, add, prev_loc, now_ms, err, errlen);
    add->manifest_list = NULL;
    if (rc != 0)
        return -1;
    res->sequence_number = iceberg_metadata_last_sequence_number(m);
    return metadata_swap(t, m, prev_loc, res, err, errlen);
}

int iceberg_table_commit(const iceberg_table_ref *t, const iceberg_commit_files *c, int64_t now_ms,
                         iceberg_commit_result *res, char *err, size_t errlen)
{
    iceberg_commit_result local;
    new_manifest nm[2] = {{0}};   /* data, deletes */
    int rc = -1;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (c->ndata + c->ndeletes == 0 || (c->ndata && !c->data) || (c->ndeletes && !c->deletes)) {
        snprintf(err, errlen, "a commit needs at least one data or delete file");
        return -1;
    }
    if (c->snapshot_id < 0) {
        snprintf(err, errlen, "snapshot id %" PRId64 " is negative", c->snapshot_id);
        return -1;
    }
    res->snapshot_id = c->snapshot_id;
    while (res->snapshot_id == 0) {
        uint64_t r;
        if (random_bytes(&r, sizeof r) != 0) {
            snprintf(err, errlen, "no random bytes for the snapshot id");
            return -1;
        }
        res->snapshot_id = (int64_t)(r >> 1);
    }
    iceberg_snapshot_add add = {
        .snapshot_id = res->snapshot_id,
        .lsn = c->lsn,
        .summary = c->summary,
        .nsummary = c->nsummary,
        .added_data_files = (int64_t)c->ndata,
        .added_position_delete_files = (int64_t)c->ndeletes,
    };
    for (size_t i = 0; i < c->ndata; i++) {
        add.added_records += c->data[i].record_count;
        add.added_files_size += c->data[i].file_size;
    }
    for (size_t i = 0; i < c->ndeletes; i++) {
        add.added_position_deletes += c->deletes[i].record_count;
        add.added_files_size += c->deletes[i].file_size;
    }
    for (int attempt = 0; attempt < ICEBERG_TABLE_COMMIT_ATTEMPTS; attempt++) {
        char *prev_loc = NULL;
        if (attempt > 0)   /* let a concurrent writer finish before reloading */
            backoff_sleep_ms(10 + backoff_next_ms(attempt - 1, 40, 2000));
        res->attempts = attempt + 1;
        iceberg_metadata *m = iceberg_table_load(t, &prev_loc, err, errlen);
        if (!m)
            goto out;
        int step = commit_try(t, c, m, prev_loc, &add, attempt, nm, now_ms, res, err, errlen);
        iceberg_metadata_destroy(m);
        free(prev_loc);
        if (step == 0) {
            version_hint_write(t, res->version);
            rc = 0;
            goto out;
        }
        if (step < 0)
            goto out;
    }
    snprintf(err, errlen, "commit to %s.%s: still conflicting after %d attempts", t->ident.ns, t->ident.name,
             ICEBERG_TABLE_COMMIT_ATTEMPTS);
out:
    iceberg_manifest_writer_destroy(nm[0].w);
    iceberg_manifest_writer_destroy(nm[1].w);
    return rc;
}

int iceberg_table_append(const iceberg_table_ref *t, const iceberg_append_file *files, size_t n, const char *lsn,
                         int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "an append needs at least one data file");
        if (res)
            memset(res, 0, sizeof *res);
        return -1;
    }
    iceberg_commit_files c = {.data = files, .ndata = n, .lsn = lsn};
    return iceberg_table_commit(t, &c, now_ms, res, err, errlen);
}

/* One attempt on the loaded table m (at prev_loc). 0 done (*wrote: whether a file was written),
 * 1 conflict, -1 failed (err). */
static int schema_try(const iceberg_table_ref *t, const iceberg_schema_field *fields, size_t n, iceberg_metadata *m,
                      const char *prev_loc, int64_t now_ms, int *wrote, iceberg_commit_result *res, char *err,
                      size_t errlen)
{
    iceberg_snapshot_info cur;
    int has = iceberg_metadata_current_snapshot(m, &cur, err, errlen);
    int32_t before = iceberg_metadata_current_schema_id(m);
    *wrote = 0;
    if (has < 0 || iceberg_metadata_set_schema(m, fields, n, err, errlen) != 0)
        return -1;
    res->snapshot_id = has ? cur.snapshot_id : 0;
    res->sequence_number = iceberg_metadata_last_sequence_number(m);
    if (iceberg_metadata_current_schema_id(m) == before) {   /* already the current schema */
        snprintf(res->metadata_location, sizeof res->metadata_location, "%s", prev_loc);
        res->version = metadata_version(prev_loc);
        return 0;
    }
    if (iceberg_metadata_log_previous(m, prev_loc, now_ms, err, errlen) != 0)
        return -1;
    int rc = metadata_swap(t, m, prev_loc, res, err, errlen);
    *wrote = rc == 0;
    return rc;
}

int iceberg_table_set_schema(const iceberg_table_ref *t, const iceberg_schema_field *fields, size_t n,
                             int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen)
{
    iceberg_commit_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    for (int attempt = 0; attempt < ICEBERG_TABLE_COMMIT_ATTEMPTS; attempt++) {
        char *prev_loc = NULL;
        int wrote;
        if (attempt > 0)   /* let a concurrent writer finish before reloading */
            backoff_sleep_ms(10 + backoff_next_ms(attempt - 1, 40, 2000));
        res->attempts = attempt + 1;
        iceberg_metadata *m = iceberg_table_load(t, &prev_loc, err, errlen);
        if (!m)
            return -1;
        int step = schema_try(t, fields, n, m, prev_loc, now_ms, &wrote, res, err, errlen);
        iceberg_metadata_destroy(m);
        free(prev_loc);
        if (step == 0 && wrote)
            version_hint_write(t, res->version);
        if (step <= 0)
            return step;
    }
    snprintf(err, errlen, "schema change of %s.%s: still conflicting after %d attempts", t->ident.ns, t->ident.name,
             ICEBERG_TABLE_COMMIT_ATTEMPTS);
    return -1;
}
