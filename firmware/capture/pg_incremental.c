/* pg_incremental: DBLog watermark snapshots of single tables while streaming (see
 * pg_incremental.h). A queue of requested tables, the head being read; for it, one chunk at a
 * time: low watermark, keyset read in key order, high watermark, then wait for the stream to
 * bring the watermarks back, collecting the keys the stream changed in between. */
#include "capture/pg_incremental.h"
#include "core/errbuf.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/pg_catalog.h"
#include "capture/pg_types.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/random.h"

#define INC_CHUNK_DEFAULT 1024
#define INC_ID_LEN 20
#define INC_NAME_MAX 256
#define INC_LOG "incremental"

typedef enum { INC_IDLE = 0, INC_WAIT_LOW, INC_WINDOW } inc_state;

/* A requested table. */
typedef struct inc_request {
    char *schema, *name;   /* malloc'd, exact names */
} inc_request;

/* Keys changed in the stream inside the window: an open-addressing set of byte strings. */
typedef struct inc_key {
    uint64_t hash;
    size_t len;
    const char *data;      /* in the window arena; NULL: empty slot */
} inc_key;

typedef struct inc_keyset {
    inc_key *slots;        /* power-of-two capacity, linear probing */
    size_t cap, used;
} inc_keyset;

/* The table at the head of the queue, once resolved from the catalogs. */
typedef struct inc_table {
    int started;
    pg_catalog_table cat;  /* the catalogs' description, proposed when the stream has none */
    uint32_t *oids;        /* the table and its leaf partitions: their changes count */
    long noids;
    char **key_names;      /* order key columns (malloc'd) */
    uint32_t *key_types;
    int nkeys;
    char **last_key;       /* key text of the last row read (malloc'd), NULL before the first */
    int refresh_def;       /* the stream's definition failed the query: propose the catalogs' */
    uint64_t chunks, rows;
} inc_table;

struct pg_incremental {
    pg_schema *schema;
    size_t chunk_rows;
    metric *m_rows, *m_chunks, *m_queued;
    inc_request *queue;    /* queue[0]: the table being read */
    size_t nqueue, capqueue;
    inc_table t;

    /* the chunk in flight (state != IDLE) */
    inc_state state;
    char id[INC_ID_LEN + 1];
    const table_def *def;  /* the definition the chunk was read with */
    int announce;          /* def is a new version made here: tell the handler before the rows */
    int *key_cols;         /* def column indexes of the key columns */
    arena *chunk;          /* rows, their values and next_key */
    value **rows;
    size_t nrows;
    char **next_key;       /* the chunk's last row's key text */
    int last_chunk;        /* fewer rows than asked: the table is done after this chunk */

    /* the window (state == INC_WINDOW) */
    arena *window;
    inc_keyset keys;
    int truncated;         /* the table was truncated inside the window */
    int unknown_key;       /* a change without its key values: read the chunk again */

    /* key column positions in a streamed change's table definition, for the last one seen */
    const table_def *map_def;
    int *map_cols;
    buf scratch;
};

static void *inc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *inc_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* ---- the key set ---------------------------------------------------------------------------- */

static uint64_t inc_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static inc_key *inc_keyset_find(inc_keyset *ks, uint64_t h, const char *p, size_t n)
{
    for (size_t i = h & (ks->cap - 1);; i = (i + 1) & (ks->cap - 1)) {
        inc_key *k = &ks->slots[i];
        if (!k->data || (k->hash == h && k->len == n && memcmp(k->data, p, n) == 0))
            return k;
    }
}

static int inc_keyset_has(inc_keyset *ks, const char *p, size_t n)
{
    if (!ks->used)
        return 0;
    return inc_keyset_find(ks, inc_hash(p, n), p, n)->data != NULL;
}

static void inc_keyset_add(inc_keyset *ks, arena *a, const char *p, size_t n)
{
    if ((ks->used + 1) * 2 > ks->cap) {
        inc_keyset old = *ks;
        ks->cap = old.cap ? old.cap * 2 : 256;
        ks->slots = inc_xcalloc(ks->cap, sizeof *ks->slots);
        ks->used = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.slots[i].data)
                continue;
            *inc_keyset_find(ks, old.slots[i].hash, old.slots[i].data, old.slots[i].len) = old.slots[i];
            ks->used++;
        }
        free(old.slots);
    }
    uint64_t h = inc_hash(p, n);
    inc_key *k = inc_keyset_find(ks, h, p, n);
    if (k->data)
        return;
    k->hash = h;
    k->len = n;
    k->data = arena_strndup(a, p, n);
    ks->used++;
}

