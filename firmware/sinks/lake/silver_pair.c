/* silver_pair: a destination's current and history tables kept in step with its changes (see
 * silver_pair.h). Row keys are the primary-key columns as their Parquet values (kind byte, then
 * the value's bytes), so the same key from a snapshot read, a change or a rule compares equal. */
#define _GNU_SOURCE
#include "sinks/lake/silver_pair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "objstore/objstore.h"
#include "sinks/lake/iceberg_parquet.h"
#include "sinks/lake/silver_image.h"
#include "sinks/lake/silver_layout.h"
#include "sinks/lake/silver_table.h"
#include "sinks/lake/silver_value.h"

#define SP_LOG "silver"
#define SP_MOVED_TAG 0xff   /* first byte of a key change's entry in the index (no key starts so) */
#define SP_EXTRA_LEN 25          /* valid_from, op, lsn, txid of a history row's version */

/* The history table's own columns, in this order (SILVER_COLUMN_SYSTEM(k)). */
enum { SP_VALID_FROM, SP_VALID_TO, SP_IS_CURRENT, SP_OP, SP_LSN, SP_TXID, SP_HISTORY_COLS };
static const silver_system_column sp_history_columns[SP_HISTORY_COLS] = {
    {"valid_from", PARQUET_TYPE_TIMESTAMPTZ, false}, {"valid_to", PARQUET_TYPE_TIMESTAMPTZ, true},
    {"is_current", PARQUET_TYPE_BOOLEAN, false},     {"op", PARQUET_TYPE_STRING, false},
    {"lsn", PARQUET_TYPE_INT64, false},              {"txid", PARQUET_TYPE_INT64, false},
};

struct silver_pair {
    silver_pair_env e;
    char *ns, *name;
    table_def *def;              /* a copy of the source columns the tables follow */
    int *pk;                     /* source indexes of the primary-key columns */
    int *pk_col;                 /* their columns in the current table (cur_l) */
    int npk;
    silver_layout cur_l, hist_l; /* the tables' columns */
    silver_table *cur, *hist;
    silver_mark last;            /* the changes applied: both tables' watermarks and the batch's */
    arena *scratch;              /* per change */
    buf key, old_key, image, moved;
};

/* A live row as found in the state, copied into the scratch arena. */
typedef struct sp_prior {
    int found;
    int64_t file, pos;
    const void *image;
    size_t image_len;
    uint8_t extra[SP_EXTRA_LEN];
} sp_prior;

/* A history version's own columns. */
typedef struct sp_version {
    int64_t valid_from;
    char op;
    int64_t lsn;
    int64_t txid;
} sp_version;

/* ---- schema ---------------------------------------------------------------------------------------- */

int silver_pair_keyless(const table_def *def)
{
    for (int i = 0; i < def->ncols; i++)
        if (def->cols[i].is_pk)
            return 0;
    return 1;
}

/* Same columns as far as the tables are concerned (names, kinds, type modifiers, keys)? */
static int sp_same_shape(const table_def *a, const table_def *b)
{
    if (a->ncols != b->ncols)
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const column_def *x = &a->cols[i], *y = &b->cols[i];
        if (strcmp(x->name, y->name) != 0 || x->kind != y->kind || x->typmod != y->typmod || x->is_pk != y->is_pk)
            return 0;
    }
    return 1;
}

/* The primary-key columns of p->def and where they are in the current table (once its layout
 * is built), so that keying a change looks nothing up. */
static int sp_keys_find(silver_pair *p, char *err, size_t errlen)
{
    free(p->pk);
    free(p->pk_col);
    p->npk = 0;
    p->pk_col = NULL;
    if (!(p->pk = calloc((size_t)p->def->ncols + 1, sizeof *p->pk)) ||
        !(p->pk_col = calloc((size_t)p->def->ncols + 1, sizeof *p->pk_col)))
        return err_setf(err, errlen, "out of memory");
    for (int i = 0; i < p->def->ncols; i++)
        if (p->def->cols[i].is_pk)
            p->pk[p->npk++] = i;
    for (int k = 0; k < p->npk; k++)
        if ((p->pk_col[k] = silver_layout_column_of(&p->cur_l, p->pk[k])) < 0)
            return err_setf(err, errlen, "%s.%s: key column %s is not in the table", p->ns, p->name,
                            p->def->cols[p->pk[k]].name);
    return 0;
}

/* Where one of the two tables lives: its name, key and URI. */
typedef struct sp_where {
    char *name, *location;
    buf key;
} sp_where;

