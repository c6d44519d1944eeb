/* iceberg_catalog_sqlite: the SQL catalog in SQLite (see the header). Each call is one
 * statement under store_lock, so sqlite3_changes() and the error text are this call's. */
#include "sinks/lake/iceberg_catalog_sqlite.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct catalog_sqlite {
    iceberg_catalog base;
    store *st;
    char *name;
} catalog_sqlite;

static int bind_ident(sqlite3_stmt *q, const catalog_sqlite *c, const iceberg_table_ident *t)
{
    if (sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(q, 2, t->ns, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(q, 3, t->name, -1, SQLITE_STATIC) != SQLITE_OK)
        return -1;
    return 0;
}

static int ident_check(const iceberg_table_ident *t, char *err, size_t errlen)
{
    if (!t->ns || !*t->ns || !t->name || !*t->name) {
        snprintf(err, errlen, "a table needs a namespace and a name");
        return -1;
    }
    return 0;
}

static int sqlite_load_table(iceberg_catalog *base, const iceberg_table_ident *t, char **location, char *err,
                             size_t errlen)
{
    catalog_sqlite *c = (catalog_sqlite *)base;
    sqlite3 *db = store_db(c->st);
    sqlite3_stmt *q = NULL;
    int rc = ICEBERG_CATALOG_ERR;
    *location = NULL;
    if (ident_check(t, err, errlen) != 0)
        return ICEBERG_CATALOG_ERR;
    store_lock(c->st);
    if (sqlite3_prepare_v2(db,
                           "SELECT metadata_location FROM iceberg_tables"
                           " WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?",
                           -1, &q, NULL) != SQLITE_OK ||
        bind_ident(q, c, t) != 0) {
        snprintf(err, errlen, "catalog load %s.%s: %s", t->ns, t->name, sqlite3_errmsg(db));
        goto out;
    }
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        snprintf(err, errlen, "catalog: no table %s.%s", t->ns, t->name);
        rc = ICEBERG_CATALOG_NOT_FOUND;
    } else if (step == SQLITE_ROW && sqlite3_column_text(q, 0)) {
        *location = strdup((const char *)sqlite3_column_text(q, 0));
        if (*location)
            rc = ICEBERG_CATALOG_OK;
        else
            snprintf(err, errlen, "out of memory");
    } else if (step == SQLITE_ROW) {
        snprintf(err, errlen, "catalog: table %s.%s has no metadata location", t->ns, t->name);
    } else {
        snprintf(err, errlen, "catalog load %s.%s: %s", t->ns, t->name, sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(q);
    store_unlock(c->st);
    return rc;
}

static int sqlite_commit(iceberg_catalog *base, const iceberg_table_ident *t, const char *expected,
                         const char *new_location, char *err, size_t errlen)
{
    catalog_sqlite *c = (catalog_sqlite *)base;
    sqlite3 *db = store_db(c->st);
    sqlite3_stmt *q = NULL;
    int rc = ICEBERG_CATALOG_ERR;
    if (ident_check(t, err, errlen) != 0)
        return ICEBERG_CATALOG_ERR;
    if (!new_location || !*new_location) {
        snprintf(err, errlen, "catalog commit: no new metadata location");
        return ICEBERG_CATALOG_ERR;
    }
    const char *sql = expected ? "UPDATE iceberg_tables SET metadata_location = ?4, previous_metadata_location = ?5"
                                 " WHERE catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3"
                                 " AND metadata_location = ?5"
                               : "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name,"
                                 " metadata_location, previous_metadata_location) VALUES (?1, ?2, ?3, ?4, NULL)"
                                 " ON CONFLICT DO NOTHING";
    store_lock(c->st);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || bind_ident(q, c, t) != 0 ||
        sqlite3_bind_text(q, 4, new_location, -1, SQLITE_STATIC) != SQLITE_OK ||
        (expected && sqlite3_bind_text(q, 5, expected, -1, SQLITE_STATIC) != SQLITE_OK)) {
        snprintf(err, errlen, "catalog commit %s.%s: %s", t->ns, t->name, sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(q) != SQLITE_DONE) {
        snprintf(err, errlen, "catalog commit %s.%s: %s", t->ns, t->name, sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_changes(db) == 1) {
        rc = ICEBERG_CATALOG_OK;
    } else {
        snprintf(err, errlen,
                 expected ? "catalog commit %s.%s: conflict, the table is no longer at the expected metadata"
                          : "catalog commit %s.%s: conflict, the table already exists",
                 t->ns, t->name);
        rc = ICEBERG_CATALOG_CONFLICT;
    }
out:
    sqlite3_finalize(q);
    store_unlock(c->st);
    return rc;
}

static void sqlite_destroy(iceberg_catalog *base)
{
    catalog_sqlite *c = (catalog_sqlite *)base;
    free(c->name);
    free(c);
}

static const iceberg_catalog_ops sqlite_ops = {
    .load_table = sqlite_load_table,
    .commit = sqlite_commit,
    .destroy = sqlite_destroy,
};

iceberg_catalog *iceberg_catalog_sqlite_create(store *st, const char *catalog_name, char *err, size_t errlen)
{
    if (!st || !catalog_name || !*catalog_name) {
        snprintf(err, errlen, "iceberg catalog: needs a store and a catalog name");
        return NULL;
    }
    catalog_sqlite *c = calloc(1, sizeof *c);
    if (!c || !(c->name = strdup(catalog_name))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->base.ops = &sqlite_ops;
    c->st = st;
    return &c->base;
}
