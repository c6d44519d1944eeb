/* pg_snapshot: the initial snapshot (see pg_snapshot.h). One REPEATABLE READ, READ ONLY
 * transaction in the slot's exported snapshot; each published table is described from the
 * catalogs exactly as pgoutput's Relation message would describe it, then read through a NO SCROLL
 * cursor a batch at a time, with a one-row lookahead so the very last row can be marked. */
#include "capture/pg_snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/pg_catalog.h"
#include "capture/pg_types.h"
#include "core/arena.h"
#include "core/buf.h"

#define SNAP_CURSOR "sluice_snapshot"
#define SNAP_FETCH_DEFAULT 10000
#define SNAP_KEY_TEXT_MAX 64        /* bytes of a key value quoted in error messages */

/* One published table: where it is, how pgoutput sees it, how to read it. */
typedef struct snap_table {
    char *schema, *name;        /* malloc'd */
    uint32_t oid;
    char *attnames;             /* publication column list as a name[] literal, or NULL */
    char *rowfilter;            /* publication row filter expression, or NULL */
    const table_def *def;       /* registered definition (owned by the schema registry) */
    int changed;                /* pg_schema_update made a new version */
    int *order_cols;            /* def column indexes of the ORDER BY key (for error messages) */
    int norder_cols;
    char *select_sql;           /* the cursor's query */
    metric *rows;               /* sluice_snapshot_rows_total{table} or NULL */
} snap_table;

/* One run of the snapshot. */
typedef struct snap {
    PGconn *c;
    pg_schema *schema;
    const pg_snapshot_options *opts;
    const pg_decode_handler *h;
    metrics *m;
    volatile int *stop;
    char *err;
    size_t errlen;
    snap_table *tables;
    size_t ntables;
    arena *batch;               /* the current batch's parsed values */
    arena *pend;                /* the pending row's copy across batches */
    tx_info tx;
    uint64_t seq;
    const snap_table *pend_t;   /* the pending row: read but not yet emitted */
    value *pend_vals;
    metric *tables_total, *tables_done;
} snap;