static void inc_keyset_clear(inc_keyset *ks)
{
    free(ks->slots);
    memset(ks, 0, sizeof *ks);
}

/* Append the canonical form of one key value (the same for a value parsed from pgoutput and from
 * a query). -1 when the value is not available. */
static int inc_key_append(buf *b, const value *v, value_kind kind)
{
    switch (v->state) {
    case VALUE_PRESENT: break;
    case VALUE_IS_NULL: buf_puts(b, "N;"); return 0;
    default: return -1;
    }
    switch (kind) {
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ:
        buf_printf(b, "i%lld;", (long long)v->v.i);
        return 0;
    case VALUE_BOOL:
        buf_printf(b, "b%d;", v->v.b ? 1 : 0);
        return 0;
    case VALUE_UUID:
        buf_puts(b, "u");
        for (int i = 0; i < 16; i++)
            buf_printf(b, "%02x", v->v.uuid[i]);
        buf_puts(b, ";");
        return 0;
    default:
        buf_printf(b, "s%zu:", v->len);
        buf_append(b, v->s ? v->s : "", v->len);
        buf_puts(b, ";");
        return 0;
    }
}

/* The canonical key text of a row into b (reset first). -1 when a key value is unavailable. */
static int inc_key_text(buf *b, const table_def *def, const int *cols, int ncols, const value *row)
{
    buf_reset(b);
    for (int i = 0; i < ncols; i++)
        if (inc_key_append(b, &row[cols[i]], def->cols[cols[i]].kind) < 0)
            return -1;
    return 0;
}

/* ---- queue and table state ------------------------------------------------------------------ */

static void inc_gauge(pg_incremental *inc)
{
    if (inc->m_queued)
        metric_set(inc->m_queued, (double)inc->nqueue);
}

/* Forget the chunk in flight and its window. */
static void inc_chunk_drop(pg_incremental *inc)
{
    inc->state = INC_IDLE;
    inc->id[0] = '\0';
    inc->def = NULL;
    inc->rows = NULL;
    inc->nrows = 0;
    inc->next_key = NULL;
    inc->last_chunk = 0;
    free(inc->key_cols);
    inc->key_cols = NULL;
    arena_reset(inc->chunk);
    arena_reset(inc->window);
    inc_keyset_clear(&inc->keys);
    inc->truncated = 0;
    inc->unknown_key = 0;
}

static void inc_table_clear(pg_incremental *inc)
{
    inc_table *t = &inc->t;
    pg_catalog_table_free(&t->cat);
    free(t->oids);
    for (int i = 0; i < t->nkeys; i++) {
        free(t->key_names[i]);
        if (t->last_key)
            free(t->last_key[i]);
    }
    free(t->key_names);
    free(t->key_types);
    free(t->last_key);
    memset(t, 0, sizeof *t);
    inc->map_def = NULL;
    free(inc->map_cols);
    inc->map_cols = NULL;
}

/* Remove queue entry i (the head: also its chunk and table state). */
static void inc_queue_remove(pg_incremental *inc, size_t i)
{
    if (i == 0) {
        inc_chunk_drop(inc);
        inc_table_clear(inc);
    }
    free(inc->queue[i].schema);
    free(inc->queue[i].name);
    memmove(&inc->queue[i], &inc->queue[i + 1], (inc->nqueue - i - 1) * sizeof *inc->queue);
    inc->nqueue--;
    inc_gauge(inc);
}

/* The head table cannot be read: log why and go on with the next one. */
static void inc_table_abandon(pg_incremental *inc, const char *why)
{
    log_fields(LOG_ERROR, INC_LOG, "incremental snapshot refused", "schema", inc->queue[0].schema,
               "table", inc->queue[0].name, "reason", why, NULL);
    inc_queue_remove(inc, 0);
}

