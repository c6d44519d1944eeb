/* iceberg_catalog_sqlite: the Iceberg catalog (iceberg_catalog.h) in the appliance's SQLite
 * store, in the table layout of Iceberg's JDBC catalog: iceberg_tables (catalog_name,
 * table_namespace, table_name, metadata_location, previous_metadata_location), created by a
 * store migration. A commit is one statement, a compare-and-swap:
 *   UPDATE iceberg_tables SET metadata_location = new, previous_metadata_location = expected
 *   WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = expected
 * so writers in several threads or processes on one database never lose a commit.
 * Ownership: the store is borrowed (it must outlive the catalog); the name is copied. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_CATALOG_SQLITE_H
#define SLUICE_SINKS_LAKE_ICEBERG_CATALOG_SQLITE_H

#include <stddef.h>

#include "sinks/lake/iceberg_catalog.h"
#include "store/store.h"

/* The catalog named catalog_name (the rows' catalog_name) in st. NULL with the reason in err. */
iceberg_catalog *iceberg_catalog_sqlite_create(store *st, const char *catalog_name, char *err, size_t errlen);

#endif
