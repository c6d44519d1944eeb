/* debezium_json: the encoder object and Debezium's messages (see debezium_json.h): the value
 * envelope, the key, heartbeats and transaction metadata, optionally wrapped with their Connect
 * schemas. Runs once per captured row, so constant text is appended with its length known,
 * integers are formatted by hand and each table's column-name prefixes are prepared once. */
#include "encode/debezium_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- options ---------------------------------------------------------------------------------- */

/* s trimmed equals name, ignoring case (Debezium's EnumeratedValue.parse). */
static int mode_equal(const char *s, const char *name)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

int debezium_decimal_mode_parse(const char *s, decimal_mode *out)
{
    static const struct { const char *name; decimal_mode mode; } modes[] = {
        {"precise", DECIMAL_PRECISE}, {"double", DECIMAL_DOUBLE}, {"string", DECIMAL_STRING}};
    for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++) {
        if (mode_equal(s, modes[i].name)) {
            *out = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

int debezium_time_mode_parse(const char *s, time_precision_mode *out)
{
    static const struct { const char *name; time_precision_mode mode; } modes[] = {
        {"adaptive", TIME_ADAPTIVE},
        {"adaptive_time_microseconds", TIME_ADAPTIVE_MICROSECONDS},
        {"connect", TIME_CONNECT}};
    for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++) {
        if (mode_equal(s, modes[i].name)) {
            *out = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

/* ---- encoder and its table cache ---------------------------------------------------------------- */

debezium_encoder *debezium_encoder_create(const debezium_options *o)
{
    debezium_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->o = *o;
    e->name = strdup(o->name ? o->name : "sluice");
    e->db = strdup(o->db ? o->db : "");
    e->scratch = arena_create(0);
    if (!e->name || !e->db || !e->scratch) {
        debezium_encoder_destroy(e);
        return NULL;
    }
    e->o.name = e->name;
    e->o.db = e->db;
    PUT_LIT(&e->source_head, ",\"source\":{\"version\":\"" SLUICE_VERSION "\",\"connector\":\"postgresql\",\"name\":");
    dbz_json_cstr(&e->source_head, e->name);
    PUT_LIT(&e->source_head, ",\"ts_ms\":");
    PUT_LIT(&e->source_db, "\",\"db\":");
    dbz_json_cstr(&e->source_db, e->db);
    /* sequence: [last commit LSN, this LSN] as decimal strings, as Debezium writes it. */
    PUT_LIT(&e->source_db, ",\"sequence\":\"[\\\"");
    return e;
}

static void table_free(dbz_table *tt)
{
    if (!tt)
        return;
    buf_free(&tt->names);
    buf_free(&tt->source_table);
    free(tt->name_off);
    free(tt->key_schema);
    free(tt->value_schema);
    free(tt);
}

void debezium_encoder_destroy(debezium_encoder *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->tcap; i++)
        table_free(e->tables[i]);
    free(e->tables);
    arena_destroy(e->scratch);
    buf_free(&e->tmp);
    buf_free(&e->source_head);
    buf_free(&e->source_db);
    free(e->name);
    free(e->db);
    free(e);
}

static size_t table_hash(const table_def *t, size_t mask)
{
    uintptr_t p = (uintptr_t)t;
    p ^= p >> 17;
    p *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    return (size_t)(p >> 7) & mask;
}

static void table_insert(dbz_table **slots, size_t cap, dbz_table *tt)
{
    size_t i = table_hash(tt->t, cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = tt;
}

static dbz_table *table_prepare(const table_def *t)
{
    dbz_table *tt = calloc(1, sizeof *tt);
    if (!tt)
        abort();
    tt->t = t;
    tt->name_off = malloc(((size_t)t->ncols + 1) * sizeof *tt->name_off);
    if (!tt->name_off)
        abort();
    for (int i = 0; i < t->ncols; i++) {
        tt->name_off[i] = tt->names.len;
        dbz_json_cstr(&tt->names, t->cols[i].name);
        PUT_LIT(&tt->names, ":");
        tt->nkeys += t->cols[i].is_pk != 0;
    }
    tt->name_off[t->ncols] = tt->names.len;
    PUT_LIT(&tt->source_table, ",\"schema\":");
    dbz_json_cstr(&tt->source_table, t->schema);
    PUT_LIT(&tt->source_table, ",\"table\":");
    dbz_json_cstr(&tt->source_table, t->name);
    return tt;
}

static dbz_table *table_get(debezium_encoder *e, const table_def *t)
{
    if (e->last && e->last->t == t)   /* runs of events of one table are the common case */
        return e->last;
    if (e->tcap) {
        size_t i = table_hash(t, e->tcap - 1);
        for (; e->tables[i]; i = (i + 1) & (e->tcap - 1))
            if (e->tables[i]->t == t)
                return e->last = e->tables[i];
    }
    if ((e->tcount + 1) * 2 > e->tcap) {
        size_t cap = e->tcap ? e->tcap * 2 : 16;
        dbz_table **slots = calloc(cap, sizeof *slots);
        if (!slots)
            abort();
        for (size_t i = 0; i < e->tcap; i++)
            if (e->tables[i])
                table_insert(slots, cap, e->tables[i]);
        free(e->tables);
        e->tables = slots;
        e->tcap = cap;
    }
    dbz_table *tt = table_prepare(t);
    table_insert(e->tables, e->tcap, tt);
    e->tcount++;
    return e->last = tt;
}

/* ---- rows ------------------------------------------------------------------------------------- */

static void json_row(debezium_encoder *e, buf *out, const dbz_table *tt, const value *row, int key_only)
{
    const table_def *t = tt->t;
    if (!row) {
        PUT_LIT(out, "null");
        return;
    }
    PUT_LIT(out, "{");
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            PUT_LIT(out, ",");
        buf_append(out, tt->names.data + tt->name_off[i], tt->name_off[i + 1] - tt->name_off[i]);
        if (key_only && !t->cols[i].is_key)
            PUT_LIT(out, "null");
        else
            dbz_value(e, out, &t->cols[i], &row[i]);
    }
    PUT_LIT(out, "}");
}

static const char *snapshot_name(uint8_t s)
{
    switch (s) {
    case SNAPSHOT_TRUE: return "true";
    case SNAPSHOT_LAST: return "last";
    case SNAPSHOT_INCREMENTAL: return "incremental";
    default: return "false";
    }
}

void debezium_tx_id(buf *out, const tx_info *tx)
{
    buf_put_u64(out, tx->xid);
    PUT_LIT(out, ":");
    buf_put_u64(out, tx->final_lsn);
}

void debezium_encode_column(debezium_encoder *e, buf *out, const column_def *col, const value *v)
{
    dbz_value(e, out, col, v);
}

void debezium_encode_value(debezium_encoder *e, buf *out, const event *ev, int64_t now_us,
                           const debezium_tx_position *txpos)
{
    const table_def *t = ev->table;
    dbz_table *tt = table_get(e, t);
    int64_t commit_us = ev->tx ? ev->tx->commit_time_us : now_us;
    if (e->o.schemas) {
        if (!tt->value_schema) {
            tt->value_schema = dbz_schema_envelope(e, t);
            tt->value_schema_len = strlen(tt->value_schema);
        }
        PUT_LIT(out, "{\"schema\":");
        buf_append(out, tt->value_schema, tt->value_schema_len);
        PUT_LIT(out, ",\"payload\":");
    }
    PUT_LIT(out, "{\"before\":");
    json_row(e, out, tt, ev->before, ev->before_key_only);
    PUT_LIT(out, ",\"after\":");
    json_row(e, out, tt, ev->after, 0);
    buf_append(out, e->source_head.data, e->source_head.len);
    buf_put_i64(out, commit_us / 1000);
    PUT_LIT(out, ",\"snapshot\":\"");
    buf_puts(out, snapshot_name(ev->snapshot));
    buf_append(out, e->source_db.data, e->source_db.len);
    if (ev->tx && ev->tx->xid) {
        /* sequence[0] is Debezium's lastCommitLsn: the commit before this transaction's. */
        if (ev->tx->final_lsn != e->tx_final) {
            e->last_commit = e->tx_final;
            e->tx_final = ev->tx->final_lsn;
        }
        if (e->last_commit) {
            buf_put_u64(out, e->last_commit);
            PUT_LIT(out, "\\\",\\\"");
        } else {
            out->len -= 2;   /* no commit seen yet: [null,"lsn"] */
            PUT_LIT(out, "null,\\\"");
        }
    } else {
        buf_put_u64(out, ev->tx ? ev->tx->final_lsn : 0);
        PUT_LIT(out, "\\\",\\\"");
    }
    buf_put_u64(out, ev->lsn);
    PUT_LIT(out, "\\\"]\",\"ts_us\":");
    buf_put_i64(out, commit_us);
    PUT_LIT(out, ",\"ts_ns\":");
    buf_put_i64(out, commit_us * 1000);
    buf_append(out, tt->source_table.data, tt->source_table.len);
    if (ev->tx && ev->tx->xid) {
        PUT_LIT(out, ",\"txId\":");
        buf_put_u64(out, ev->tx->xid);
    } else {
        PUT_LIT(out, ",\"txId\":null");
    }
    PUT_LIT(out, ",\"lsn\":");
    buf_put_u64(out, ev->lsn);
    PUT_LIT(out, ",\"xmin\":null},\"op\":\"");
    char op = (char)ev->op;
    buf_append(out, &op, 1);
    PUT_LIT(out, "\",\"ts_ms\":");
    buf_put_i64(out, now_us / 1000);
    PUT_LIT(out, ",\"ts_us\":");
    buf_put_i64(out, now_us);
    PUT_LIT(out, ",\"ts_ns\":");
    buf_put_i64(out, now_us * 1000);
    if (txpos && ev->tx) {
        PUT_LIT(out, ",\"transaction\":{\"id\":\"");
        debezium_tx_id(out, ev->tx);
        PUT_LIT(out, "\",\"total_order\":");
        buf_put_u64(out, txpos->total_order);
        PUT_LIT(out, ",\"data_collection_order\":");
        buf_put_u64(out, txpos->collection_order);
        PUT_LIT(out, "}}");
    } else {
        PUT_LIT(out, ",\"transaction\":null}");
    }
    if (e->o.schemas)
        PUT_LIT(out, "}");
}

int debezium_encode_key(debezium_encoder *e, buf *out, const event *ev)
{
    const table_def *t = ev->table;
    const value *row = ev->after ? ev->after : ev->before;
    dbz_table *tt = table_get(e, t);
    if (!tt->nkeys || !row)
        return 0;
    if (e->o.schemas) {
        if (!tt->key_schema) {
            tt->key_schema = dbz_schema_key(e, t);
            tt->key_schema_len = strlen(tt->key_schema);
        }
        PUT_LIT(out, "{\"schema\":");
        buf_append(out, tt->key_schema, tt->key_schema_len);
        PUT_LIT(out, ",\"payload\":");
    }
    PUT_LIT(out, "{");
    int first = 1;
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].is_pk)
            continue;
        if (!first)
            PUT_LIT(out, ",");
        first = 0;
        buf_append(out, tt->names.data + tt->name_off[i], tt->name_off[i + 1] - tt->name_off[i]);
        dbz_value(e, out, &t->cols[i], &row[i]);
    }
    PUT_LIT(out, "}");
    if (e->o.schemas)
        PUT_LIT(out, "}");
    return 1;
}