pg_incremental *pg_incremental_create(pg_schema *schema, size_t chunk_rows, metrics *m)
{
    pg_incremental *inc = calloc(1, sizeof *inc);
    if (!inc)
        return NULL;
    inc->schema = schema;
    inc->chunk_rows = chunk_rows ? chunk_rows : INC_CHUNK_DEFAULT;
    inc->chunk = arena_create(64 * 1024);
    inc->window = arena_create(16 * 1024);
    if (!inc->chunk || !inc->window) {
        pg_incremental_destroy(inc);
        return NULL;
    }
    if (m) {
        inc->m_rows = metrics_counter(m, "sluice_incremental_snapshot_rows_total",
                                      "Rows emitted by incremental snapshots.", NULL);
        inc->m_chunks = metrics_counter(m, "sluice_incremental_snapshot_chunks_total",
                                        "Chunks read by incremental snapshots.", NULL);
        inc->m_queued = metrics_gauge(m, "sluice_incremental_snapshot_tables_queued",
                                      "Tables queued or being read by incremental snapshots.", NULL);
    }
    inc_gauge(inc);
    return inc;
}

void pg_incremental_destroy(pg_incremental *inc)
{
    if (!inc)
        return;
    while (inc->nqueue)
        inc_queue_remove(inc, inc->nqueue - 1);
    inc_chunk_drop(inc);
    inc_table_clear(inc);
    free(inc->queue);
    arena_destroy(inc->chunk);
    arena_destroy(inc->window);
    buf_free(&inc->scratch);
    free(inc);
}

int pg_incremental_request(pg_incremental *inc, const char *table, char *err, size_t errlen)
{
    char schema[INC_NAME_MAX], name[INC_NAME_MAX];
    if (!table || pg_catalog_name_parse(table, schema, sizeof schema, name, sizeof name) < 0)
        return err_setf(err, errlen, "cannot read the table name '%s' (use table or schema.table)",
                        table ? table : "");
    for (size_t i = 0; i < inc->nqueue; i++) {
        if (strcmp(inc->queue[i].schema, schema) == 0 && strcmp(inc->queue[i].name, name) == 0) {
            log_fields(LOG_INFO, INC_LOG, "incremental snapshot already queued", "schema", schema,
                       "table", name, NULL);
            return 0;
        }
    }
    if (inc->nqueue == inc->capqueue) {
        size_t cap = inc->capqueue ? inc->capqueue * 2 : 8;
        inc_request *q = realloc(inc->queue, cap * sizeof *q);
        if (!q)
            return err_setf(err, errlen, "out of memory");
        inc->queue = q;
        inc->capqueue = cap;
    }
    inc->queue[inc->nqueue].schema = inc_xstrdup(schema);
    inc->queue[inc->nqueue].name = inc_xstrdup(name);
    inc->nqueue++;
    inc_gauge(inc);
    log_fields(LOG_INFO, INC_LOG, "incremental snapshot queued", "schema", schema, "table", name, NULL);
    return 0;
}

int pg_incremental_busy(const pg_incremental *inc)
{
    return inc && inc->nqueue > 0;
}

/* ---- reading a chunk ------------------------------------------------------------------------ */

/* libpq's message for res (or the connection) without the trailing newline. */
static void inc_sql_error(PGconn *conn, const PGresult *res, const char *what, char *err,
                          size_t errlen)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(conn);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    err_setf(err, errlen, "%s: %.*s", what, (int)n, n ? msg : "unknown error");
}

/* The connection itself failed (the capture reconnects), as opposed to a problem of the table. */
static int inc_conn_broken(PGconn *conn, const PGresult *res)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return 1;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* connection exceptions, operator intervention (shutdown, cancel), system errors */
    return !state || strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
           strncmp(state, "58", 2) == 0;
}

/* Outcome of a step: 0 done (or the table was dropped with a log line), -1 connection failed. */
static int inc_step_failed(pg_incremental *inc, PGconn *conn, PGresult *res, const char *what,
                           char *err, size_t errlen)
{
    char why[1024];
    inc_sql_error(conn, res, what, why, sizeof why);
    int broken = inc_conn_broken(conn, res);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int undefined_column = state && strcmp(state, "42703") == 0;
    PQclear(res);
    inc_chunk_drop(inc);
    if (broken)
        return err_setf(err, errlen, "incremental snapshot: %s", why);
    if (undefined_column && !inc->t.refresh_def) {
        /* the stream's definition is older than the table: use the catalogs' next time */
        log_fields(LOG_WARN, INC_LOG, "table changed, describing it again", "schema",
                   inc->queue[0].schema, "table", inc->queue[0].name, "reason", why, NULL);
        inc->t.refresh_def = 1;
        return 0;
    }
    inc_table_abandon(inc, why);
    return 0;
}

