/* pg_catalog: tables described from the system catalogs as pgoutput describes them (see
 * pg_catalog.h). Parameterised catalog queries only; the column and key rules follow pgoutput's
 * logicalrep_write_attrs and RelationGetIdentityKeyBitmap. */
#include "capture/pg_catalog.h"
#include "core/errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"

#define CAT_FIRST_USER_OID 16384   /* FirstNormalObjectId */

/* SQL for the labels of attribute a's type when it is an enum, as Debezium lists them: in sort
 * order, comma-separated; NULL for other types. */
#define CAT_ENUM_LABELS                                                                            \
    "(SELECT pg_catalog.string_agg(e.enumlabel::pg_catalog.text, ',' ORDER BY e.enumsortorder)"   \
    " FROM pg_catalog.pg_enum e WHERE e.enumtypid = a.atttypid)"

/* Run a parameterised query returning rows; NULL with libpq's reason (no trailing newline). */
static PGresult *cat_query(PGconn *c, const char *what, const char *sql, int n,
                           const char *const *params, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    const char *msg = PQresultErrorMessage(res);
    if (!msg || !*msg)
        msg = PQerrorMessage(c);
    size_t len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    err_setf(err, errlen, "%s: %.*s", what, (int)len, len ? msg : "unknown error");
    PQclear(res);
    return NULL;
}

int pg_catalog_name_parse(const char *s, char *schema, size_t schemalen, char *name, size_t namelen)
{
    char part[2][256];
    size_t len[2] = {0, 0};
    int k = 0, inq = 0, quoted[2] = {0, 0};
    for (const char *p = s; *p; p++) {
        if (*p == '"') {
            if (inq && p[1] == '"') {
                p++;
            } else {
                inq = !inq;
                quoted[k] = 1;
                continue;
            }
        } else if (*p == '.' && !inq) {
            if (k == 1)
                return -1;
            k = 1;
            continue;
        }
        if (len[k] + 1 >= sizeof part[k])
            return -1;
        part[k][len[k]++] = *p;
    }
    if (inq)
        return -1;
    for (int j = 0; j <= k; j++) {
        part[j][len[j]] = '\0';
        if (!len[j] && !quoted[j])
            return -1;
    }
    const char *sch = k ? part[0] : "public", *nm = k ? part[1] : part[0];
    if (strlen(sch) >= schemalen || strlen(nm) >= namelen)
        return -1;
    snprintf(schema, schemalen, "%s", sch);
    snprintf(name, namelen, "%s", nm);
    return 0;
}

long pg_catalog_name_list_parse(const char *list, pg_table_name **out, char *err, size_t errlen)
{
    size_t n = 0, cap = 0;
    pg_table_name *t = NULL;
    const char *p = list;
    *out = NULL;
    while (*p) {
        p += strspn(p, " \t\r\n,");
        if (!*p)
            break;
        const char *e = p;
        for (int inq = 0; *e && (inq || *e != ','); e++)
            if (*e == '"')
                inq = !inq;
        size_t len = (size_t)(e - p);
        while (len > 0 && strchr(" \t\r\n", p[len - 1]))
            len--;
        char item[600];
        if (len >= sizeof item)
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            pg_table_name *nt = realloc(t, ncap * sizeof *t);
            if (!nt)
                goto bad;
            t = nt;
            cap = ncap;
        }
        if (pg_catalog_name_parse(item, t[n].schema, sizeof t[n].schema, t[n].name, sizeof t[n].name) < 0)
            goto bad;
        n++;
        p = e;
    }
    *out = t;
    return (long)n;
bad:
    err_setf(err, errlen, "cannot read the table list '%s' (use table or schema.table, comma-separated)",
             list);
    free(t);
    return -1;
}

int pg_catalog_table_lookup(PGconn *c, const char *schema, const char *name, uint32_t *oid,
                            char *relkind, char *err, size_t errlen)
{
    const char *params[2] = {schema, name};
    PGresult *res = cat_query(c, "looking up the table",
                              "SELECT c.oid, c.relkind FROM pg_catalog.pg_class c"
                              " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
                              2, params, err, errlen);
    if (!res)
        return -1;
    int found = PQntuples(res) > 0;
    if (found) {
        *oid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        if (relkind)
            *relkind = PQgetvalue(res, 0, 1)[0];
    } else {
        err_setf(err, errlen, "no table %s.%s", schema, name);
    }
    PQclear(res);
    return found;
}

static char *cat_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

/* The type's name as the schema registry knows it: built-in name, else "schema.type". */
static char *cat_type_name(arena *a, uint32_t oid, const char *nsp, const char *typ)
{
    const char *builtin = pg_type_name(oid);
    if (builtin)
        return cat_strdup(a, builtin);
    if (oid < CAT_FIRST_USER_OID)
        return cat_strdup(a, typ);
    size_t n = strlen(nsp) + 1 + strlen(typ);
    char *p = arena_alloc(a, n + 1);
    snprintf(p, n + 1, "%s.%s", nsp, typ);
    return p;
}