/* Two present values of one column hold the same datum. */
static int value_same(value_kind kind, const value *a, const value *b)
{
    switch (kind) {
    case VALUE_BOOL: return !a->v.b == !b->v.b;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_MONEY:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: return a->v.i == b->v.i;
    case VALUE_TIMETZ: return a->v.i == b->v.i && a->tz_offset == b->tz_offset;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case VALUE_INTERVAL:
        return a->v.interval.months == b->v.interval.months && a->v.interval.days == b->v.interval.days &&
               a->v.interval.us == b->v.interval.us;
    default: return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    }
}

int debezium_key_changed(const event *ev)
{
    const table_def *t = ev->table;
    if (ev->op != EVENT_UPDATE || !ev->before || !ev->after)
        return 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].is_pk)
            continue;
        const value *a = &ev->before[i], *b = &ev->after[i];
        if (a->state == VALUE_UNAVAILABLE || b->state == VALUE_UNAVAILABLE)
            continue;
        if (a->state != b->state)
            return 1;
        if (a->state == VALUE_PRESENT && !value_same(t->cols[i].kind, a, b))
            return 1;
    }
    return 0;
}

/* ---- heartbeats and transaction metadata ---------------------------------------------------------- */

static void wrap_open(const debezium_encoder *e, buf *out, const char *schema)
{
    if (!e->o.schemas)
        return;
    PUT_LIT(out, "{\"schema\":");
    buf_puts(out, schema);
    PUT_LIT(out, ",\"payload\":");
}

