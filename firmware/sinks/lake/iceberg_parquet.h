/* iceberg_parquet: the bridge from the Parquet writer to Iceberg: a Parquet column's type as
 * Iceberg type text (for the table schema) and back (for columns of an existing table), and a
 * written file's close report (parquet_file_info) as the data file's per-field-id statistics
 * (iceberg_column_stats, bounds in Appendix D bytes) and split offsets.
 * Ownership: iceberg_file_stats owns its arrays and bound bytes; the schema and info are read
 * during the call only. Free with iceberg_file_stats_destroy. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_PARQUET_H
#define SLUICE_SINKS_LAKE_ICEBERG_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/iceberg_manifest.h"
#include "sinks/lake/parquet_writer.h"

/* "long", "decimal(10,2)", "timestamptz", ... into out. 0, or -1 (unknown type, out too small). */
int iceberg_parquet_type_text(const parquet_column_def *c, char *out, size_t outlen);

/* The inverse: Iceberg type text ("long", "decimal(10,2)", "decimal(10, 2)", "timestamptz", ...)
 * into out->type, out->precision and out->scale (0 but for decimals); nothing else of out is
 * touched. Only the primitives the Parquet writer has: not fixed[L], timestamp_ns or nested types.
 * 0, or -1 with the reason in err. */
int iceberg_parquet_type_parse(const char *type, parquet_column_def *out, char *err, size_t errlen);

typedef struct iceberg_file_stats {
    iceberg_column_stats *columns;   /* one per column with a field id, schema order */
    size_t ncolumns;
    int64_t *split_offsets;          /* the row groups' offsets */
    size_t nsplit_offsets;
    buf bounds;                      /* the bound bytes the columns point into */
} iceberg_file_stats;

/* Iceberg's default metrics mode for data files, truncate(16): string and binary bounds keep 16
 * characters (bytes), the upper one rounded up. Position-delete files keep full bounds (0). */
#define ICEBERG_METRICS_TRUNCATE_DEFAULT 16
#define ICEBERG_METRICS_TRUNCATE_MAX 64

/* The statistics of the file info describes, written with schema s (same column order);
 * truncate: 0 for full bounds, else string and binary bounds truncated to that many characters
 * (bytes; at most ICEBERG_METRICS_TRUNCATE_MAX), the upper bound rounded up or left out when it
 * cannot be. NULL with the reason in err (a column count or field id that does not match, a bad
 * bound). */
iceberg_file_stats *iceberg_file_stats_from_parquet(const parquet_schema *s, const parquet_file_info *info,
                                                    size_t truncate, char *err, size_t errlen);

void iceberg_file_stats_destroy(iceberg_file_stats *st);   /* accepts NULL */

#endif
