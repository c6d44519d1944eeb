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
#include "sinks/lake/silver_table.h"
#include "sinks/lake/silver_value.h"

#define SP_LOG "silver"
#define SP_HISTORY_COLS 6
#define SP_EXTRA_LEN 25          /* valid_from, op, lsn, txid of a history row's version */

static const char *const sp_history_names[SP_HISTORY_COLS] = {"valid_from", "valid_to", "is_current", "op", "lsn",
                                                              "txid"};

struct silver_pair {
    silver_pair_env e;
    char *ns, *name;
    table_def *def;              /* a copy of the columns the tables were made for */
    parquet_column_def *pcols;   /* ncols + SP_HISTORY_COLS */
    iceberg_schema_field *fields;
    char (*types)[64];           /* Iceberg type text of each column */
    int *pk;                     /* indexes of the primary-key columns */
    int npk;
    silver_table *cur, *hist;
    bronze_pos last;             /* the last change applied */
    arena *scratch;              /* per change */
    buf key, old_key, image;
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

static table_def *sp_def_copy(const table_def *d)
{
    table_def *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *d;
    c->schema = strdup(d->schema ? d->schema : "");
    c->name = strdup(d->name ? d->name : "");
    c->cols = calloc((size_t)d->ncols + 1, sizeof *c->cols);
    if (!c->schema || !c->name || !c->cols) {
        c->ncols = 0;
        table_def_free(c);
        return NULL;
    }
    for (int i = 0; i < d->ncols; i++) {
        const column_def *s = &d->cols[i];
        column_def *t = &c->cols[i];
        *t = *s;
        t->name = strdup(s->name);
        t->type_name = s->type_name ? strdup(s->type_name) : NULL;
        t->enum_labels = s->enum_labels ? strdup(s->enum_labels) : NULL;
        if (!t->name || (s->type_name && !t->type_name) || (s->enum_labels && !t->enum_labels)) {
            c->ncols = i + 1;
            table_def_free(c);
            return NULL;
        }
    }
    return c;
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

/* Column types, field ids and the key columns of p->def. */
static int sp_schema_build(silver_pair *p, char *err, size_t errlen)
{
    int n = p->def->ncols, total = n + SP_HISTORY_COLS;
    p->pcols = calloc((size_t)total, sizeof *p->pcols);
    p->fields = calloc((size_t)total, sizeof *p->fields);
    p->types = calloc((size_t)total, sizeof *p->types);
    p->pk = calloc((size_t)n + 1, sizeof *p->pk);
    if (!p->pcols || !p->fields || !p->types || !p->pk)
        return err_setf(err, errlen, "out of memory");
    static const parquet_type hist_types[SP_HISTORY_COLS] = {PARQUET_TYPE_TIMESTAMPTZ, PARQUET_TYPE_TIMESTAMPTZ,
                                                             PARQUET_TYPE_BOOLEAN, PARQUET_TYPE_STRING,
                                                             PARQUET_TYPE_INT64, PARQUET_TYPE_INT64};
    for (int i = 0; i < total; i++) {
        parquet_column_def *c = &p->pcols[i];
        if (i < n) {
            const column_def *src = &p->def->cols[i];
            for (int h = 0; h < SP_HISTORY_COLS; h++)
                if (p->e.history && strcmp(src->name, sp_history_names[h]) == 0)
                    return err_setf(err, errlen, "column %s has the name of a history column; rename it with a "
                                    "rule, or set silver.history = false", src->name);
            if (silver_value_column_type(src, c, err, errlen) != 0)
                return -1;
            c->name = src->name;
            c->optional = !src->is_pk;
            if (src->is_pk)
                p->pk[p->npk++] = i;
        } else {
            c->name = sp_history_names[i - n];
            c->type = hist_types[i - n];
            c->optional = i - n == 1;   /* valid_to */
        }
        c->field_id = i + 1;
        if (iceberg_parquet_type_text(c, p->types[i], sizeof p->types[i]) != 0)
            return err_setf(err, errlen, "column %s: no Iceberg type", c->name);
        p->fields[i] = (iceberg_schema_field){.id = c->field_id, .name = c->name, .required = !c->optional,
                                              .type = p->types[i], .identifier = i < n && !c->optional};
    }
    return 0;
}

/* Open one of the two tables (history: the extra columns, no identifier fields). */
static silver_table *sp_table_open(silver_pair *p, int history, int64_t now_ms, char *err, size_t errlen)
{
    int n = p->def->ncols, total = history ? n + SP_HISTORY_COLS : n;
    iceberg_schema_field *fields = calloc((size_t)total, sizeof *fields);
    char *name = NULL, *location = NULL;
    buf key = BUF_INIT;
    silver_table *t = NULL;
    if (!fields || asprintf(&name, "%s%s", p->name, history ? "_history" : "") < 0) {
        name = NULL;
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < total; i++) {
        fields[i] = p->fields[i];
        if (history)
            fields[i].identifier = false;
    }
    buf_printf(&key, "silver/%s/", p->e.source);
    objstore_key_escape(&key, p->ns);
    buf_append(&key, "/", 1);
    objstore_key_escape(&key, name);
    if (objstore_key_check(key.data, err, errlen) != 0)
        goto out;
    if (asprintf(&location, "%s/%s", p->e.base_uri, key.data) < 0) {
        location = NULL;
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    silver_table_options o = {
        .os = p->e.os,
        .catalog = p->e.catalog,
        .ns = p->ns,
        .name = name,
        .location = location,
        .key_prefix = key.data,
        .fields = fields,
        .columns = p->pcols,
        .ncolumns = (size_t)total,
        .parquet = p->e.parquet,
        .file_bytes = p->e.file_bytes,
        .spool_dir = p->e.spool_dir,
        .stop = p->e.stop,
        .retry_max_ms = p->e.retry_max_ms,
    };
    t = silver_table_open(&o, p->e.st, now_ms, err, errlen);
out:
    free(fields);
    free(name);
    free(location);
    buf_free(&key);
    return t;
}

void silver_pair_destroy(silver_pair *p)
{
    if (!p)
        return;
    silver_table_destroy(p->cur);
    silver_table_destroy(p->hist);
    table_def_free(p->def);
    free(p->pcols);
    free(p->fields);
    free(p->types);
    free(p->pk);
    arena_destroy(p->scratch);
    buf_free(&p->key);
    buf_free(&p->old_key);
    buf_free(&p->image);
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
    if (!(p->ns = strdup(ns)) || !(p->name = strdup(name)) || !(p->def = sp_def_copy(def)) ||
        !(p->scratch = arena_create(64 * 1024))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    if (sp_schema_build(p, err, errlen) < 0 || !(p->cur = sp_table_open(p, 0, now_ms, err, errlen)) ||
        (p->e.history && !(p->hist = sp_table_open(p, 1, now_ms, err, errlen))))
        goto fail;
    /* The later of the two watermarks: changes before it are in both tables. */
    p->last = silver_table_watermark(p->cur);
    if (p->hist && bronze_pos_cmp(silver_table_watermark(p->hist), p->last) > 0)
        p->last = silver_table_watermark(p->hist);
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
    if (silver_table_commit(p->cur, p->last, now_ms, err, errlen) < 0)
        return -1;
    return p->hist ? silver_table_commit(p->hist, p->last, now_ms, err, errlen) : 0;
}

/* ---- rows ------------------------------------------------------------------------------------------- */

/* The key of a row image: its primary-key columns as Parquet values. */
static int sp_key(silver_pair *p, const value *vals, buf *out, char *err, size_t errlen)
{
    buf_reset(out);
    for (int k = 0; k < p->npk; k++) {
        int i = p->pk[k];
        parquet_value v;
        if (vals[i].state != VALUE_PRESENT)
            return err_setf(err, errlen, "%s.%s: primary-key column %s has no value", p->ns, p->name,
                            p->def->cols[i].name);
        if (silver_value_to_parquet(&p->def->cols[i], &p->pcols[i], &vals[i], &v, p->scratch, err, errlen) < 0)
            return -1;
        uint8_t kind = (uint8_t)v.kind;
        buf_append(out, (const char *)&kind, 1);
        switch (v.kind) {
        case PARQUET_VALUE_BOOL: {
            uint8_t b = v.v.b;
            buf_append(out, (const char *)&b, 1);
            break;
        }
        case PARQUET_VALUE_INT32:
            buf_append(out, (const char *)&v.v.i32, 4);
            break;
        case PARQUET_VALUE_INT64:
            buf_append(out, (const char *)&v.v.i64, 8);
            break;
        case PARQUET_VALUE_FLOAT:
            buf_append(out, (const char *)&v.v.f32, 4);
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
        case PARQUET_VALUE_NULL:
            return err_setf(err, errlen, "%s.%s: primary-key column %s has no representable value", p->ns, p->name,
                            p->def->cols[i].name);
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

/* Append vals (plus, for the history table, the version columns) to t; *file and *pos: where. */
static int sp_append(silver_pair *p, silver_table *t, const value *vals, const sp_version *ver, int64_t valid_to,
                     int has_valid_to, int64_t *file, int64_t *pos, char *err, size_t errlen)
{
    int n = p->def->ncols;
    parquet_value *row = arena_alloc(p->scratch, (size_t)(n + SP_HISTORY_COLS) * sizeof *row);
    for (int i = 0; i < n; i++) {
        if (vals[i].state == VALUE_UNAVAILABLE) {
            row[i] = parquet_value_null();
            p->e.counters->toast_missing++;
            continue;
        }
        int rc = silver_value_to_parquet(&p->def->cols[i], &p->pcols[i], &vals[i], &row[i], p->scratch, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            p->e.counters->lossy++;
    }
    if (ver) {
        static const char ops[] = "cudrt";
        const char *op = strchr(ops, ver->op);
        if (!ver->op || !op)
            return err_setf(err, errlen, "%s.%s: no history op for '%c'", p->ns, p->name, ver->op);
        row[n] = parquet_value_int64(ver->valid_from);
        row[n + 1] = has_valid_to ? parquet_value_int64(valid_to) : parquet_value_null();
        row[n + 2] = parquet_value_bool(!has_valid_to);
        row[n + 3] = parquet_value_bytes(op, 1);
        row[n + 4] = parquet_value_int64(ver->lsn);
        row[n + 5] = parquet_value_int64(ver->txid);
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
} sp_change;

/* A create, read or update of the current table. */
static int sp_current_upsert(silver_pair *p, const sp_change *c, char *err, size_t errlen)
{
    sp_prior prior, other = {0};
    if (sp_find(p, p->cur, c->key_changed ? &p->old_key : &p->key, &prior, err, errlen) < 0)
        return -1;
    value *vals = sp_fill(p, c->ev->after, &prior, err, errlen);
    if (!vals)
        return -1;
    if (c->key_changed) {
        if (prior.found && silver_state_row_remove(p->e.st, silver_table_state_id(p->cur), p->old_key.data,
                                                   p->old_key.len, err, errlen) < 0)
            return -1;
        if (sp_find(p, p->cur, &p->key, &other, err, errlen) < 0 || sp_delete(p, p->cur, &other, err, errlen) < 0)
            return -1;
    } else if (c->ev->op == EVENT_READ && prior.found) {
        buf_reset(&p->image);   /* a snapshot read of an unchanged row changes nothing */
        if (silver_image_encode(p->def, vals, &p->image, err, errlen) != 0)
            return -1;
        if (p->image.len == prior.image_len && memcmp(p->image.data, prior.image, prior.image_len) == 0)
            return 0;
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
    value *vals = sp_fill(p, c->ev->after, &prior, err, errlen);
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
        buf_reset(&p->image);
        if (silver_image_encode(p->def, vals, &p->image, err, errlen) != 0)
            return -1;
        if (p->image.len == prior.image_len && memcmp(p->image.data, prior.image, prior.image_len) == 0)
            return 0;
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

int silver_pair_change(silver_pair *p, const event *ev, bronze_pos pos, int64_t now_ms, char *err, size_t errlen)
{
    if (!sp_same_shape(p->def, ev->table))
        return err_setf(err, errlen, "%s.%s: the source table's columns changed; silver tables do not follow "
                        "schema changes yet", p->ns, p->name);
    int do_cur = bronze_pos_cmp(pos, silver_table_watermark(p->cur)) > 0;
    int do_hist = p->hist && bronze_pos_cmp(pos, silver_table_watermark(p->hist)) > 0;
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
    int rc = 0;
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
        rc = (do_cur ? sp_current_upsert(p, &c, err, errlen) : 0) ||
             (do_hist ? sp_history_upsert(p, &c, err, errlen) : 0);
        break;
    case EVENT_DELETE:
        if (!ev->before || sp_key(p, ev->before, &p->key, err, errlen) < 0)
            return ev->before ? -1 : err_setf(err, errlen, "%s.%s: a delete without its key", p->ns, p->name);
        rc = (do_cur ? sp_remove(p, p->cur, &c, err, errlen) : 0) || (do_hist ? sp_remove(p, p->hist, &c, err, errlen) : 0);
        break;
    case EVENT_TRUNCATE:
        rc = (do_cur ? sp_truncate_table(p, p->cur, &c, err, errlen) : 0) ||
             (do_hist ? sp_truncate_table(p, p->hist, &c, err, errlen) : 0);
        break;
    }
    if (rc)
        return -1;
    p->last = pos;
    return 0;
}