/* Index of the column with attnum in the described columns, or -1. */
static int cat_col_of(const int16_t *attnums, int ncols, int16_t attnum)
{
    for (int i = 0; i < ncols; i++)
        if (attnums[i] == attnum)
            return i;
    return -1;
}

/* Positions of the key's attnums among the described columns into out: the key's length, or 0
 * when a key column is not described (outside the column list). */
static int cat_cols_map(int *out, const int16_t *key, int nkey, const int16_t *attnums, int ncols)
{
    for (int i = 0; i < nkey; i++)
        if ((out[i] = cat_col_of(attnums, ncols, key[i])) < 0)
            return 0;
    return nkey;
}

static int cat_attnum_in(const int16_t *set, int n, int16_t attnum)
{
    for (int i = 0; i < n; i++)
        if (set[i] == attnum)
            return 1;
    return 0;
}

int pg_catalog_table_describe(PGconn *c, uint32_t oid, const char *attnames,
                              pg_catalog_table *out, char *err, size_t errlen)
{
    char oidtext[16];
    PGresult *rel = NULL, *cols = NULL, *keys = NULL;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!(out->mem = arena_create(16 * 1024)))
        return err_setf(err, errlen, "out of memory");
    snprintf(oidtext, sizeof oidtext, "%u", oid);
    const char *params[2] = {oidtext, attnames};

    rel = cat_query(c, "reading the table",
                    "SELECT n.nspname, c.relname, c.relreplident, c.relkind"
                    " FROM pg_catalog.pg_class c"
                    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.oid = $1::pg_catalog.oid",
                    1, params, err, errlen);
    if (!rel)
        goto out;
    if (PQntuples(rel) == 0) {
        err_setf(err, errlen, "table oid %u does not exist", oid);
        goto out;
    }
    cols = cat_query(c, "reading the table's columns",
                     "SELECT a.attnum, a.attname, a.atttypid, a.atttypmod, tn.nspname, t.typname,"
                     " a.attnotnull, " CAT_ENUM_LABELS
                     " FROM pg_catalog.pg_attribute a"
                     " JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
                     " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace"
                     " WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped"
                     "   AND a.attgenerated = ''"
                     "   AND ($2::pg_catalog.name[] IS NULL OR a.attname = ANY ($2::pg_catalog.name[]))"
                     " ORDER BY a.attnum",
                     2, params, err, errlen);
    if (!cols)
        goto out;
    keys = cat_query(
        c, "reading the table's keys",
        "SELECT i.indisprimary, i.indisreplident,"
        " i.indislive AND i.indisvalid AND i.indisunique AND i.indimmediate AND i.indpred IS NULL,"
        " k.attnum, a.attname"
        " FROM pg_catalog.pg_index i"
        " CROSS JOIN LATERAL unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)"
        " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE i.indrelid = $1::pg_catalog.oid AND (i.indisprimary OR i.indisreplident)"
        " ORDER BY i.indexrelid, k.ord",
        1, params, err, errlen);
    if (!keys)
        goto out;

    arena *a = out->mem;
    table_def *def = &out->def;
    def->oid = oid;
    def->schema = cat_strdup(a, PQgetvalue(rel, 0, 0));
    def->name = cat_strdup(a, PQgetvalue(rel, 0, 1));
    def->replica_identity = PQgetvalue(rel, 0, 2)[0];
    out->relkind = PQgetvalue(rel, 0, 3)[0];

    /* keys first: is_key depends on them */
    int nk = PQntuples(keys);
    int16_t *pk = arena_alloc(a, (size_t)nk * sizeof *pk + 1);
    int16_t *ri = arena_alloc(a, (size_t)nk * sizeof *ri + 1);
    out->pk_names = arena_alloc(a, (size_t)nk * sizeof *out->pk_names + 1);
    out->ri_names = arena_alloc(a, (size_t)nk * sizeof *out->ri_names + 1);
    int npk = 0, nri = 0;
    for (int i = 0; i < nk; i++) {
        int16_t attnum = (int16_t)atoi(PQgetvalue(keys, i, 3));
        int usable = PQgetvalue(keys, i, 2)[0] == 't';
        char *name = PQgetisnull(keys, i, 4) ? NULL : cat_strdup(a, PQgetvalue(keys, i, 4));
        if (PQgetvalue(keys, i, 0)[0] == 't') {
            out->pk_usable = usable;
            pk[npk++] = attnum;
            if (name)
                out->pk_names[out->npk_names++] = name;
        }
        if (PQgetvalue(keys, i, 1)[0] == 't' && usable) {
            ri[nri++] = attnum;
            if (name)
                out->ri_names[out->nri_names++] = name;
        }
    }

    def->ncols = PQntuples(cols);
    def->cols = arena_alloc(a, (size_t)def->ncols * sizeof *def->cols + 1);
    int16_t *attnums = arena_alloc(a, (size_t)def->ncols * sizeof *attnums + 1);
    for (int i = 0; i < def->ncols; i++) {
        column_def *col = &def->cols[i];
        memset(col, 0, sizeof *col);
        attnums[i] = (int16_t)atoi(PQgetvalue(cols, i, 0));
        col->name = cat_strdup(a, PQgetvalue(cols, i, 1));
        col->type_oid = (uint32_t)strtoul(PQgetvalue(cols, i, 2), NULL, 10);
        col->typmod = (int32_t)strtol(PQgetvalue(cols, i, 3), NULL, 10);
        col->type_name = cat_type_name(a, col->type_oid, PQgetvalue(cols, i, 4), PQgetvalue(cols, i, 5));
        col->elem_kind = VALUE_TEXT;
        col->kind = pg_type_kind(col->type_oid, &col->elem_kind);
        col->is_pk = cat_attnum_in(pk, npk, attnums[i]);
        col->not_null = PQgetvalue(cols, i, 6)[0] == 't';
        col->enum_labels = PQgetisnull(cols, i, 7) ? NULL : cat_strdup(a, PQgetvalue(cols, i, 7));
        switch (def->replica_identity) {
        case 'f': col->is_key = 1; break;
        case 'd': col->is_key = out->pk_usable && cat_attnum_in(pk, npk, attnums[i]); break;
        case 'i': col->is_key = cat_attnum_in(ri, nri, attnums[i]); break;
        default: col->is_key = 0; break;
        }
    }

    /* key column positions in def; a key with a column outside the column list is unusable */
    out->pk = arena_alloc(a, (size_t)npk * sizeof *out->pk + 1);
    out->ri = arena_alloc(a, (size_t)nri * sizeof *out->ri + 1);
    out->npk = cat_cols_map(out->pk, pk, npk, attnums, def->ncols);
    out->nri = cat_cols_map(out->ri, ri, nri, attnums, def->ncols);
    if (!npk)
        out->pk_usable = 0;
    rc = 0;