static void wrap_close(const debezium_encoder *e, buf *out)
{
    if (e->o.schemas)
        PUT_LIT(out, "}");
}

void debezium_encode_heartbeat_key(debezium_encoder *e, buf *out)
{
    wrap_open(e, out, dbz_schema_heartbeat_key);
    PUT_LIT(out, "{\"serverName\":");
    dbz_json_cstr(out, e->o.name);
    PUT_LIT(out, "}");
    wrap_close(e, out);
}

void debezium_encode_heartbeat_value(debezium_encoder *e, buf *out, int64_t now_us)
{
    wrap_open(e, out, dbz_schema_heartbeat_value);
    PUT_LIT(out, "{\"ts_ms\":");
    buf_put_i64(out, now_us / 1000);
    PUT_LIT(out, "}");
    wrap_close(e, out);
}

void debezium_encode_tx_key(debezium_encoder *e, buf *out, const tx_info *tx)
{
    wrap_open(e, out, dbz_schema_tx_key);
    PUT_LIT(out, "{\"id\":\"");
    debezium_tx_id(out, tx);
    PUT_LIT(out, "\"}");
    wrap_close(e, out);
}

static void tx_value_head(buf *out, const char *status, const tx_info *tx)
{
    PUT_LIT(out, "{\"status\":\"");
    buf_puts(out, status);
    PUT_LIT(out, "\",\"id\":\"");
    debezium_tx_id(out, tx);
    PUT_LIT(out, "\"");
}

