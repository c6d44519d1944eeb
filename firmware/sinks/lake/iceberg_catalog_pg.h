/* iceberg_catalog_pg: the Iceberg catalog (iceberg_catalog.h) in a PostgreSQL database, in the
 * table layout of Iceberg's JDBC catalog, so that several appliances (or Spark, Trino, PyIceberg
 * with a JDBC/SQL catalog on the same database) commit to the same tables. At create it makes
 * iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,
 * previous_metadata_location, iceberg_type: the JDBC catalog's V1 schema) and
 * iceberg_namespace_properties when they are missing, under an advisory lock so that processes
 * starting together do not race; an existing V0 iceberg_tables (without iceberg_type) is used as
 * it is. A commit is one statement, a compare-and-swap:
 *   UPDATE iceberg_tables SET metadata_location = new, previous_metadata_location = expected
 *   WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = expected
 * (creating: INSERT ... ON CONFLICT DO NOTHING); no row changed is a CONFLICT. Values are always
 * bound as parameters. A broken connection is reconnected once per call; a commit retried after
 * that counts as done when the row already holds its new location. Errors start with
 * "iceberg catalog (postgresql): " and never carry the password.
 * Ownership: conninfo, password and the name are copied; the catalog owns its one libpq connection (calls
 * are serialised by a mutex, so threads may share it). */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_CATALOG_PG_H
#define SLUICE_SINKS_LAKE_ICEBERG_CATALOG_PG_H

#include <stddef.h>

#include "sinks/lake/iceberg_catalog.h"

/* Connect to conninfo (key=value or URL; password, when not NULL, is added to it) and make the
 * catalog tables if needed; the catalog named catalog_name (the rows' catalog_name). NULL with
 * the reason in err. */
iceberg_catalog *iceberg_catalog_pg_create(const char *conninfo, const char *password, const char *catalog_name,
                                           char *err, size_t errlen);

#endif