/* Resolve the head table: oid, partitions, order key. 1 ready, 0 refused (logged), -1 broken. */
static int inc_table_start(pg_incremental *inc, PGconn *conn, char *err, size_t errlen)
{
    inc_table *t = &inc->t;
    const inc_request *r = &inc->queue[0];
    char why[1024];
    uint32_t oid = 0;
    char relkind = 'r';
    int found = pg_catalog_table_lookup(conn, r->schema, r->name, &oid, &relkind, why, sizeof why);
    if (found <= 0 || pg_catalog_table_describe(conn, oid, NULL, &t->cat, why, sizeof why) < 0) {
        if (found < 0 || PQstatus(conn) != CONNECTION_OK) {
            inc_table_clear(inc);
            return err_setf(err, errlen, "incremental snapshot: %s", why);
        }
        inc_table_abandon(inc, why);
        return 0;
    }
    const int *cols;
    int n = pg_catalog_table_order_key(&t->cat, &cols);
    if (n == 0) {
        inc_table_abandon(inc, "the table has no primary key or replica identity index to read it "
                               "in chunks (add a primary key or REPLICA IDENTITY USING INDEX)");
        return 0;
    }
    t->nkeys = n;
    t->key_names = inc_xcalloc((size_t)n, sizeof *t->key_names);
    t->key_types = inc_xcalloc((size_t)n, sizeof *t->key_types);
    for (int i = 0; i < n; i++) {
        t->key_names[i] = inc_xstrdup(t->cat.def.cols[cols[i]].name);
        t->key_types[i] = t->cat.def.cols[cols[i]].type_oid;
    }
    if (t->cat.relkind == 'p') {
        uint32_t *parts = NULL;
        long np = pg_catalog_partitions(conn, oid, &parts, why, sizeof why);
        if (np < 0) {
            inc_table_clear(inc);
            return err_setf(err, errlen, "incremental snapshot: %s", why);
        }
        t->oids = inc_xcalloc((size_t)np + 1, sizeof *t->oids);
        memcpy(t->oids + 1, parts, (size_t)np * sizeof *parts);
        t->noids = np + 1;
        free(parts);
    } else {
        t->oids = inc_xcalloc(1, sizeof *t->oids);
        t->noids = 1;
    }
    t->oids[0] = oid;
    t->started = 1;
    buf keys = BUF_INIT;
    for (int i = 0; i < n; i++)
        buf_printf(&keys, "%s%s", i ? "," : "", t->key_names[i]);
    log_fields(LOG_INFO, INC_LOG, "incremental snapshot started", "schema", r->schema, "table",
               r->name, "key", keys.data, NULL);
    buf_free(&keys);
    return 1;
}

/* Write a watermark (its own transaction); *lsn (may be NULL) gets its position. */
static PGresult *inc_watermark_write(pg_incremental *inc, PGconn *conn, const char *kind,
                                     uint64_t *lsn)
{
    char table[2 * INC_NAME_MAX + 2];
    snprintf(table, sizeof table, "%s.%s", inc->queue[0].schema, inc->queue[0].name);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "kind", kind, "table", table, "chunk",
                          (json_int_t)inc->t.chunks + 1, "id", inc->id);
    char *content = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!content) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    const char *params[2] = {PG_INCREMENTAL_WATERMARK_PREFIX, content};
    PGresult *res = PQexecParams(conn, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)", 2,
                                 NULL, params, NULL, NULL, 0);
    free(content);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        if (lsn && lsn_parse(PQgetvalue(res, 0, 0), lsn) < 0)
            *lsn = 0;
        PQclear(res);
        return NULL;
    }
    return res ? res : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
}

/* The definition to read with: the stream's, else (or after the stream's failed the query) the
 * catalogs', proposed to the registry at the low watermark's position. NULL with the reason. */