static void snap_fail(snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void snap_fail(snap *s, const char *fmt, ...)
{
    if (!s->err || !s->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
}

/* A libpq error (of res when it has one, else of the connection) without the trailing newline. */
static void snap_fail_sql(snap *s, const char *what, const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(s->c);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    snap_fail(s, "snapshot: %s: %.*s", what, (int)n, n ? msg : "unknown error");
}

/* Run sql (no parameters); on success the result (caller clears), else NULL with the reason. */
static PGresult *snap_query(snap *s, const char *what, const char *sql)
{
    PGresult *res = PQexec(s->c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    snap_fail_sql(s, what, res);
    PQclear(res);
    return NULL;
}

static int snap_exec(snap *s, const char *what, const char *sql)
{
    PGresult *res = snap_query(s, what, sql);
    PQclear(res);
    return res ? 0 : -1;
}

/* Run a parameterised query (text parameters, NULL for SQL NULL) returning rows. */
static PGresult *snap_query_params(snap *s, const char *what, const char *sql, int n,
                                   const char *const *params)
{
    PGresult *res = PQexecParams(s->c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    snap_fail_sql(s, what, res);
    PQclear(res);
    return NULL;
}

/* Append name as a quoted identifier. */
static int snap_ident_append(snap *s, buf *b, const char *name)
{
    char *q = PQescapeIdentifier(s->c, name, strlen(name));
    if (!q) {
        snap_fail_sql(s, "quoting an identifier", NULL);
        return -1;
    }
    buf_puts(b, q);
    PQfreemem(q);
    return 0;
}

static char *snap_strdup_or_null(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *p = strdup(PQgetvalue(res, row, col));
    if (!p) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    return p;
}

static int snap_handler_failed(snap *s, int rc, const char *what)
{
    if (!rc)
        return 0;
    if (s->err && s->errlen && !s->err[0])
        snap_fail(s, "snapshot: %s handler failed", what);
    return -1;
}

/* The session settings the parsers rely on, then the transaction in the exported snapshot. */
static int snap_begin(snap *s)
{
    if (snap_exec(s, "session settings", pg_types_session_sql) < 0)
        return -1;
    if (snap_exec(s, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") < 0)
        return -1;
    const char *name = s->opts->snapshot_name;
    if (!name || !*name)
        return 0;
    char *lit = PQescapeLiteral(s->c, name, strlen(name));
    if (!lit) {
        snap_fail_sql(s, "quoting the snapshot name", NULL);
        return -1;
    }
    buf sql = BUF_INIT;
    buf_printf(&sql, "SET TRANSACTION SNAPSHOT %s", lit);
    PQfreemem(lit);
    int rc = snap_exec(s, "SET TRANSACTION SNAPSHOT", sql.data);
    buf_free(&sql);
    return rc;
}

/* The publication's tables with their pg_class identity, column list and row filter. */
static int snap_tables_list(snap *s)
{
    const char *pub = s->opts->publication;
    PGresult *res = snap_query_params(s, "looking up the publication",
                                      "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1",
                                      1, &pub);
    if (!res)
        return -1;
    int exists = PQntuples(res) > 0;
    PQclear(res);
    if (!exists) {
        snap_fail(s, "snapshot: publication \"%s\" does not exist", pub);
        return -1;
    }
    res = snap_query_params(s, "listing the publication's tables",
                            "SELECT pt.schemaname, pt.tablename, c.oid, pt.attnames, pt.rowfilter"
                            " FROM pg_catalog.pg_publication_tables pt"
                            " JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
                            " JOIN pg_catalog.pg_class c"
                            "   ON c.relnamespace = n.oid AND c.relname = pt.tablename"
                            " WHERE pt.pubname = $1 ORDER BY 1, 2",
                            1, &pub);
    if (!res)
        return -1;
    int n = PQntuples(res);
    s->tables = calloc(n ? (size_t)n : 1, sizeof *s->tables);
    if (!s->tables) {
        PQclear(res);
        snap_fail(s, "snapshot: out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        snap_table *t = &s->tables[i];
        t->schema = snap_strdup_or_null(res, i, 0);
        t->name = snap_strdup_or_null(res, i, 1);
        t->oid = (uint32_t)strtoul(PQgetvalue(res, i, 2), NULL, 10);
        t->attnames = snap_strdup_or_null(res, i, 3);
        t->rowfilter = snap_strdup_or_null(res, i, 4);
        s->ntables++;
    }
    PQclear(res);
    return 0;
}

/* The cursor query: the columns in order, from the table (ONLY, like COPY, unless partitioned:
 * then the partitions' rows through the root), the publication's row filter, then the order of
 * the primary key (all its columns, also those outside a column list), else of the usable
 * replica identity index. */
static int snap_select_build(snap *s, snap_table *t, const pg_catalog_table *cat)
{
    const table_def *def = &cat->def;
    buf b = BUF_INIT;
    int rc = -1;
    buf_puts(&b, "SELECT ");
    for (int i = 0; i < def->ncols; i++) {
        if (i)
            buf_puts(&b, ", ");
        if (snap_ident_append(s, &b, def->cols[i].name) < 0)
            goto out;
    }
    buf_puts(&b, cat->relkind == 'p' ? " FROM " : " FROM ONLY ");
    if (snap_ident_append(s, &b, t->schema) < 0)
        goto out;
    buf_puts(&b, ".");
    if (snap_ident_append(s, &b, t->name) < 0)
        goto out;
    if (t->rowfilter) {
        /* server-deparsed expression (pg_get_expr), as PostgreSQL's own table sync uses it */
        buf_printf(&b, " WHERE (%s)", t->rowfilter);
    }
    char *const *names = cat->npk_names ? cat->pk_names : cat->ri_names;
    int n = cat->npk_names ? cat->npk_names : cat->nri_names;
    if (n) {
        t->order_cols = calloc((size_t)n, sizeof *t->order_cols);
        if (!t->order_cols) {
            snap_fail(s, "snapshot: out of memory");
            goto out;
        }
    }
    for (int i = 0; i < n; i++) {
        buf_puts(&b, i ? ", " : " ORDER BY ");
        if (snap_ident_append(s, &b, names[i]) < 0)
            goto out;
        for (int j = 0; j < def->ncols; j++)
            if (strcmp(def->cols[j].name, names[i]) == 0)
                t->order_cols[t->norder_cols++] = j;
    }
    t->select_sql = buf_take(&b);
    rc = 0;
out:
    buf_free(&b);
    return rc;
}

/* Describe t from the catalogs as pgoutput's Relation message does (pg_catalog_table_describe,
 * limited to the publication's column list) and register it. */
static int snap_table_describe(snap *s, snap_table *t)
{
    pg_catalog_table cat;
    char cerr[512] = "";
    if (pg_catalog_table_describe(s->c, t->oid, t->attnames, &cat, cerr, sizeof cerr) < 0) {
        snap_fail(s, "snapshot: %s", cerr);
        return -1;
    }
    int rc = -1;
    char rerr[256] = "";
    t->def = pg_schema_update(s->schema, &cat.def, s->opts->consistent_lsn, &t->changed, rerr,
                              sizeof rerr);
    if (!t->def) {
        snap_fail(s, "snapshot: table %s.%s: %s", t->schema, t->name, rerr);
        goto out;
    }
    if (snap_select_build(s, t, &cat) < 0)
        goto out;
    rc = 0;
out:
    pg_catalog_table_free(&cat);
    return rc;
}

/* Prometheus label value escaping: backslash, double quote, newline. */
static void snap_label_escape(buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, v, 1);
    }
}

static void snap_metrics_register(snap *s)
{
    if (!s->m)
        return;
    s->tables_total = metrics_gauge(s->m, "sluice_snapshot_tables_total",
                                    "Tables in the initial snapshot", NULL);
    s->tables_done = metrics_gauge(s->m, "sluice_snapshot_tables_done",
                                   "Tables of the initial snapshot read completely", NULL);
    if (s->tables_total)
        metric_set(s->tables_total, (double)s->ntables);
    if (s->tables_done)
        metric_set(s->tables_done, 0);
    buf lab = BUF_INIT;
    for (size_t i = 0; i < s->ntables; i++) {
        snap_table *t = &s->tables[i];
        buf_reset(&lab);
        buf_puts(&lab, "table=\"");
        snap_label_escape(&lab, t->schema);
        buf_puts(&lab, ".");
        snap_label_escape(&lab, t->name);
        buf_puts(&lab, "\"");
        t->rows = metrics_counter(s->m, "sluice_snapshot_rows_total",
                                  "Rows read by the initial snapshot", lab.data);
    }
    buf_free(&lab);
}

/* Hand a row to the handler as a READ event. */
static int snap_emit(snap *s, const snap_table *t, const value *vals, int last)
{
    event ev = {0};
    ev.op = EVENT_READ;
    ev.snapshot = last ? SNAPSHOT_LAST : SNAPSHOT_TRUE;
    ev.table = t->def;
    ev.before = NULL;
    ev.after = vals;
    ev.lsn = s->opts->consistent_lsn;
    ev.tx = &s->tx;
    ev.seq = s->seq++;
    if (t->rows)
        metric_add(t->rows, 1);
    if (!s->h || !s->h->change)
        return 0;
    if (s->err && s->errlen)
        s->err[0] = '\0';
    return snap_handler_failed(s, s->h->change(s->h->arg, &ev, s->err, s->errlen), "change");
}

/* Emit the pending row (if any) as an ordinary read. */
static int snap_pending_flush(snap *s, int last)
{
    if (!s->pend_t)
        return 0;
    const snap_table *t = s->pend_t;
    s->pend_t = NULL;
    return snap_emit(s, t, s->pend_vals, last);
}

/* Copy the pending row into the pending arena so it outlives its batch. */
static void snap_pending_keep(snap *s)
{
    if (!s->pend_t)
        return;
    int n = s->pend_t->def->ncols;
    arena_reset(s->pend);
    value *copy = arena_alloc(s->pend, (size_t)n * sizeof *copy + 1);
    for (int i = 0; i < n; i++) {
        copy[i] = s->pend_vals[i];
        if (copy[i].s)
            copy[i].s = arena_strndup(s->pend, copy[i].s, copy[i].len);
    }
    s->pend_vals = copy;
}

/* "(id=5, part=a)" from the row's key columns' text, for error messages. */
static void snap_row_key(const snap_table *t, const PGresult *res, int row, char *out,
                         size_t outlen)
{
    buf b = BUF_INIT;
    for (int i = 0; i < t->norder_cols; i++) {
        int col = t->order_cols[i];
        const char *v = PQgetisnull(res, row, col) ? "NULL" : PQgetvalue(res, row, col);
        size_t n = strlen(v);
        buf_printf(&b, "%s%s=%.*s%s", i ? ", " : "", t->def->cols[col].name,
                   (int)(n > SNAP_KEY_TEXT_MAX ? SNAP_KEY_TEXT_MAX : n), v,
                   n > SNAP_KEY_TEXT_MAX ? "..." : "");
    }
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    buf_free(&b);
}

/* Parse one fetched row into values allocated in the batch arena. */
static value *snap_row_parse(snap *s, const snap_table *t, const PGresult *res, int row,
                             uint64_t rowno)
{
    const table_def *def = t->def;
    value *vals = arena_alloc(s->batch, (size_t)def->ncols * sizeof *vals + 1);
    for (int i = 0; i < def->ncols; i++) {
        memset(&vals[i], 0, sizeof vals[i]);
        if (PQgetisnull(res, row, i)) {
            vals[i].state = VALUE_IS_NULL;
            continue;
        }
        char perr[256] = "";
        if (pg_value_parse(def->cols[i].kind, PQgetvalue(res, row, i),
                           (size_t)PQgetlength(res, row, i), &vals[i], s->batch, perr,
                           sizeof perr) < 0) {
            char key[256];
            snap_row_key(t, res, row, key, sizeof key);
            if (key[0])
                snap_fail(s, "snapshot: table %s.%s column %s (%s) row (%s): %s", def->schema,
                          def->name, def->cols[i].name, def->cols[i].type_name, key, perr);
            else
                snap_fail(s, "snapshot: table %s.%s column %s (%s) row #%llu (no key): %s",
                          def->schema, def->name, def->cols[i].name, def->cols[i].type_name,
                          (unsigned long long)rowno + 1, perr);
            return NULL;
        }
    }
    return vals;
}

static int snap_stopped(snap *s)
{
    if (s->stop && *s->stop) {
        snap_fail(s, "interrupted");
        return 1;
    }
    return 0;
}

/* Read one table through the cursor, a batch at a time. Every row but the newest has been
 * emitted when a batch is done; the newest waits in the pending arena. */
static int snap_table_read(snap *s, snap_table *t)
{
    char what[256];
    buf sql = BUF_INIT;
    PGresult *res = NULL;
    int rc = -1;
    uint64_t rowno = 0;
    size_t fetch = s->opts->fetch_rows ? s->opts->fetch_rows : SNAP_FETCH_DEFAULT;

    buf_printf(&sql, "DECLARE " SNAP_CURSOR " NO SCROLL CURSOR FOR %s", t->select_sql);
    snprintf(what, sizeof what, "reading %s.%s", t->schema, t->name);
    if (snap_exec(s, what, sql.data) < 0)
        goto out;
    buf_reset(&sql);
    buf_printf(&sql, "FETCH FORWARD %zu FROM " SNAP_CURSOR, fetch);
    for (;;) {
        if (snap_stopped(s))
            goto out;
        res = snap_query(s, what, sql.data);
        if (!res)
            goto out;
        int n = PQntuples(res);
        if (n == 0)
            break;
        if (PQnfields(res) != t->def->ncols) {
            snap_fail(s, "snapshot: table %s.%s: %d columns fetched, %d described", t->schema,
                      t->name, PQnfields(res), t->def->ncols);
            goto out;
        }
        for (int r = 0; r < n; r++) {
            value *vals = snap_row_parse(s, t, res, r, rowno++);
            if (!vals)
                goto out;
            if (snap_pending_flush(s, 0) < 0)
                goto out;
            s->pend_t = t;
            s->pend_vals = vals;
        }
        snap_pending_keep(s);
        PQclear(res);
        res = NULL;
        arena_reset(s->batch);
    }
    if (snap_exec(s, what, "CLOSE " SNAP_CURSOR) < 0)
        goto out;
    rc = 0;
out:
    PQclear(res);
    arena_reset(s->batch);
    buf_free(&sql);
    return rc;
}

static int64_t snap_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void snap_tables_free(snap *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        snap_table *t = &s->tables[i];
        free(t->schema);
        free(t->name);
        free(t->attnames);
        free(t->rowfilter);
        free(t->order_cols);
        free(t->select_sql);
    }
    free(s->tables);
}

int pg_snapshot_run(PGconn *c, pg_schema *schema, const pg_snapshot_options *opts,
                    const pg_decode_handler *h, metrics *m, volatile int *stop, char *err,
                    size_t errlen)
{
    snap s = {0};
    s.c = c;
    s.schema = schema;
    s.opts = opts;
    s.h = h;
    s.m = m;
    s.stop = stop;
    s.err = err;
    s.errlen = errlen;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!c || !schema || !opts || !opts->publication) {
        snap_fail(&s, "snapshot: missing connection, schema registry or publication");
        return -1;
    }
    s.batch = arena_create(64 * 1024);
    s.pend = arena_create(16 * 1024);
    if (!s.batch || !s.pend) {
        snap_fail(&s, "snapshot: out of memory");
        goto out;
    }
    s.tx.xid = 0;
    s.tx.final_lsn = opts->consistent_lsn;
    s.tx.end_lsn = opts->consistent_lsn;
    s.tx.commit_time_us = snap_now_us();

    if (snap_begin(&s) < 0 || snap_tables_list(&s) < 0)
        goto out;
    for (size_t i = 0; i < s.ntables; i++)
        if (snap_table_describe(&s, &s.tables[i]) < 0)
            goto out;
    snap_metrics_register(&s);

    if (h && h->begin) {
        if (err && errlen)
            err[0] = '\0';
        if (snap_handler_failed(&s, h->begin(h->arg, &s.tx, err, errlen), "begin") < 0)
            goto out;
    }
    for (size_t i = 0; i < s.ntables; i++) {
        if (!s.tables[i].changed || !h || !h->schema)
            continue;
        if (err && errlen)
            err[0] = '\0';
        if (snap_handler_failed(&s, h->schema(h->arg, s.tables[i].def, err, errlen), "schema") < 0)
            goto out;
    }
    for (size_t i = 0; i < s.ntables; i++) {
        if (snap_table_read(&s, &s.tables[i]) < 0)
            goto out;
        if (s.tables_done)
            metric_set(s.tables_done, (double)(i + 1));
    }
    if (snap_pending_flush(&s, 1) < 0)
        goto out;
    if (snap_exec(&s, "COMMIT", "COMMIT") < 0)
        goto out;
    if (h && h->commit) {
        if (err && errlen)
            err[0] = '\0';
        if (snap_handler_failed(&s, h->commit(h->arg, &s.tx, err, errlen), "commit") < 0)
            goto out;
    }
    rc = 0;
out:
    if (PQtransactionStatus(c) != PQTRANS_IDLE && PQtransactionStatus(c) != PQTRANS_UNKNOWN)
        PQclear(PQexec(c, "ROLLBACK"));
    snap_tables_free(&s);
    arena_destroy(s.batch);
    arena_destroy(s.pend);
    return rc;
}