out:
    PQclear(rel);
    PQclear(cols);
    PQclear(keys);
    if (rc < 0)
        pg_catalog_table_free(out);
    return rc;
}

int pg_catalog_table_complete(PGconn *c, table_def *def, arena *a, char *err, size_t errlen)
{
    char oidtext[16];
    snprintf(oidtext, sizeof oidtext, "%u", def->oid);
    const char *params[1] = {oidtext};
    PGresult *res = cat_query(
        c, "reading the table's keys and column types",
        "SELECT a.attname, a.attnotnull,"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary"
        "         AND a.attnum = ANY (i.indkey::pg_catalog.int2[])), " CAT_ENUM_LABELS
        " FROM pg_catalog.pg_class c"
        " LEFT JOIN pg_catalog.pg_attribute a"
        "   ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.oid = $1::pg_catalog.oid",
        1, params, err, errlen);
    if (!res)
        return -1;
    int rows = PQntuples(res);
    for (int i = 0; i < def->ncols; i++) {
        column_def *col = &def->cols[i];
        col->is_pk = col->not_null = 0;
        col->enum_labels = NULL;
        for (int j = 0; j < rows; j++) {
            if (PQgetisnull(res, j, 0) || strcmp(PQgetvalue(res, j, 0), col->name) != 0)
                continue;
            col->not_null = PQgetvalue(res, j, 1)[0] == 't';
            col->is_pk = PQgetvalue(res, j, 2)[0] == 't';
            if (!PQgetisnull(res, j, 3))
                col->enum_labels = cat_strdup(a, PQgetvalue(res, j, 3));
            break;
        }
    }
    PQclear(res);
    return rows > 0;
}

void pg_catalog_table_free(pg_catalog_table *t)
{
    if (!t)
        return;
    arena_destroy(t->mem);
    memset(t, 0, sizeof *t);
}

int pg_catalog_table_order_key(const pg_catalog_table *t, const int **cols)
{
    if (t->def.replica_identity == 'i' && t->nri) {
        *cols = t->ri;
        return t->nri;
    }
    if (t->npk) {
        *cols = t->pk;
        return t->npk;
    }
    *cols = t->ri;
    return t->nri;
}

long pg_catalog_partitions(PGconn *c, uint32_t oid, uint32_t **out, char *err, size_t errlen)
{
    char oidtext[16];
    snprintf(oidtext, sizeof oidtext, "%u", oid);
    const char *params[1] = {oidtext};
    *out = NULL;
    PGresult *res = cat_query(c, "listing the partitions",
                              "SELECT relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree($1::pg_catalog.oid)"
                              " WHERE isleaf",
                              1, params, err, errlen);
    if (!res)
        return -1;
    long n = PQntuples(res);
    *out = calloc(n ? (size_t)n : 1, sizeof **out);
    if (!*out) {
        PQclear(res);
        return err_setf(err, errlen, "out of memory");
    }
    for (long i = 0; i < n; i++)
        (*out)[i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
    PQclear(res);
    return n;
}