static void sp_where_free(sp_where *w)
{
    free(w->name);
    free(w->location);
    buf_free(&w->key);
}

static int sp_where_get(const silver_pair *p, int history, sp_where *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (asprintf(&w->name, "%s%s", p->name, history ? "_history" : "") < 0) {
        w->name = NULL;
        return err_setf(err, errlen, "out of memory");
    }
    buf_printf(&w->key, "silver/%s/", p->e.source);
    objstore_key_escape(&w->key, p->ns);
    buf_append(&w->key, "/", 1);
    objstore_key_escape(&w->key, w->name);
    if (objstore_key_check(w->key.data, err, errlen) != 0)
        return -1;
    if (asprintf(&w->location, "%s/%s", p->e.base_uri, w->key.data) < 0) {
        w->location = NULL;
        return err_setf(err, errlen, "out of memory");
    }
    return 0;
}

/* The layout of one table for p->def: against its schema when the catalog has it (updating the
 * schema when the source's columns moved on), or a new table's. */
static int sp_layout_sync(silver_pair *p, const sp_where *w, int history, silver_layout *l, int64_t now_ms, char *err,
                          size_t errlen)
{
    iceberg_table_ref ref = {p->e.os, w->location, w->key.data, p->e.catalog, {p->ns, w->name}};
    iceberg_schema_field *have = NULL;
    size_t n = 0;
    int32_t last_id = 0;
    char *loc = NULL;
    int found = iceberg_catalog_load_table(p->e.catalog, &ref.ident, &loc, err, errlen), rc = -1;
    free(loc);
    if (found != ICEBERG_CATALOG_OK && found != ICEBERG_CATALOG_NOT_FOUND)
        return -1;
    if (found == ICEBERG_CATALOG_OK) {
        iceberg_metadata *m = iceberg_table_load(&ref, NULL, err, errlen);
        if (!m)
            return -1;
        last_id = iceberg_metadata_last_column_id(m);
        int got = iceberg_metadata_schema_fields(m, &have, &n, err, errlen);
        iceberg_metadata_destroy(m);
        if (got != 0)
            return -1;
    }
    if (silver_layout_build(l, p->def, found == ICEBERG_CATALOG_OK, have, n, last_id,
                            history ? sp_history_columns : NULL, history ? SP_HISTORY_COLS : 0, !history, err,
                            errlen) < 0)
        goto out;
    if (l->changed) {
        if (iceberg_table_set_schema(&ref, l->fields, l->ncolumns, now_ms, NULL, err, errlen) != 0)
            goto out;
        log_info(SP_LOG, "%s.%s: schema updated to the source's columns", p->ns, w->name);
    }
    rc = 0;
out:
    free(have);
    return rc;
}

/* Open one of the two tables (creating it, or updating its schema, as needed). */
static silver_table *sp_table_open(silver_pair *p, int history, int64_t now_ms, char *err, size_t errlen)
{
    sp_where w;
    silver_table *t = NULL;
    silver_layout *l = history ? &p->hist_l : &p->cur_l;
    silver_layout_free(l);
    if (sp_where_get(p, history, &w, err, errlen) == 0 && sp_layout_sync(p, &w, history, l, now_ms, err, errlen) == 0) {
        silver_table_options o = {
            .os = p->e.os,
            .catalog = p->e.catalog,
            .ns = p->ns,
            .name = w.name,
            .writer = p->e.writer,
            .location = w.location,
            .key_prefix = w.key.data,
            .fields = l->fields,
            .columns = l->columns,
            .ncolumns = l->ncolumns,
            .parquet = p->e.parquet,
            .file_bytes = p->e.file_bytes,
            .spool_dir = p->e.spool_dir,
            .stop = p->e.stop,
            .retry_max_ms = p->e.retry_max_ms,
        };
        t = silver_table_open(&o, p->e.st, now_ms, err, errlen);
    }
    sp_where_free(&w);
    return t;
}

/* (Re)open both tables for the columns of def. */
static int sp_tables_open(silver_pair *p, const table_def *def, int64_t now_ms, char *err, size_t errlen)
{
    table_def *copy = table_def_copy(def);
    if (!copy)
        return err_setf(err, errlen, "out of memory");
    table_def_free(p->def);
    p->def = copy;
    silver_table_destroy(p->cur);
    silver_table_destroy(p->hist);
    p->cur = p->hist = NULL;
    if (!(p->cur = sp_table_open(p, 0, now_ms, err, errlen)) || sp_keys_find(p, err, errlen) < 0 ||
        (p->e.history && !(p->hist = sp_table_open(p, 1, now_ms, err, errlen))))
        return -1;
    /* The later of the two watermarks: changes before it are in both tables. */
    silver_mark_free(&p->last);
    return silver_mark_merge(&p->last, silver_table_watermark(p->cur), err, errlen) < 0 ||
                   (p->hist && silver_mark_merge(&p->last, silver_table_watermark(p->hist), err, errlen) < 0)
               ? -1
               : 0;
}