static const table_def *inc_def_resolve(pg_incremental *inc, PGconn *conn, uint64_t lsn, char *why,
                                        size_t whylen)
{
    inc_table *t = &inc->t;
    const table_def *def = t->refresh_def ? NULL : pg_schema_get(inc->schema, t->cat.def.oid);
    if (def)
        return def;
    if (t->refresh_def) {
        pg_catalog_table fresh;
        if (pg_catalog_table_describe(conn, t->cat.def.oid, NULL, &fresh, why, whylen) < 0)
            return NULL;
        pg_catalog_table_free(&t->cat);
        t->cat = fresh;
        t->refresh_def = 0;
    }
    int changed = 0;
    def = pg_schema_update(inc->schema, &t->cat.def, lsn, &changed, why, whylen);
    if (def && changed)
        inc->announce = 1;
    return def;
}

/* The chunk query: the definition's columns from the table, after the last key, in key order. */
static int inc_select_build(pg_incremental *inc, PGconn *conn, const table_def *def, buf *sql)
{
    const inc_table *t = &inc->t;
    char *q;
    buf_puts(sql, "SELECT ");
    for (int i = 0; i < def->ncols; i++) {
        if (!(q = PQescapeIdentifier(conn, def->cols[i].name, strlen(def->cols[i].name))))
            return -1;
        buf_printf(sql, "%s%s", i ? ", " : "", q);
        PQfreemem(q);
    }
    buf_puts(sql, t->cat.relkind == 'p' ? " FROM " : " FROM ONLY ");
    if (!(q = PQescapeIdentifier(conn, t->cat.def.schema, strlen(t->cat.def.schema))))
        return -1;
    buf_printf(sql, "%s.", q);
    PQfreemem(q);
    if (!(q = PQescapeIdentifier(conn, t->cat.def.name, strlen(t->cat.def.name))))
        return -1;
    buf_puts(sql, q);
    PQfreemem(q);
    buf order = BUF_INIT;
    for (int i = 0; i < t->nkeys; i++) {
        if (!(q = PQescapeIdentifier(conn, t->key_names[i], strlen(t->key_names[i])))) {
            buf_free(&order);
            return -1;
        }
        buf_printf(&order, "%s%s", i ? ", " : "", q);
        PQfreemem(q);
    }
    if (t->last_key) {
        buf_printf(sql, " WHERE (%s) > (", order.data);
        for (int i = 0; i < t->nkeys; i++)
            buf_printf(sql, "%s$%d", i ? ", " : "", i + 1);
        buf_puts(sql, ")");
    }
    buf_printf(sql, " ORDER BY %s LIMIT %zu", order.data, inc->chunk_rows);
    buf_free(&order);
    return 0;
}

/* Parse the fetched rows into the chunk arena; the last row's key text becomes next_key. */
static int inc_rows_parse(pg_incremental *inc, const PGresult *res, char *why, size_t whylen)
{
    const table_def *def = inc->def;
    int n = PQntuples(res);
    inc->rows = arena_alloc(inc->chunk, (size_t)n * sizeof *inc->rows + 1);
    for (int r = 0; r < n; r++) {
        value *vals = arena_alloc(inc->chunk, (size_t)def->ncols * sizeof *vals + 1);
        for (int i = 0; i < def->ncols; i++) {
            memset(&vals[i], 0, sizeof vals[i]);
            if (PQgetisnull(res, r, i)) {
                vals[i].state = VALUE_IS_NULL;
                continue;
            }
            size_t len = (size_t)PQgetlength(res, r, i);
            const char *text = arena_strndup(inc->chunk, PQgetvalue(res, r, i), len);
            char perr[256];
            if (pg_value_parse(def->cols[i].kind, text, len, &vals[i], inc->chunk, perr, sizeof perr) < 0) {
                err_setf(why, whylen, "column %s (%s): %s", def->cols[i].name, def->cols[i].type_name,
                         perr);
                return -1;
            }
        }
        inc->rows[r] = vals;
    }
    inc->nrows = (size_t)n;
    inc->last_chunk = (size_t)n < inc->chunk_rows;
    if (n > 0) {
        inc->next_key = arena_alloc(inc->chunk, (size_t)inc->t.nkeys * sizeof *inc->next_key);
        for (int k = 0; k < inc->t.nkeys; k++) {
            int col = inc->key_cols[k];
            inc->next_key[k] = arena_strndup(inc->chunk, PQgetvalue(res, n - 1, col),
                                             (size_t)PQgetlength(res, n - 1, col));
        }
    }
    return 0;
}

