/* rules_typed: change events to a typed JSON form and back, for replayable dead letters
 * (see rules_typed.h). */
#include "rules/rules_typed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "capture/pg_types.h"
#include "core/errbuf.h"

/* Value kinds by name, indexed by value_kind. */
static const char *const rt_kinds[] = {
    [VALUE_TEXT] = "text",         [VALUE_BOOL] = "bool",         [VALUE_INT16] = "int16",
    [VALUE_INT32] = "int32",       [VALUE_INT64] = "int64",       [VALUE_FLOAT32] = "float32",
    [VALUE_FLOAT64] = "float64",   [VALUE_NUMERIC] = "numeric",   [VALUE_MONEY] = "money",
    [VALUE_BYTES] = "bytes",       [VALUE_DATE] = "date",         [VALUE_TIME] = "time",
    [VALUE_TIMETZ] = "timetz",     [VALUE_TIMESTAMP] = "timestamp", [VALUE_TIMESTAMPTZ] = "timestamptz",
    [VALUE_INTERVAL] = "interval", [VALUE_UUID] = "uuid",         [VALUE_JSON] = "json",
    [VALUE_INET] = "inet",         [VALUE_ARRAY] = "array",
};
#define RT_NKINDS (sizeof rt_kinds / sizeof rt_kinds[0])

struct rules_typed_defs {
    table_def **items;
    size_t n, cap;
};

/* ---- event to JSON ----------------------------------------------------------------------------- */

static json_t *rt_hex(const char *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *h = malloc(len * 2 + 1);
    if (!h)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = digits[(unsigned char)p[i] >> 4];
        h[2 * i + 1] = digits[(unsigned char)p[i] & 15];
    }
    h[len * 2] = '\0';
    json_t *o = json_object();
    if (o && json_object_set_new(o, "hex", json_stringn(h, len * 2)) < 0) {
        json_decref(o);
        o = NULL;
    }
    free(h);
    return o;
}

static json_t *rt_value(const column_def *c, const value *v)
{
    if (v->state == VALUE_IS_NULL)
        return json_null();
    if (v->state == VALUE_UNAVAILABLE)
        return json_pack("{s:b}", "unavailable", 1);
    const char *s = v->s ? v->s : "";
    json_t *text = c->kind == VALUE_BYTES ? NULL : json_stringn(s, v->len);
    return text ? text : rt_hex(s, v->len);   /* bytes, or text that is not UTF-8 */
}

