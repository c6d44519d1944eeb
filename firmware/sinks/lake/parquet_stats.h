/* parquet_stats: column statistics in Parquet's type-defined order (ColumnOrder TypeDefinedOrder):
 * null and NaN counts, min and max. Signed for integers, dates, times, timestamps and decimals
 * (whatever their physical type), unsigned byte-wise for strings, binary and uuids, IEEE for
 * floats with NaN excluded (and -0.0 written as the min, +0.0 as the max of a zero). Min and max
 * are kept whole; the Statistics encoding may truncate long byte arrays (min: a prefix; max: a
 * prefix incremented, on a code point boundary for strings), flagged as inexact.
 * Ownership: a parquet_stats owns copies of its byte-array min/max (parquet_stats_free). */
#ifndef SLUICE_SINKS_LAKE_PARQUET_STATS_H
#define SLUICE_SINKS_LAKE_PARQUET_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/parquet_types.h"

typedef struct parquet_stats {
    uint64_t values;     /* non-null values */
    uint64_t nulls;
    uint64_t nans;       /* float/double NaNs (counted in values, not in min/max) */
    bool has_minmax;     /* some non-null, non-NaN value was seen */
    parquet_value min, max;   /* byte arrays point into min_buf / max_buf */
    buf min_buf, max_buf;
} parquet_stats;

/* Forget everything but keep the memory; free it. A zeroed parquet_stats is an empty one. */
void parquet_stats_reset(parquet_stats *s);
void parquet_stats_free(parquet_stats *s);

/* Compare two non-null values of column c in its type-defined order: <0, 0, >0 (NaNs are
 * not ordered: callers exclude them; -0.0 and +0.0 compare equal). */
int parquet_value_compare(const parquet_column_def *c, const parquet_value *a, const parquet_value *b);

/* Count one value (a checked value of column c, NULL included). */
void parquet_stats_add(parquet_stats *s, const parquet_column_def *c, const parquet_value *v);
/* Add src's counts and bounds into dst. */
void parquet_stats_merge(parquet_stats *dst, const parquet_stats *src, const parquet_column_def *c);

/* The Statistics min_value/max_value bytes (PLAIN encoding without a length prefix; decimals in
 * their physical type: little-endian INT32/INT64 or big-endian fixed bytes), byte arrays longer
 * than limit truncated as described above (*exact false). Appends to min and max. false when
 * there are no bounds to write (no values, only NaNs, or a max that cannot be incremented). */
bool parquet_stats_encode(const parquet_stats *s, const parquet_column_def *c, size_t limit, buf *min,
                          bool *min_exact, buf *max, bool *max_exact);

#endif