/* Low watermark, chunk read, high watermark. */
static int inc_chunk_read(pg_incremental *inc, PGconn *conn, char *err, size_t errlen)
{
    inc_table *t = &inc->t;
    char why[1024];
    uint64_t lsn = 0;
    buf sql = BUF_INIT;
    PGresult *res;

    if (random_token(inc->id, INC_ID_LEN) < 0)
        return err_setf(err, errlen, "incremental snapshot: no random bytes for a watermark id");
    if ((res = inc_watermark_write(inc, conn, "low", &lsn)))
        return inc_step_failed(inc, conn, res, "writing the low watermark", err, errlen);

    if (!(inc->def = inc_def_resolve(inc, conn, lsn, why, sizeof why))) {
        inc_chunk_drop(inc);
        if (PQstatus(conn) != CONNECTION_OK)
            return err_setf(err, errlen, "incremental snapshot: %s", why);
        inc_table_abandon(inc, why);
        return 0;
    }
    inc->key_cols = inc_xcalloc((size_t)t->nkeys, sizeof *inc->key_cols);
    for (int k = 0; k < t->nkeys; k++) {
        inc->key_cols[k] = -1;
        for (int i = 0; i < inc->def->ncols; i++)
            if (strcmp(inc->def->cols[i].name, t->key_names[k]) == 0)
                inc->key_cols[k] = i;
        if (inc->key_cols[k] < 0) {
            snprintf(why, sizeof why, "key column %s is not captured (publication column list?)",
                     t->key_names[k]);
            inc_chunk_drop(inc);
            inc_table_abandon(inc, why);
            return 0;
        }
    }

    if (inc_select_build(inc, conn, inc->def, &sql) < 0) {
        buf_free(&sql);
        return inc_step_failed(inc, conn, NULL, "quoting an identifier", err, errlen);
    }
    res = PQexecParams(conn, sql.data, t->last_key ? t->nkeys : 0, t->last_key ? t->key_types : NULL,
                       (const char *const *)t->last_key, NULL, NULL, 0);
    buf_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return inc_step_failed(inc, conn, res, "reading a chunk", err, errlen);
    if (PQnfields(res) != inc->def->ncols) {
        PQclear(res);
        inc_chunk_drop(inc);
        inc_table_abandon(inc, "the chunk query returned an unexpected number of columns");
        return 0;
    }
    if (inc_rows_parse(inc, res, why, sizeof why) < 0) {
        PQclear(res);
        inc_chunk_drop(inc);
        inc_table_abandon(inc, why);
        return 0;
    }
    PQclear(res);

    if ((res = inc_watermark_write(inc, conn, "high", NULL)))
        return inc_step_failed(inc, conn, res, "writing the high watermark", err, errlen);
    inc->state = INC_WAIT_LOW;
    return 0;
}

int pg_incremental_step(pg_incremental *inc, PGconn *conn, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!inc || !inc->nqueue || inc->state != INC_IDLE)
        return 0;
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return err_setf(err, errlen, "incremental snapshot: no connection to the source");
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        return err_setf(err, errlen, "incremental snapshot: the connection is inside a transaction");
    if (!inc->t.started) {
        int r = inc_table_start(inc, conn, err, errlen);
        if (r <= 0)
            return r;
    }
    return inc_chunk_read(inc, conn, err, errlen);
}

/* ---- the stream side ------------------------------------------------------------------------ */

static int inc_table_is(const pg_incremental *inc, uint32_t oid)
{
    for (long i = 0; i < inc->t.noids; i++)
        if (inc->t.oids[i] == oid)
            return 1;
    return 0;
}

/* Key column positions in def (a streamed change's definition), cached for the last def. */
static const int *inc_key_map(pg_incremental *inc, const table_def *def)
{
    if (inc->map_def == def)
        return inc->map_cols;
    if (!inc->map_cols)
        inc->map_cols = inc_xcalloc((size_t)inc->t.nkeys, sizeof *inc->map_cols);
    for (int k = 0; k < inc->t.nkeys; k++) {
        inc->map_cols[k] = -1;
        for (int i = 0; i < def->ncols; i++)
            if (strcmp(def->cols[i].name, inc->t.key_names[k]) == 0)
                inc->map_cols[k] = i;
        if (inc->map_cols[k] < 0) {
            inc->map_def = NULL;
            return NULL;
        }
    }
    inc->map_def = def;
    return inc->map_cols;
}

