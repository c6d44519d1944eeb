/* parquet_writer: writes one Parquet file, row by row, through a byte_output callback (a file,
 * a buffer, later an object store upload): flat schema with Iceberg field ids, required and
 * optional columns, PLAIN and dictionary encodings, data page v1 with statistics, column-chunk
 * statistics, row groups cut at a size in bytes, no/zstd/snappy compression. Memory is bounded by
 * the open row group (each column's compressed pages, one page in progress and a dictionary).
 * The file's bytes go out in order: the magic at create, each row group when it is cut, the
 * footer at close. Rolling files at a target size is the caller's job (parquet_writer_bytes).
 *
 * Ownership: create copies the schema, the options' strings and key-value metadata; the output
 * (and its ctx) is borrowed until destroy. Values passed to write_row are read during the call
 * only. The info filled by close points into the writer: valid until parquet_writer_destroy.
 * Errors: a rejected row (NULL in a required column, wrong value type, decimal out of its
 * precision, invalid UTF-8, uuid not 16 bytes) returns -1 with the reason and leaves the writer
 * usable, the row not written; an output or compression failure makes the writer failed: every
 * later call returns -1 with that reason. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_WRITER_H
#define SLUICE_SINKS_LAKE_PARQUET_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/lake/parquet_codec.h"
#include "sinks/lake/parquet_meta.h"
#include "core/byte_output.h"
#include "sinks/lake/parquet_types.h"

typedef struct parquet_options {
    parquet_compression compression;   /* PARQUET_COMPRESSION_NONE / _SNAPPY / _ZSTD */
    int compression_level;             /* zstd; 0: 3 */
    bool dictionary;                   /* dictionary-encode columns (not booleans) */
    size_t row_group_bytes;            /* 0: 128 MiB (checked every 64 rows or 64 KiB of values) */
    size_t page_bytes;                 /* 0: 1 MiB */
    size_t dictionary_bytes;           /* a chunk's dictionary falls back to PLAIN past this; 0: 1 MiB */
    size_t stats_bytes;                /* longer byte-array bounds are truncated; 0: 64 */
    const parquet_kv *metadata;        /* key-value metadata for the footer (e.g. iceberg.schema) */
    size_t nmetadata;
    const char *created_by;            /* NULL: "sluice version <version>" */
} parquet_options;

/* The defaults: zstd, dictionary on, and the sizes above. */
void parquet_options_default(parquet_options *o);

/* What close reports, per column keyed by field id as Iceberg manifests need (column sizes,
 * value counts, null and NaN counts, lower and upper bounds). */
typedef struct parquet_column_info {
    const char *name;
    int32_t field_id;
    uint64_t compressed_bytes;    /* all chunks of the column, page headers included */
    uint64_t uncompressed_bytes;
    uint64_t values;              /* including nulls (Iceberg's value_counts) */
    uint64_t nulls;
    uint64_t nans;
    /* Exact bounds (PARQUET_VALUE_NULL when the column has no non-null, non-NaN value); byte
     * arrays point into the writer. */
    parquet_value min, max;
} parquet_column_info;

typedef struct parquet_file_info {
    uint64_t rows;
    uint64_t bytes;               /* the file's size */
    uint64_t row_groups;
    const uint64_t *row_group_offsets;   /* file offset of each row group (Iceberg split_offsets) */
    size_t ncolumns;
    const parquet_column_info *columns;   /* schema order */
} parquet_file_info;

typedef struct parquet_writer parquet_writer;

/* A writer of schema s (at least one column, unique names) with options o (NULL: defaults)
 * into out; writes the leading magic. NULL with the reason in err. */
parquet_writer *parquet_writer_create(const parquet_schema *s, const parquet_options *o, const byte_output *out,
                                      char *err, size_t errlen);

/* Append one row: row[i] is the value of column i (schema->ncolumns values). May cut a row group
 * (and so write to the output). 0, or -1 with the reason in err. */
int parquet_writer_write_row(parquet_writer *w, const parquet_value *row, char *err, size_t errlen);

/* Cut the open row group now (nothing when it has no rows). 0 or -1 with err. */
int parquet_writer_flush(parquet_writer *w, char *err, size_t errlen);

/* Bytes already given to the output, and bytes held for the open row group (an estimate of what
 * it will add): their sum is what to compare with a file-roll target. */
uint64_t parquet_writer_bytes_written(const parquet_writer *w);
uint64_t parquet_writer_bytes_buffered(const parquet_writer *w);
uint64_t parquet_writer_rows(const parquet_writer *w);

/* Write the last row group and the footer; fill info (may be NULL). The writer accepts no more
 * rows. 0, or -1 with err. */
int parquet_writer_close(parquet_writer *w, parquet_file_info *info, char *err, size_t errlen);

void parquet_writer_destroy(parquet_writer *w);   /* accepts NULL; does not write anything */

#endif