void silver_pair_destroy(silver_pair *p)
{
    if (!p)
        return;
    silver_table_destroy(p->cur);
    silver_table_destroy(p->hist);
    silver_layout_free(&p->cur_l);
    silver_layout_free(&p->hist_l);
    table_def_free(p->def);
    silver_mark_free(&p->last);
    free(p->pk);
    free(p->pk_col);
    arena_destroy(p->scratch);
    buf_free(&p->key);
    buf_free(&p->old_key);
    buf_free(&p->image);
    buf_free(&p->moved);
    free(p->ns);
    free(p->name);
    free(p);
}

silver_pair *silver_pair_open(const silver_pair_env *env, const char *ns, const char *name, const table_def *def,
                              int64_t now_ms, char *err, size_t errlen)
{
    if (silver_pair_keyless(def)) {
        err_setf(err, errlen, "%s.%s has no primary key: silver tables need one", ns, name);
        return NULL;
    }
    silver_pair *p = calloc(1, sizeof *p);
    if (!p) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    p->e = *env;
    if (!(p->ns = strdup(ns)) || !(p->name = strdup(name)) || !(p->scratch = arena_create(64 * 1024))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    if (sp_tables_open(p, def, now_ms, err, errlen) < 0)
        goto fail;
    return p;
fail:
    silver_pair_destroy(p);
    return NULL;
}

uint64_t silver_pair_batch_bytes(const silver_pair *p)
{
    return silver_table_batch_bytes(p->cur) + (p->hist ? silver_table_batch_bytes(p->hist) : 0);
}

int silver_pair_dirty(const silver_pair *p)
{
    return silver_table_batch_changes(p->cur) > 0 || (p->hist && silver_table_batch_changes(p->hist) > 0);
}

int silver_pair_commit(silver_pair *p, int64_t now_ms, char *err, size_t errlen)
{
    uint64_t before = silver_table_conflicts(p->cur) + (p->hist ? silver_table_conflicts(p->hist) : 0);
    int rc = silver_table_commit(p->cur, &p->last, now_ms, err, errlen) < 0 ||
                     (p->hist && silver_table_commit(p->hist, &p->last, now_ms, err, errlen) < 0)
                 ? -1
                 : 0;
    p->e.counters->conflicts += silver_table_conflicts(p->cur) + (p->hist ? silver_table_conflicts(p->hist) : 0) -
                                before;
    return rc;
}

/* ---- rows ------------------------------------------------------------------------------------------- */

/* The key of a row image: its primary-key columns as the current table's Parquet values, integers
 * always as 64 bits and floats as doubles, so a promoted key column keeps its keys. */
static int sp_key(silver_pair *p, const value *vals, buf *out, char *err, size_t errlen)
{
    buf_reset(out);
    for (int k = 0; k < p->npk; k++) {
        int i = p->pk[k];
        parquet_value v;
        if (vals[i].state != VALUE_PRESENT)
            return err_setf(err, errlen, "%s.%s: primary-key column %s has no value", p->ns, p->name,
                            p->def->cols[i].name);
        if (silver_value_to_parquet(&p->def->cols[i], &p->cur_l.columns[p->pk_col[k]], &vals[i], &v, p->scratch, err,
                                    errlen) != 0)
            return err_setf(err, errlen, "%s.%s: key column %s has no representable value", p->ns, p->name,
                            p->def->cols[i].name);
        if (v.kind == PARQUET_VALUE_INT32)
            v = parquet_value_int64(v.v.i32);
        else if (v.kind == PARQUET_VALUE_FLOAT)
            v = parquet_value_double(v.v.f32);
        uint8_t kind = (uint8_t)v.kind;
        buf_append(out, (const char *)&kind, 1);
        switch (v.kind) {
        case PARQUET_VALUE_BOOL: {
            uint8_t b = v.v.b;
            buf_append(out, (const char *)&b, 1);
            break;
        }
        case PARQUET_VALUE_INT64:
            buf_append(out, (const char *)&v.v.i64, 8);
            break;
        case PARQUET_VALUE_DOUBLE:
            buf_append(out, (const char *)&v.v.f64, 8);
            break;
        case PARQUET_VALUE_DECIMAL:
            buf_append(out, (const char *)&v.v.dec, sizeof v.v.dec);
            break;
        case PARQUET_VALUE_BYTES: {
            uint32_t len = (uint32_t)v.v.bytes.len;
            buf_append(out, (const char *)&len, 4);
            buf_append(out, v.v.bytes.ptr, v.v.bytes.len);
            break;
        }
        default:
            return err_setf(err, errlen, "%s.%s: key column %s has no key form", p->ns, p->name, p->def->cols[i].name);
        }
    }
    return 0;
}

static int sp_find(silver_pair *p, silver_table *t, const buf *key, sp_prior *out, char *err, size_t errlen)
{
    silver_state_row r;
    memset(out, 0, sizeof *out);
    int rc = silver_state_row_find(p->e.st, silver_table_state_id(t), key->data, key->len, &r, err, errlen);
    if (rc <= 0)
        return rc;
    out->found = 1;
    out->file = r.file;
    out->pos = r.pos;
    void *img = arena_alloc(p->scratch, r.image_len + 1);
    memcpy(img, r.image ? r.image : "", r.image_len);
    out->image = img;
    out->image_len = r.image_len;
    if (r.extra_len == SP_EXTRA_LEN)
        memcpy(out->extra, r.extra, SP_EXTRA_LEN);
    return 1;
}

static void sp_version_encode(const sp_version *v, uint8_t out[SP_EXTRA_LEN])
{
    memcpy(out, &v->valid_from, 8);
    out[8] = (uint8_t)v->op;
    memcpy(out + 9, &v->lsn, 8);
    memcpy(out + 17, &v->txid, 8);
}

static sp_version sp_version_decode(const uint8_t in[SP_EXTRA_LEN])
{
    sp_version v;
    memcpy(&v.valid_from, in, 8);
    v.op = (char)in[8];
    memcpy(&v.lsn, in + 9, 8);
    memcpy(&v.txid, in + 17, 8);
    return v;
}

/* The values of a row: src with values it lacks (unchanged TOAST, key-only images) taken from
 * the prior image when there is one. Allocated in the scratch arena. */
static value *sp_fill(silver_pair *p, const value *src, const sp_prior *prior, char *err, size_t errlen)
{
    int n = p->def->ncols;
    value *out = arena_alloc(p->scratch, (size_t)n * sizeof *out), *old = NULL;
    for (int i = 0; i < n; i++) {
        out[i] = src[i];
        if (src[i].state != VALUE_UNAVAILABLE)
            continue;
        if (!old && prior && prior->found) {
            old = arena_alloc(p->scratch, (size_t)n * sizeof *old);
            if (silver_image_decode(p->def, prior->image, prior->image_len, old, p->scratch, err, errlen) != 0)
                return NULL;
        }
        if (old && old[i].state != VALUE_UNAVAILABLE) {
            out[i] = old[i];
            p->e.counters->toast_filled++;
        }
    }
    return out;
}

/* The prior image's values. */
static value *sp_prior_values(silver_pair *p, const sp_prior *prior, char *err, size_t errlen)
{
    value *v = arena_alloc(p->scratch, (size_t)p->def->ncols * sizeof *v);
    return silver_image_decode(p->def, prior->image, prior->image_len, v, p->scratch, err, errlen) == 0 ? v : NULL;
}

/* Append vals (with, for the history table, the version ver and its valid_to) to t; *file and
 * *pos: where. */
static int sp_append(silver_pair *p, silver_table *t, const value *vals, const sp_version *ver, int64_t valid_to,
                     int has_valid_to, int64_t *file, int64_t *pos, char *err, size_t errlen)
{
    const silver_layout *l = t == p->cur ? &p->cur_l : &p->hist_l;
    parquet_value *row = arena_alloc(p->scratch, (l->ncolumns + 1) * sizeof *row);
    static const char ops[] = "cudrt";
    const char *op = ver ? strchr(ops, ver->op) : NULL;
    if (ver && (!ver->op || !op))
        return err_setf(err, errlen, "%s.%s: no history op for '%c'", p->ns, p->name, ver ? ver->op : '?');
    for (size_t c = 0; c < l->ncolumns; c++) {
        int src = l->source[c];
        if (src == SILVER_COLUMN_DROPPED) {
            row[c] = parquet_value_null();
        } else if (src < 0) {
            switch (SILVER_COLUMN_SYSTEM_INDEX(src)) {
            case SP_VALID_FROM: row[c] = parquet_value_int64(ver->valid_from); break;
            case SP_VALID_TO: row[c] = has_valid_to ? parquet_value_int64(valid_to) : parquet_value_null(); break;
            case SP_IS_CURRENT: row[c] = parquet_value_bool(!has_valid_to); break;
            case SP_OP: row[c] = parquet_value_bytes(op, 1); break;
            case SP_LSN: row[c] = parquet_value_int64(ver->lsn); break;
            default: row[c] = parquet_value_int64(ver->txid); break;
            }
        } else if (vals[src].state == VALUE_UNAVAILABLE) {
            row[c] = parquet_value_null();
            p->e.counters->toast_missing++;
        } else {
            int rc = silver_value_to_parquet(&p->def->cols[src], &l->columns[c], &vals[src], &row[c], p->scratch, err,
                                             errlen);
            if (rc < 0)
                return -1;
            if (rc == 1)
                p->e.counters->lossy++;
        }
    }
    if (silver_table_row_append(t, row, file, pos, err, errlen) < 0)
        return -1;
    p->e.counters->rows++;
    return 0;
}

static int sp_delete(silver_pair *p, silver_table *t, const sp_prior *prior, char *err, size_t errlen)
{
    if (!prior->found)
        return 0;
    p->e.counters->deletes++;
    return silver_table_row_delete(t, prior->file, prior->pos, err, errlen);
}

/* Record key's live row. */
static int sp_put(silver_pair *p, silver_table *t, const buf *key, int64_t file, int64_t pos, const value *vals,
                  const sp_version *ver, char *err, size_t errlen)
{
    uint8_t extra[SP_EXTRA_LEN];
    buf_reset(&p->image);
    if (silver_image_encode(p->def, vals, &p->image, err, errlen) != 0)
        return -1;
    if (ver)
        sp_version_encode(ver, extra);
    silver_state_row r = {file, pos, p->image.data, p->image.len, ver ? extra : NULL, ver ? SP_EXTRA_LEN : 0};
    return silver_state_row_put(p->e.st, silver_table_state_id(t), key->data, key->len, &r, err, errlen);
}

/* Close a history row's live version at ts (position delete + the closed copy) and, for a
 * delete, add the row it leaves (op d or t, valid from and to ts). */
static int sp_history_close(silver_pair *p, const sp_prior *prior, int64_t ts, const sp_version *gone, char *err,
                            size_t errlen)
{
    int64_t file, pos;
    value *old = prior->found ? sp_prior_values(p, prior, err, errlen) : NULL;
    if (prior->found) {
        if (!old)
            return -1;
        sp_version v = sp_version_decode(prior->extra);
        if (sp_delete(p, p->hist, prior, err, errlen) < 0 ||
            sp_append(p, p->hist, old, &v, ts, 1, &file, &pos, err, errlen) < 0)
            return -1;
    }
    if (gone && old)
        return sp_append(p, p->hist, old, gone, ts, 1, &file, &pos, err, errlen);
    return 0;
}

/* ---- changes ---------------------------------------------------------------------------------------- */

typedef struct sp_change {
    const event *ev;
    int64_t ts;                  /* the commit time: valid_from / valid_to */
    sp_version ver;              /* the new version's columns */
    int key_changed;
    const sp_prior *fill[2];     /* the new key's half of a key change: the old row of the current
                                  * and the history table, for unchanged TOASTed values */
} sp_change;

/* Do vals equal the live row's image? 1 (a snapshot read of it then changes nothing), 0, -1. */
static int sp_image_same(silver_pair *p, const value *vals, const sp_prior *prior, char *err, size_t errlen)
{
    buf_reset(&p->image);
    if (silver_image_encode(p->def, vals, &p->image, err, errlen) != 0)
        return -1;
    return p->image.len == prior->image_len && memcmp(p->image.data, prior->image, prior->image_len) == 0;
}

/* A create, read or update of the current table. */
static int sp_current_upsert(silver_pair *p, const sp_change *c, char *err, size_t errlen)
{
    sp_prior prior, other = {0};
    if (sp_find(p, p->cur, c->key_changed ? &p->old_key : &p->key, &prior, err, errlen) < 0)
        return -1;
    value *vals = sp_fill(p, c->ev->after, c->fill[0] ? c->fill[0] : &prior, err, errlen);
    if (!vals)
        return -1;
    if (c->key_changed) {
        if (prior.found && silver_state_row_remove(p->e.st, silver_table_state_id(p->cur), p->old_key.data,
                                                   p->old_key.len, err, errlen) < 0)
            return -1;
        if (sp_find(p, p->cur, &p->key, &other, err, errlen) < 0 || sp_delete(p, p->cur, &other, err, errlen) < 0)
            return -1;
    } else if (c->ev->op == EVENT_READ && prior.found) {
        int same = sp_image_same(p, vals, &prior, err, errlen);
        if (same != 0)
            return same < 0 ? -1 : 0;
    }
    int64_t file, pos;
    if (sp_delete(p, p->cur, &prior, err, errlen) < 0 ||
        sp_append(p, p->cur, vals, NULL, 0, 0, &file, &pos, err, errlen) < 0)
        return -1;
    return sp_put(p, p->cur, &p->key, file, pos, vals, NULL, err, errlen);
}

static int sp_history_upsert(silver_pair *p, const sp_change *c, char *err, size_t errlen)
{
    sp_prior prior;
    if (sp_find(p, p->hist, c->key_changed ? &p->old_key : &p->key, &prior, err, errlen) < 0)
        return -1;
    value *vals = sp_fill(p, c->ev->after, c->fill[1] ? c->fill[1] : &prior, err, errlen);
    if (!vals)
        return -1;
    sp_version ver = c->ver;
    if (c->key_changed) {
        /* As Debezium emits it: a delete of the old key, a create of the new one. */
        sp_version gone = c->ver;
        gone.op = 'd';
        if (sp_history_close(p, &prior, c->ts, &gone, err, errlen) < 0 ||
            (prior.found && silver_state_row_remove(p->e.st, silver_table_state_id(p->hist), p->old_key.data,
                                                    p->old_key.len, err, errlen) < 0))
            return -1;
        if (sp_find(p, p->hist, &p->key, &prior, err, errlen) < 0)
            return -1;
        ver.op = 'c';
    } else if (c->ev->op == EVENT_READ && prior.found) {
        int same = sp_image_same(p, vals, &prior, err, errlen);
        if (same != 0)
            return same < 0 ? -1 : 0;
    }
    int64_t file, pos;
    if (sp_history_close(p, &prior, c->ts, NULL, err, errlen) < 0 ||
        sp_append(p, p->hist, vals, &ver, 0, 0, &file, &pos, err, errlen) < 0)
        return -1;
    return sp_put(p, p->hist, &p->key, file, pos, vals, &ver, err, errlen);
}

static int sp_remove(silver_pair *p, silver_table *t, const sp_change *c, char *err, size_t errlen)
{
    sp_prior prior;
    if (sp_find(p, t, &p->key, &prior, err, errlen) < 0)
        return -1;
    if (!prior.found)
        return 0;
    if (t == p->hist) {
        sp_version gone = c->ver;
        if (sp_history_close(p, &prior, c->ts, &gone, err, errlen) < 0)
            return -1;
    } else if (sp_delete(p, t, &prior, err, errlen) < 0) {
        return -1;
    }
    return silver_state_row_remove(p->e.st, silver_table_state_id(t), p->key.data, p->key.len, err, errlen);
}

/* A truncate: every live row of t goes (the batch is committed first, so the rows are all in
 * the committed index). */
typedef struct sp_truncate {
    silver_pair *p;
    silver_table *t;
    const sp_change *c;
    char *err;
    size_t errlen;
} sp_truncate;

static int sp_truncate_row(void *arg, const void *key, size_t keylen, const silver_state_row *row)
{
    sp_truncate *x = arg;
    silver_pair *p = x->p;
    if (keylen && *(const unsigned char *)key == SP_MOVED_TAG)
        return 0;   /* not a row: a key change's image */
    sp_prior prior = {.found = 1, .file = row->file, .pos = row->pos};
    void *img = arena_alloc(p->scratch, row->image_len + 1);
    memcpy(img, row->image ? row->image : "", row->image_len);
    prior.image = img;
    prior.image_len = row->image_len;
    if (row->extra_len == SP_EXTRA_LEN)
        memcpy(prior.extra, row->extra, SP_EXTRA_LEN);
    int rc;
    if (x->t == p->hist) {
        sp_version gone = x->c->ver;
        rc = sp_history_close(p, &prior, x->c->ts, &gone, x->err, x->errlen);
    } else {
        rc = sp_delete(p, x->t, &prior, x->err, x->errlen);
    }
    if (rc == 0)
        rc = silver_state_row_remove(p->e.st, silver_table_state_id(x->t), key, keylen, x->err, x->errlen);
    arena_reset(p->scratch);
    return rc ? -1 : 0;
}

static int sp_truncate_table(silver_pair *p, silver_table *t, const sp_change *c, char *err, size_t errlen)
{
    sp_truncate x = {p, t, c, err, errlen};
    return silver_state_rows_each(p->e.st, silver_table_state_id(t), sp_truncate_row, &x, err, errlen) ? -1 : 0;
}

/* ---- key changes in two halves (silver_move) -------------------------------------------------------------
 * The old key's delete leaves, under SP_MOVED_TAG + old key in each table's index, the old row's
 * image (extra "m"); the new key's create takes its unchanged TOASTed values from it and removes
 * it. When the create comes first and needs nothing it leaves a "d" instead, which the delete
 * removes, so that nothing stays behind in either order. These entries have no file position. */

static void sp_moved_key(silver_pair *p, const buf *key)
{
    buf_reset(&p->moved);
    buf_append(&p->moved, (const char[]){(char)SP_MOVED_TAG}, 1);
    buf_append(&p->moved, key->data, key->len);
}

static int sp_moved_put(silver_pair *p, silver_table *t, const void *image, size_t image_len, char kind, char *err,
                        size_t errlen)
{
    silver_state_row r = {-1, -1, image, image_len, &kind, 1};
    return silver_state_row_put(p->e.st, silver_table_state_id(t), p->moved.data, p->moved.len, &r, err, errlen);
}

/* The moved entry of p->moved in t: 'm' (its image in *out), 'd', or 0 (none); -1 on error. */
static int sp_moved_find(silver_pair *p, silver_table *t, sp_prior *out, char *err, size_t errlen)
{
    silver_state_row r;
    memset(out, 0, sizeof *out);
    int rc = silver_state_row_find(p->e.st, silver_table_state_id(t), p->moved.data, p->moved.len, &r, err, errlen);
    if (rc <= 0)
        return rc;
    char kind = r.extra_len == 1 ? *(const char *)r.extra : 0;
    void *img = arena_alloc(p->scratch, r.image_len + 1);
    memcpy(img, r.image ? r.image : "", r.image_len);
    out->found = r.image_len > 0;
    out->image = img;
    out->image_len = r.image_len;
    return kind == 'd' ? 'd' : 'm';
}

static int sp_moved_remove(silver_pair *p, silver_table *t, char *err, size_t errlen)
{
    return silver_state_row_remove(p->e.st, silver_table_state_id(t), p->moved.data, p->moved.len, err, errlen);
}

/* The old key's half (p->key is the old key): leave the live row's image for the create, or
 * remove the create's "d". Before the row goes. */
static int sp_move_leave(silver_pair *p, silver_table *t, char *err, size_t errlen)
{
    sp_prior moved, prior;
    sp_moved_key(p, &p->key);
    int kind = sp_moved_find(p, t, &moved, err, errlen);
    if (kind < 0)
        return -1;
    if (kind == 'd')
        return sp_moved_remove(p, t, err, errlen);
    if (sp_find(p, t, &p->key, &prior, err, errlen) < 0)
        return -1;
    return sp_moved_put(p, t, prior.found ? prior.image : "", prior.found ? prior.image_len : 0, 'm', err, errlen);
}

/* The new key's half (p->old_key is the old key): find what the delete left in the tables to
 * change (do[0] current, do[1] history) into fill. 1 when a needed image is not there yet. */
static int sp_move_arrive(silver_pair *p, const event *ev, const int do_t[2], sp_prior fill[2], int kinds[2],
                          char *err, size_t errlen)
{
    silver_table *ts[2] = {p->cur, p->hist};
    int need = 0;
    for (int i = 0; i < p->def->ncols && !need; i++)
        need = ev->after[i].state == VALUE_UNAVAILABLE;
    sp_moved_key(p, &p->old_key);
    for (int k = 0; k < 2; k++) {
        kinds[k] = 0;
        if (do_t[k] && (kinds[k] = sp_moved_find(p, ts[k], &fill[k], err, errlen)) < 0)
            return -1;
        if (do_t[k] && need && kinds[k] != 'm')
            return 1;
    }
    return 0;
}

/* After the create: the delete's image is used up, or the create leaves its "d". */
static int sp_move_done(silver_pair *p, const int do_t[2], const int kinds[2], char *err, size_t errlen)
{
    silver_table *ts[2] = {p->cur, p->hist};
    for (int k = 0; k < 2; k++) {
        if (!do_t[k])
            continue;
        if (kinds[k] ? sp_moved_remove(p, ts[k], err, errlen) < 0 : sp_moved_put(p, ts[k], "", 0, 'd', err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The source table's columns changed: commit what was written with the old ones, then follow the
 * new ones (schemas updated, tables reopened). */
static int sp_evolve(silver_pair *p, const table_def *def, int64_t now_ms, char *err, size_t errlen)
{
    if (silver_pair_commit(p, now_ms, err, errlen) < 0)
        return -1;
    if (silver_pair_keyless(def))
        return err_setf(err, errlen, "%s.%s: the source table lost its primary key", p->ns, p->name);
    log_info(SP_LOG, "%s.%s: the source table's columns changed (schema version %u)", p->ns, p->name, def->version);
    return sp_tables_open(p, def, now_ms, err, errlen);
}

int silver_pair_change(silver_pair *p, const event *ev, const silver_pos *pos, const silver_move *mv, int64_t now_ms,
                       char *err, size_t errlen)
{
    if (!sp_same_shape(p->def, ev->table) && sp_evolve(p, ev->table, now_ms, err, errlen) < 0)
        return -1;
    int do_cur = !silver_mark_holds(silver_table_watermark(p->cur), pos);
    int do_hist = p->hist && !silver_mark_holds(silver_table_watermark(p->hist), pos);
    if (!do_cur && !do_hist) {
        p->e.counters->skipped++;
        return 0;
    }
    if (ev->op == EVENT_TRUNCATE && silver_pair_commit(p, now_ms, err, errlen) < 0)
        return -1;
    arena_reset(p->scratch);
    const tx_info *tx = ev->tx;
    sp_change c = {.ev = ev, .ts = tx && tx->commit_time_us ? tx->commit_time_us : now_ms * 1000};
    c.ver = (sp_version){.valid_from = c.ts, .op = (char)ev->op, .lsn = (int64_t)ev->lsn,
                         .txid = tx ? (int64_t)tx->xid : 0};
    int rc = 0, do_t[2] = {do_cur, do_hist}, kinds[2];
    sp_prior fill[2];
    int arriving = mv && mv->to_old_key && ev->op == EVENT_CREATE;
    switch (ev->op) {
    case EVENT_CREATE:
    case EVENT_READ:
    case EVENT_UPDATE:
        if (sp_key(p, ev->after, &p->key, err, errlen) < 0)
            return -1;
        if (ev->before) {
            if (sp_key(p, ev->before, &p->old_key, err, errlen) < 0)
                return -1;
            c.key_changed = p->old_key.len != p->key.len || memcmp(p->old_key.data, p->key.data, p->key.len) != 0;
        }
        if (arriving) {
            if (sp_key(p, mv->to_old_key, &p->old_key, err, errlen) < 0 ||
                (rc = sp_move_arrive(p, ev, do_t, fill, kinds, err, errlen)) != 0)
                return rc;   /* 1: the old key's half is not there yet; nothing was applied */
            c.fill[0] = kinds[0] == 'm' ? &fill[0] : NULL;
            c.fill[1] = kinds[1] == 'm' ? &fill[1] : NULL;
        }
        rc = (do_cur ? sp_current_upsert(p, &c, err, errlen) : 0) ||
             (do_hist ? sp_history_upsert(p, &c, err, errlen) : 0) ||
             (arriving ? sp_move_done(p, do_t, kinds, err, errlen) : 0);
        break;
    case EVENT_DELETE:
        if (!ev->before || sp_key(p, ev->before, &p->key, err, errlen) < 0)
            return ev->before ? -1 : err_setf(err, errlen, "%s.%s: a delete without its key", p->ns, p->name);
        if (mv && mv->from)
            rc = (do_cur ? sp_move_leave(p, p->cur, err, errlen) : 0) ||
                 (do_hist ? sp_move_leave(p, p->hist, err, errlen) : 0);
        rc = rc || (do_cur ? sp_remove(p, p->cur, &c, err, errlen) : 0) ||
             (do_hist ? sp_remove(p, p->hist, &c, err, errlen) : 0);
        break;
    case EVENT_TRUNCATE:
        rc = (do_cur ? sp_truncate_table(p, p->cur, &c, err, errlen) : 0) ||
             (do_hist ? sp_truncate_table(p, p->hist, &c, err, errlen) : 0);
        break;
    }
    if (rc)
        return -1;
    return silver_mark_advance(&p->last, pos, err, errlen);
}
