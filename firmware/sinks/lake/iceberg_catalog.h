/* iceberg_catalog: where a table's current metadata file is recorded, as a small const ops
 * table: load a table's metadata location, and commit a new one with compare-and-swap against
 * the location the writer started from. Implementations: SQL in the appliance's SQLite store
 * (iceberg_catalog_sqlite.h, the Iceberg JDBC catalog's iceberg_tables layout); PostgreSQL and
 * REST catalogs (AWS Glue, S3 Tables) implement the same ops later; test doubles too.
 * Every call returns ICEBERG_CATALOG_OK or a negative iceberg_catalog_status with the reason in
 * err. Ownership: iceberg_catalog_destroy frees the catalog; load's *location is malloc'd and
 * the caller frees it. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_CATALOG_H
#define SLUICE_SINKS_LAKE_ICEBERG_CATALOG_H

#include <stddef.h>

typedef enum iceberg_catalog_status {
    ICEBERG_CATALOG_OK = 0,
    ICEBERG_CATALOG_ERR = -1,         /* failed; reason in err */
    ICEBERG_CATALOG_NOT_FOUND = -2,   /* load: no such table */
    ICEBERG_CATALOG_CONFLICT = -3,    /* commit: the table's location is no longer the expected one */
} iceberg_catalog_status;

/* A table's name: namespace ("shop" or "shop.public": levels joined by '.') and name. */
typedef struct iceberg_table_ident {
    const char *ns;
    const char *name;
} iceberg_table_ident;

typedef struct iceberg_catalog iceberg_catalog;

typedef struct iceberg_catalog_ops {
    /* The table's current metadata location into *location (malloc'd), or NOT_FOUND. */
    int (*load_table)(iceberg_catalog *c, const iceberg_table_ident *t, char **location, char *err,
                      size_t errlen);
    /* Point the table at new_location if it is still at expected; expected NULL creates the table
     * (CONFLICT when it already exists). OK or CONFLICT (nothing changed) or ERR. */
    int (*commit)(iceberg_catalog *c, const iceberg_table_ident *t, const char *expected,
                  const char *new_location, char *err, size_t errlen);
    void (*destroy)(iceberg_catalog *c);
} iceberg_catalog_ops;

/* Every implementation starts with this. */
struct iceberg_catalog {
    const iceberg_catalog_ops *ops;
};

static inline int iceberg_catalog_load_table(iceberg_catalog *c, const iceberg_table_ident *t, char **location,
                                             char *err, size_t errlen)
{
    return c->ops->load_table(c, t, location, err, errlen);
}

static inline int iceberg_catalog_commit(iceberg_catalog *c, const iceberg_table_ident *t, const char *expected,
                                         const char *new_location, char *err, size_t errlen)
{
    return c->ops->commit(c, t, expected, new_location, err, errlen);
}

/* Accepts NULL. */
static inline void iceberg_catalog_destroy(iceberg_catalog *c)
{
    if (c)
        c->ops->destroy(c);
}

#endif
