/* silver_layout: how a source table's columns map onto one silver Iceberg table's schema, and
 * how that schema evolves when the source's columns change. A new table gets the source columns
 * (field ids 1..n in order; primary-key columns required and, for the current table, the
 * identifier fields) and then the writer's own columns (the history table's version columns).
 * An existing table keeps its fields and ids: a source column it has keeps its field (its type
 * promoted where Iceberg allows: int to long, float to double, a decimal to a larger precision
 * of the same scale; a narrower source type is written into the wider column); a new source
 * column becomes a new optional field (id after last-column-id); a column gone from the source
 * stays, optional, written as null. Anything else (another type change, a changed primary key)
 * is refused with the reason.
 *
 * Ownership: a layout owns its arrays and strings (silver_layout_free); the inputs are read
 * during the call only. */
#ifndef SLUICE_SINKS_LAKE_SILVER_LAYOUT_H
#define SLUICE_SINKS_LAKE_SILVER_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/event.h"
#include "sinks/lake/iceberg_metadata.h"
#include "sinks/lake/parquet_types.h"

/* A column the writer adds (not from the source). */
typedef struct silver_system_column {
    const char *name;
    parquet_type type;
    bool optional;
} silver_system_column;

/* What a table column holds: a source column's index (>= 0), or one of these. */
#define SILVER_COLUMN_DROPPED (-1)              /* gone from the source: null */
#define SILVER_COLUMN_SYSTEM(k) (-100 - (k))    /* the writer's column k */
#define SILVER_COLUMN_SYSTEM_INDEX(src) (-100 - (src))

typedef struct silver_layout {
    size_t ncolumns;
    iceberg_schema_field *fields;   /* the table schema, in order */
    parquet_column_def *columns;    /* the data files' columns, one per field */
    int *source;                    /* per column: see above */
    int changed;                    /* differs from the existing schema: it must be updated */
} silver_layout;

/* The layout of a table for source table def. exists: the table exists, with schema existing
 * (nexisting fields) and last_column_id (else a table to create); system: the writer's columns;
 * identifiers: the primary key columns are the identifier fields. 0, or -1 with err. */
int silver_layout_build(silver_layout *out, const table_def *def, bool exists, const iceberg_schema_field *existing,
                        size_t nexisting, int32_t last_column_id, const silver_system_column *system,
                        size_t nsystem, bool identifiers, char *err, size_t errlen);

/* The table column of source column i, or -1. */
int silver_layout_column_of(const silver_layout *l, int i);

void silver_layout_free(silver_layout *l);   /* accepts a zeroed layout */

#endif