/* Note the key of one row image of a change inside the window. */
static void inc_note_row(pg_incremental *inc, const table_def *def, const int *cols, const value *row)
{
    if (!cols || inc_key_text(&inc->scratch, def, cols, inc->t.nkeys, row) < 0) {
        inc->unknown_key = 1;
        return;
    }
    inc_keyset_add(&inc->keys, inc->window, inc->scratch.data, inc->scratch.len);
}

void pg_incremental_on_change(pg_incremental *inc, const event *ev)
{
    if (!inc || inc->state != INC_WINDOW || !ev->table || !inc_table_is(inc, ev->table->oid))
        return;
    if (ev->op == EVENT_TRUNCATE) {
        inc->truncated = 1;
        return;
    }
    const int *cols = inc_key_map(inc, ev->table);
    if (ev->after)
        inc_note_row(inc, ev->table, cols, ev->after);
    if (ev->before)
        inc_note_row(inc, ev->table, cols, ev->before);
    else if (ev->op == EVENT_DELETE)
        inc->unknown_key = 1;
}

/* Emit the chunk's rows whose key the stream did not change inside the window. */
static int inc_window_close(pg_incremental *inc, const logical_message *m, const tx_info *tx,
                            const pg_decode_handler *h, char *err, size_t errlen)
{
    inc_table *t = &inc->t;
    const inc_request *r = &inc->queue[0];
    const table_def *now = pg_schema_get(inc->schema, t->cat.def.oid);
    if (inc->unknown_key || (now && now != inc->def)) {
        log_fields(LOG_INFO, INC_LOG, "reading the chunk again", "schema", r->schema, "table",
                   r->name, "reason",
                   inc->unknown_key ? "a change without its key inside the window"
                                    : "the table's definition changed inside the window",
                   NULL);
        inc_chunk_drop(inc);
        return 0;
    }
    if (inc->announce && h && h->schema) {
        if (err && errlen)
            err[0] = '\0';
        if (h->schema(h->arg, inc->def, err, errlen) != 0) {
            if (err && errlen && !err[0])
                err_setf(err, errlen, "incremental snapshot: schema handler failed");
            inc_chunk_drop(inc);
            return -1;
        }
    }
    inc->announce = 0;
    uint64_t seq = 0, emitted = 0;
    for (size_t i = 0; i < inc->nrows && !inc->truncated; i++) {
        if (inc_key_text(&inc->scratch, inc->def, inc->key_cols, t->nkeys, inc->rows[i]) == 0 &&
            inc_keyset_has(&inc->keys, inc->scratch.data, inc->scratch.len))
            continue;
        event ev = {0};
        ev.op = EVENT_READ;
        ev.snapshot = SNAPSHOT_INCREMENTAL;
        ev.table = inc->def;
        ev.after = inc->rows[i];
        ev.lsn = m->lsn;
        ev.tx = tx;
        ev.seq = seq++;
        if (h && h->change) {
            if (err && errlen)
                err[0] = '\0';
            if (h->change(h->arg, &ev, err, errlen) != 0) {
                if (err && errlen && !err[0])
                    err_setf(err, errlen, "incremental snapshot: change handler failed");
                inc_chunk_drop(inc);
                return -1;
            }
        }
        emitted++;
    }
    t->chunks++;
    t->rows += emitted;
    if (inc->m_chunks)
        metric_add(inc->m_chunks, 1);
    if (inc->m_rows)
        metric_add(inc->m_rows, (double)emitted);
    /* advance past the chunk's last row */
    if (inc->nrows) {
        if (!t->last_key)
            t->last_key = inc_xcalloc((size_t)t->nkeys, sizeof *t->last_key);
        for (int k = 0; k < t->nkeys; k++) {
            free(t->last_key[k]);
            t->last_key[k] = inc_xstrdup(inc->next_key[k]);
        }
    }
    int done = inc->last_chunk;
    inc_chunk_drop(inc);
    if (done) {
        char rows[32], chunks[32];
        snprintf(rows, sizeof rows, "%llu", (unsigned long long)t->rows);
        snprintf(chunks, sizeof chunks, "%llu", (unsigned long long)t->chunks);
        log_fields(LOG_INFO, INC_LOG, "incremental snapshot done", "schema", r->schema, "table",
                   r->name, "rows", rows, "chunks", chunks, NULL);
        inc_queue_remove(inc, 0);
    }
    return 0;
}