void debezium_encode_tx_begin(debezium_encoder *e, buf *out, const tx_info *tx)
{
    wrap_open(e, out, dbz_schema_tx_value);
    tx_value_head(out, "BEGIN", tx);
    PUT_LIT(out, ",\"event_count\":null,\"data_collections\":null,\"ts_ms\":");
    buf_put_i64(out, tx->commit_time_us / 1000);
    PUT_LIT(out, "}");
    wrap_close(e, out);
}

void debezium_encode_tx_end(debezium_encoder *e, buf *out, const tx_info *tx, uint64_t event_count,
                            const debezium_collection_count *collections, size_t ncollections)
{
    wrap_open(e, out, dbz_schema_tx_value);
    tx_value_head(out, "END", tx);
    PUT_LIT(out, ",\"event_count\":");
    buf_put_u64(out, event_count);
    PUT_LIT(out, ",\"data_collections\":[");
    buf name = BUF_INIT;
    for (size_t i = 0; i < ncollections; i++) {
        if (i)
            PUT_LIT(out, ",");
        buf_reset(&name);
        buf_puts(&name, collections[i].schema);
        buf_append(&name, ".", 1);
        buf_puts(&name, collections[i].table);
        PUT_LIT(out, "{\"data_collection\":");
        dbz_json_text(out, name.data, name.len);
        PUT_LIT(out, ",\"event_count\":");
        buf_put_u64(out, collections[i].count);
        PUT_LIT(out, "}");
    }
    buf_free(&name);
    PUT_LIT(out, "],\"ts_ms\":");
    buf_put_i64(out, tx->commit_time_us / 1000);
    PUT_LIT(out, "}");
    wrap_close(e, out);
}