static json_t *rt_row(const table_def *t, const value *row)
{
    if (!row)
        return json_null();
    json_t *arr = json_array();
    for (int i = 0; arr && i < t->ncols; i++) {
        json_t *v = rt_value(&t->cols[i], &row[i]);
        if (!v || json_array_append_new(arr, v) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *rt_opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *rt_table(const table_def *t)
{
    json_t *cols = json_array();
    for (int i = 0; cols && i < t->ncols; i++) {
        const column_def *c = &t->cols[i];
        json_t *o = json_pack("{s:o,s:I,s:I,s:o,s:s,s:s,s:b,s:b,s:b,s:o}", "name", rt_opt_string(c->name), "type_oid",
                              (json_int_t)c->type_oid, "typmod", (json_int_t)c->typmod, "type_name",
                              rt_opt_string(c->type_name), "kind",
                              (unsigned)c->kind < RT_NKINDS ? rt_kinds[c->kind] : "text", "elem_kind",
                              (unsigned)c->elem_kind < RT_NKINDS ? rt_kinds[c->elem_kind] : "text", "is_key",
                              c->is_key != 0, "is_pk", c->is_pk != 0, "not_null", c->not_null != 0, "enum_labels",
                              rt_opt_string(c->enum_labels));
        if (!o || json_array_append_new(cols, o) < 0) {
            json_decref(cols);
            return NULL;
        }
    }
    if (!cols)
        return NULL;
    char ri[2] = {t->replica_identity ? t->replica_identity : 'd', '\0'};
    return json_pack("{s:I,s:o,s:o,s:s,s:I,s:o}", "oid", (json_int_t)t->oid, "schema", rt_opt_string(t->schema),
                     "name", rt_opt_string(t->name), "replica_identity", ri, "version", (json_int_t)t->version,
                     "columns", cols);
}

json_t *rules_typed_from_event(const event *ev)
{
    char op[2] = {(char)ev->op, '\0'};
    json_t *tx = ev->tx ? json_pack("{s:I,s:I,s:I,s:I}", "xid", (json_int_t)ev->tx->xid, "final_lsn",
                                    (json_int_t)ev->tx->final_lsn, "end_lsn", (json_int_t)ev->tx->end_lsn,
                                    "commit_time_us", (json_int_t)ev->tx->commit_time_us)
                        : json_null();
    json_t *table = rt_table(ev->table), *before = rt_row(ev->table, ev->before), *after = rt_row(ev->table, ev->after);
    if (!tx || !table || !before || !after) {
        json_decref(tx);
        json_decref(table);
        json_decref(before);
        json_decref(after);
        return NULL;
    }
    /* "o" steals the references, also when packing fails */
    return json_pack("{s:i,s:s,s:i,s:b,s:I,s:I,s:o,s:o,s:o,s:o}", "format", RULES_TYPED_FORMAT, "op", op, "snapshot",
                     (int)ev->snapshot, "before_key_only", ev->before_key_only != 0, "lsn", (json_int_t)ev->lsn, "seq",
                     (json_int_t)ev->seq, "tx", tx, "table", table, "before", before, "after", after);
}

void rules_typed_key(const char *typed_text, char out[65])
{
    unsigned char d[32];
    static const char digits[] = "0123456789abcdef";
    mbedtls_sha256_ret((const unsigned char *)typed_text, strlen(typed_text), d, 0);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = '\0';
}

/* ---- table definitions --------------------------------------------------------------------------- */

rules_typed_defs *rules_typed_defs_create(void)
{
    return calloc(1, sizeof(rules_typed_defs));
}

void rules_typed_defs_destroy(rules_typed_defs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        table_def_free(d->items[i]);
    free(d->items);
    free(d);
}

size_t rules_typed_defs_count(const rules_typed_defs *d)
{
    return d ? d->n : 0;
}

static int rt_str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int rt_def_equal(const table_def *a, const table_def *b)
{
    if (a->oid != b->oid || a->version != b->version || a->replica_identity != b->replica_identity ||
        a->ncols != b->ncols || !rt_str_eq(a->schema, b->schema) || !rt_str_eq(a->name, b->name))
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const column_def *x = &a->cols[i], *y = &b->cols[i];
        if (x->type_oid != y->type_oid || x->typmod != y->typmod || x->kind != y->kind ||
            x->elem_kind != y->elem_kind || x->is_key != y->is_key || x->is_pk != y->is_pk ||
            x->not_null != y->not_null || !rt_str_eq(x->name, y->name) || !rt_str_eq(x->type_name, y->type_name) ||
            !rt_str_eq(x->enum_labels, y->enum_labels))
            return 0;
    }
    return 1;
}

/* ---- JSON to event ------------------------------------------------------------------------------- */

static int rt_int(const json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out, char *err,
                  size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_setf(err, errlen, "\"%s\" is missing or out of range", key);
    *out = json_integer_value(v);
    return 0;
}

/* A malloc'd copy of the string member key (NULL when null and nullable). 0, or -1 with err. */
static int rt_dup(const json_t *o, const char *key, int nullable, char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (nullable && (!v || json_is_null(v)))
        return 0;
    if (!json_is_string(v))
        return err_setf(err, errlen, "\"%s\" must be a string", key);
    if (!(*out = strdup(json_string_value(v))))
        return err_setf(err, errlen, "out of memory");
    return 0;
}

static int rt_kind(const json_t *o, const char *key, value_kind *out, char *err, size_t errlen)
{
    const char *s = json_string_value(json_object_get(o, key));
    for (size_t k = 0; s && k < RT_NKINDS; k++) {
        if (strcmp(rt_kinds[k], s) == 0) {
            *out = (value_kind)k;
            return 0;
        }
    }
    return err_setf(err, errlen, "\"%s\" is not a value kind", key);
}

static int rt_flag(const json_t *o, const char *key, uint8_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        return err_setf(err, errlen, "\"%s\" must be true or false", key);
    *out = json_is_true(v) ? 1 : 0;
    return 0;
}

static int rt_column(const json_t *o, column_def *c, char *err, size_t errlen)
{
    json_int_t oid = 0, typmod = 0;
    if (!json_is_object(o))
        return err_setf(err, errlen, "a column is not an object");
    if (rt_dup(o, "name", 0, &c->name, err, errlen) < 0 || rt_dup(o, "type_name", 1, &c->type_name, err, errlen) < 0 ||
        rt_dup(o, "enum_labels", 1, &c->enum_labels, err, errlen) < 0 ||
        rt_int(o, "type_oid", 0, UINT32_MAX, &oid, err, errlen) < 0 ||
        rt_int(o, "typmod", INT32_MIN, INT32_MAX, &typmod, err, errlen) < 0 ||
        rt_kind(o, "kind", &c->kind, err, errlen) < 0 || rt_kind(o, "elem_kind", &c->elem_kind, err, errlen) < 0 ||
        rt_flag(o, "is_key", &c->is_key, err, errlen) < 0 || rt_flag(o, "is_pk", &c->is_pk, err, errlen) < 0 ||
        rt_flag(o, "not_null", &c->not_null, err, errlen) < 0)
        return -1;
    c->type_oid = (uint32_t)oid;
    c->typmod = (int32_t)typmod;
    return 0;
}

/* The table definition described by o: one of defs (an equal one, or this one added). */
static const table_def *rt_table_get(rules_typed_defs *defs, const json_t *o, char *err, size_t errlen)
{
    json_int_t oid = 0, version = 0;
    const json_t *cols = json_object_get(o, "columns");
    const char *ri = json_string_value(json_object_get(o, "replica_identity"));
    table_def *t = calloc(1, sizeof *t);
    if (!t) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    if (!json_is_object(o) || !json_is_array(cols) || json_array_size(cols) > 1600 || !ri || strlen(ri) != 1) {
        err_setf(err, errlen, "the table is not described");
        goto fail;
    }
    if (rt_int(o, "oid", 0, UINT32_MAX, &oid, err, errlen) < 0 ||
        rt_int(o, "version", 0, UINT32_MAX, &version, err, errlen) < 0 ||
        rt_dup(o, "schema", 0, &t->schema, err, errlen) < 0 || rt_dup(o, "name", 0, &t->name, err, errlen) < 0)
        goto fail;
    t->oid = (uint32_t)oid;
    t->version = (uint32_t)version;
    t->replica_identity = ri[0];
    size_t n = json_array_size(cols);
    if (n && !(t->cols = calloc(n, sizeof *t->cols))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        t->ncols = (int)i + 1;
        if (rt_column(json_array_get(cols, i), &t->cols[i], err, errlen) < 0)
            goto fail;
    }
    t->ncols = (int)n;
    for (size_t i = 0; i < defs->n; i++) {
        if (rt_def_equal(defs->items[i], t)) {
            table_def_free(t);
            return defs->items[i];
        }
    }
    if (defs->n == defs->cap) {
        size_t cap = defs->cap ? defs->cap * 2 : 8;
        table_def **items = realloc(defs->items, cap * sizeof *items);
        if (!items) {
            err_setf(err, errlen, "out of memory");
            goto fail;
        }
        defs->items = items;
        defs->cap = cap;
    }
    defs->items[defs->n++] = t;
    return t;
fail:
    table_def_free(t);
    return NULL;
}

static int rt_unhex(const char *h, size_t hlen, char *out)
{
    for (size_t i = 0; i < hlen; i++) {
        char c = h[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (char)(d << 4);
        else
            out[i / 2] = (char)(out[i / 2] | d);
    }
    return 0;
}

/* One stored value of column c into *v (text and parsed forms in a). */
static int rt_value_read(const json_t *j, const column_def *c, arena *a, value *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (json_is_null(j)) {
        v->state = VALUE_IS_NULL;
        return 0;
    }
    if (json_is_true(json_object_get(j, "unavailable"))) {
        v->state = VALUE_UNAVAILABLE;
        return 0;
    }
    char *text;
    size_t len;
    json_t *hex = json_object_get(j, "hex");
    if (json_is_string(j)) {
        len = json_string_length(j);
        text = arena_strndup(a, json_string_value(j), len);
    } else if (json_is_string(hex) && json_string_length(hex) % 2 == 0) {
        size_t hlen = json_string_length(hex);
        if (c->kind == VALUE_BYTES) {   /* PostgreSQL's hex form, decoded by the parser */
            len = hlen + 2;
            text = arena_alloc(a, len + 1);
            memcpy(text, "\\x", 2);
            memcpy(text + 2, json_string_value(hex), hlen + 1);
        } else {
            len = hlen / 2;
            text = arena_alloc(a, len + 1);
            text[len] = '\0';
            if (rt_unhex(json_string_value(hex), hlen, text) < 0)
                return err_setf(err, errlen, "column %s: malformed hex", c->name);
        }
    } else {
        return err_setf(err, errlen, "column %s: not a stored value", c->name);
    }
    char why[256];
    if (pg_value_parse(c->kind, text, len, v, a, why, sizeof why) < 0)
        return err_setf(err, errlen, "column %s: %s", c->name, why);
    return 0;
}

static int rt_row_read(const json_t *j, const table_def *t, arena *a, const value **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_array(j) || json_array_size(j) != (size_t)t->ncols)
        return err_setf(err, errlen, "an image does not have one value per column");
    value *row = arena_alloc(a, (size_t)(t->ncols ? t->ncols : 1) * sizeof *row);
    for (int i = 0; i < t->ncols; i++)
        if (rt_value_read(json_array_get(j, (size_t)i), &t->cols[i], a, &row[i], err, errlen) < 0)
            return -1;
    *out = row;
    return 0;
}

int rules_typed_to_event(const json_t *j, rules_typed_defs *defs, arena *a, event *out, char *err, size_t errlen)
{
    json_int_t format = 0, snapshot = 0, lsn = 0, seq = 0;
    memset(out, 0, sizeof *out);
    if (!json_is_object(j) || rt_int(j, "format", RULES_TYPED_FORMAT, RULES_TYPED_FORMAT, &format, err, errlen) < 0)
        return err_setf(err, errlen, "not a stored event (format %d)", RULES_TYPED_FORMAT);
    const char *op = json_string_value(json_object_get(j, "op"));
    if (!op || strlen(op) != 1 || !strchr("cudrt", op[0]))
        return err_setf(err, errlen, "\"op\" must be one of c, u, d, r, t");
    if (rt_int(j, "snapshot", 0, SNAPSHOT_INCREMENTAL, &snapshot, err, errlen) < 0 ||
        rt_int(j, "lsn", 0, INT64_MAX, &lsn, err, errlen) < 0 || rt_int(j, "seq", 0, INT64_MAX, &seq, err, errlen) < 0 ||
        rt_flag(j, "before_key_only", &out->before_key_only, err, errlen) < 0)
        return -1;
    const json_t *txj = json_object_get(j, "tx");
    if (txj && !json_is_null(txj)) {
        json_int_t xid = 0, final_lsn = 0, end_lsn = 0, commit = 0;
        if (rt_int(txj, "xid", 0, UINT32_MAX, &xid, err, errlen) < 0 ||
            rt_int(txj, "final_lsn", 0, INT64_MAX, &final_lsn, err, errlen) < 0 ||
            rt_int(txj, "end_lsn", 0, INT64_MAX, &end_lsn, err, errlen) < 0 ||
            rt_int(txj, "commit_time_us", INT64_MIN, INT64_MAX, &commit, err, errlen) < 0)
            return -1;
        tx_info *tx = arena_alloc(a, sizeof *tx);
        *tx = (tx_info){(uint32_t)xid, (uint64_t)final_lsn, (uint64_t)end_lsn, (int64_t)commit};
        out->tx = tx;
    }
    const table_def *t = rt_table_get(defs, json_object_get(j, "table"), err, errlen);
    if (!t)
        return -1;
    out->op = (event_op)op[0];
    out->snapshot = (uint8_t)snapshot;
    out->table = t;
    out->lsn = (uint64_t)lsn;
    out->seq = (uint64_t)seq;
    if (rt_row_read(json_object_get(j, "before"), t, a, &out->before, err, errlen) < 0 ||
        rt_row_read(json_object_get(j, "after"), t, a, &out->after, err, errlen) < 0)
        return -1;
    return 0;
}