static void inc_watermark(pg_incremental *inc, const logical_message *m, const tx_info *tx,
                          const pg_decode_handler *h, int *rc, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)m->content, m->len, 0, &jerr);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!kind || !id || !inc->id[0] || strcmp(id, inc->id) != 0) {
        json_decref(o);   /* another session's, or an abandoned chunk's */
        return;
    }
    if (inc->state == INC_WAIT_LOW && strcmp(kind, "low") == 0) {
        inc->state = INC_WINDOW;
    } else if (inc->state == INC_WINDOW && strcmp(kind, "high") == 0) {
        if (!tx) {
            log_warn(INC_LOG, "high watermark outside a transaction; reading the chunk again");
            inc_chunk_drop(inc);
        } else {
            *rc = inc_window_close(inc, m, tx, h, err, errlen);
        }
    }
    json_decref(o);
}

/* "data-collections" of a signal as request names; unknown entries are logged. */
static void inc_signal_tables(pg_incremental *inc, const json_t *data, int stop)
{
    const json_t *list = json_object_get(data, "data-collections");
    if (!json_is_array(list)) {
        if (stop) {   /* stop-snapshot without a list: stop everything */
            while (inc->nqueue)
                inc_queue_remove(inc, inc->nqueue - 1);
            log_info(INC_LOG, "signal: every incremental snapshot stopped");
        } else {
            log_warn(INC_LOG, "signal execute-snapshot without data-collections ignored");
        }
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        const char *name = json_string_value(v);
        char err[256], schema[INC_NAME_MAX], table[INC_NAME_MAX];
        if (!name || pg_catalog_name_parse(name, schema, sizeof schema, table, sizeof table) < 0) {
            log_warn(INC_LOG, "signal: cannot read data collection #%zu", i + 1);
            continue;
        }
        if (!stop) {
            if (pg_incremental_request(inc, name, err, sizeof err) < 0)
                log_warn(INC_LOG, "signal: %s", err);
            continue;
        }
        for (size_t q = 0; q < inc->nqueue; q++) {
            if (strcmp(inc->queue[q].schema, schema) == 0 && strcmp(inc->queue[q].name, table) == 0) {
                log_fields(LOG_INFO, INC_LOG, "incremental snapshot stopped", "schema", schema,
                           "table", table, NULL);
                inc_queue_remove(inc, q);
                break;
            }
        }
    }
}

static void inc_signal(pg_incremental *inc, const logical_message *m)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)m->content, m->len, 0, &jerr);
    const char *type = json_string_value(json_object_get(o, "type"));
    const json_t *data = json_object_get(o, "data");
    const char *snaptype = json_string_value(json_object_get(data, "type"));
    if (!o) {
        log_warn(INC_LOG, "signal ignored: not JSON (%s)", jerr.text);
    } else if (!type) {
        log_warn(INC_LOG, "signal ignored: no type");
    } else if (strcmp(type, "execute-snapshot") != 0 && strcmp(type, "stop-snapshot") != 0) {
        log_fields(LOG_INFO, INC_LOG, "signal ignored", "type", type, NULL);
    } else if (snaptype && strcasecmp(snaptype, "incremental") != 0) {
        log_fields(LOG_WARN, INC_LOG, "signal ignored: only incremental snapshots are supported",
                   "type", type, "snapshot_type", snaptype, NULL);
    } else {
        inc_signal_tables(inc, data, strcmp(type, "stop-snapshot") == 0);
    }
    json_decref(o);
}

int pg_incremental_on_message(pg_incremental *inc, const logical_message *m, const tx_info *tx,
                              const pg_decode_handler *h, char *err, size_t errlen)
{
    int rc = 0;
    if (!inc || !m || !m->prefix)
        return 0;
    if (strcmp(m->prefix, PG_INCREMENTAL_WATERMARK_PREFIX) == 0) {
        if (m->transactional && inc->state != INC_IDLE)
            inc_watermark(inc, m, tx, h, &rc, err, errlen);
    } else if (strcmp(m->prefix, PG_INCREMENTAL_SIGNAL_PREFIX) == 0) {
        inc_signal(inc, m);
    }
    return rc;
}

void pg_incremental_reset_window(pg_incremental *inc)
{
    if (inc && inc->state != INC_IDLE)
        inc_chunk_drop(inc);
}
