/* pg_catalog: a table described from the system catalogs exactly as pgoutput's Relation message
 * describes it (columns in attnum order without dropped and generated columns, optionally limited
 * to a publication's column list; is_key for the replica identity, every column under FULL; is_pk,
 * not_null and enum labels, which the message lacks), plus its primary key and usable replica identity index, which order and chunk reads of the table.
 * Shared by the initial snapshot (pg_snapshot.c) and incremental snapshots (pg_incremental.c).
 * Ownership: everything a pg_catalog_table points to is owned by it (pg_catalog_table_free). */
#ifndef SLUICE_CAPTURE_PG_CATALOG_H
#define SLUICE_CAPTURE_PG_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "core/arena.h"
#include "pipeline/event.h"

typedef struct pg_catalog_table {
    char relkind;           /* 'r' table, 'p' partitioned table */
    table_def def;          /* oid, schema, name, replica_identity, columns; version 0 */
    int *pk;                /* def column indexes of the primary key, in key order */
    int npk;
    int pk_usable;          /* live, valid, unique, immediate, no predicate (pgoutput's test) */
    int *ri;                /* def column indexes of the usable REPLICA IDENTITY USING INDEX index */
    int nri;
    char **pk_names;        /* every primary key column's name in key order, also those outside
                             * def (a column list leaves them out); npk_names 0: no primary key */
    int npk_names;
    char **ri_names;        /* likewise for the usable replica identity index */
    int nri_names;
    arena *mem;             /* owns def's strings and the arrays above */
} pg_catalog_table;

/* Split a table name "schema.table" or "table" (schema public) into exact names; double quotes
 * keep dots ("my.schema"."t"), "" inside them is a quote. 0, or -1 when malformed or too long. */
int pg_catalog_name_parse(const char *s, char *schema, size_t schemalen, char *name, size_t namelen);

/* A table named in configuration, after pg_catalog_name_parse. */
typedef struct pg_table_name {
    char schema[128], name[128];
} pg_table_name;

/* Split a comma-separated list of such names (blanks around items ignored; quotes keep commas).
 * Returns the count with *out malloc'd (caller frees), or -1 with the reason in err. */
long pg_catalog_name_list_parse(const char *list, pg_table_name **out, char *err, size_t errlen);

/* The oid of the table schema.name (exact names, no quoting or case folding). 1 when found (a
 * plain or partitioned table; *relkind may be NULL), 0 when there is no such table (reason in
 * err), -1 on a query error (reason in err). */
int pg_catalog_table_lookup(PGconn *c, const char *schema, const char *name, uint32_t *oid,
                            char *relkind, char *err, size_t errlen);

/* Describe the table oid into *out (zeroed first). attnames: the publication's column list as a
 * name[] literal (pg_publication_tables.attnames), or NULL for every column.
 * 0, or -1 with the reason in err (query failed, table gone); free with pg_catalog_table_free. */
int pg_catalog_table_describe(PGconn *c, uint32_t oid, const char *attnames,
                              pg_catalog_table *out, char *err, size_t errlen);
void pg_catalog_table_free(pg_catalog_table *t);

/* Complete def (as a pgoutput Relation message describes it) with what the message does not
 * carry, matching columns by name: column_def is_pk, not_null and enum_labels (allocated in a).
 * The catalogs are read as they are now, not as of the message's WAL position (as Debezium
 * does). 1 when done, 0 when the table no longer exists (def untouched beyond clearing those
 * fields), -1 with the reason in err when the query fails. */
int pg_catalog_table_complete(PGconn *c, table_def *def, arena *a, char *err, size_t errlen);

/* The columns that order (and chunk) reads of the table: the usable replica identity index's
 * under REPLICA IDENTITY USING INDEX (so old keys in the stream carry them), else the primary
 * key's, else the replica identity index's. Returns the count (0: no usable unique key) with
 * *cols pointing into t. Every index refers to def.cols. */
int pg_catalog_table_order_key(const pg_catalog_table *t, const int **cols);

/* The oids of the leaf partitions of partitioned table oid (changes of a partitioned table
 * stream under its partitions' oids unless the publication publishes via the root), malloc'd
 * into *out (free()). Count, or -1 with the reason in err. */
long pg_catalog_partitions(PGconn *c, uint32_t oid, uint32_t **out, char *err, size_t errlen);

#endif
