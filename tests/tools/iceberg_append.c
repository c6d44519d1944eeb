/* iceberg_append: appends Parquet files to an Iceberg v2 table with Sluice's writers
 * (firmware/sinks/lake/parquet_writer, iceberg_table, iceberg_catalog_sqlite or
 * iceberg_catalog_pg), so runtime tests can read the table with independent readers.
 *   iceberg_append --dir DIR (--db STORE.db | --catalog-pg CONNINFO) --table NS.NAME --files K
 *                  --rows R --seed S [--lsn LSN] [--expect ROWS.jsonl]
 * The table lives at key NS/NAME of a local-directory object store on DIR (location
 * file://<DIR>/NS/NAME) and in the SQL catalog "sluice": in the store's SQLite database (--db),
 * or in the PostgreSQL database CONNINFO names (--catalog-pg; its catalog tables are made when
 * missing), so several processes can append to one table. The table is created on first use.
 * One run is one append (one snapshot) of K files of R rows each, the rows computed from the
 * seed: id long (identifier), name string (every 7th null), amount decimal(10,2), flag boolean,
 * ts timestamptz (whole milliseconds), score double (every 5th null). --expect appends the rows
 * as JSON lines {"id","name","amount" (text),"flag","ts" (micros),"score"}.
 * Prints "metadata=<location> version=<N> snapshot=<id> sequence=<n> attempts=<a>".
 * Errors: "iceberg_append: <reason>" on stderr, exit status 1. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/byte_output.h"
#include "objstore/objstore_local.h"
#include "sinks/lake/iceberg_catalog_pg.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"
#include "sinks/lake/iceberg_parquet.h"
#include "sinks/lake/iceberg_table.h"
#include "sinks/lake/parquet_writer.h"
#include "store/store.h"

static const parquet_column_def COLUMNS[] = {
    {"id", 1, false, PARQUET_TYPE_INT64, 0, 0},
    {"name", 2, true, PARQUET_TYPE_STRING, 0, 0},
    {"amount", 3, true, PARQUET_TYPE_DECIMAL, 10, 2},
    {"flag", 4, true, PARQUET_TYPE_BOOLEAN, 0, 0},
    {"ts", 5, true, PARQUET_TYPE_TIMESTAMPTZ, 0, 0},
    {"score", 6, true, PARQUET_TYPE_DOUBLE, 0, 0},
};
#define NCOLS (sizeof COLUMNS / sizeof COLUMNS[0])

#define USAGE                                                                                                   \
    "usage: iceberg_append --dir DIR (--db DB | --catalog-pg CONNINFO) --table NS.NAME --files K --rows R"      \
    " --seed S [--lsn LSN] [--expect ROWS.jsonl]"

static int die(const char *msg)
{
    fprintf(stderr, "iceberg_append: %s\n", msg);
    return 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write file f of the append as Parquet into out, the rows also to expect. 0 or -1. */
static int rows_write(long seed, int f, int nrows, buf *out, FILE *expect, parquet_file_info *info,
                      parquet_writer **wp, char *err, size_t errlen)
{
    parquet_schema s = {COLUMNS, NCOLS};
    byte_output bo = {byte_output_buf_write, out};
    parquet_writer *w = parquet_writer_create(&s, NULL, &bo, err, errlen);
    *wp = w;
    if (!w)
        return -1;
    for (int r = 0; r < nrows; r++) {
        int64_t id = (int64_t)seed * 1000000 + f * 10000 + r;
        char name[64];
        snprintf(name, sizeof name, "row-%" PRId64 "-\xc3\xa9t\xc3\xa9", id);
        int64_t cents = (id * 7919) % 100000000 - 50000000;
        int64_t ts = (1700000000000LL + id * 1001) * 1000;
        double score = (double)(id % 1000) / 8.0;
        parquet_value row[NCOLS] = {
            parquet_value_int64(id),
            r % 7 == 3 ? parquet_value_null() : parquet_value_bytes(name, strlen(name)),
            parquet_value_decimal64(cents),
            parquet_value_bool(id % 3 == 0),
            parquet_value_int64(ts),
            r % 5 == 2 ? parquet_value_null() : parquet_value_double(score),
        };
        if (parquet_writer_write_row(w, row, err, errlen) != 0)
            return -1;
        if (expect) {
            fprintf(expect, "{\"id\": %" PRId64 ", \"name\": ", id);
            if (r % 7 == 3)
                fputs("null", expect);
            else
                fprintf(expect, "\"%s\"", name);
            int64_t a = cents < 0 ? -cents : cents;
            fprintf(expect, ", \"amount\": \"%s%" PRId64 ".%02" PRId64 "\", \"flag\": %s, \"ts\": %" PRId64
                            ", \"score\": ",
                    cents < 0 ? "-" : "", a / 100, a % 100, id % 3 == 0 ? "true" : "false", ts);
            if (r % 5 == 2)
                fputs("null}\n", expect);
            else
                fprintf(expect, "%.17g}\n", score);
        }
    }
    return parquet_writer_close(w, info, err, errlen);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *db = NULL, *pg = NULL, *table = NULL, *lsn = NULL, *expect_path = NULL;
    int nfiles = 1, nrows = 10;
    long seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--dir")) dir = v;
        else if (!strcmp(k, "--db")) db = v;
        else if (!strcmp(k, "--catalog-pg")) pg = v;
        else if (!strcmp(k, "--table")) table = v;
        else if (!strcmp(k, "--lsn")) lsn = v;
        else if (!strcmp(k, "--expect")) expect_path = v;
        else if (!strcmp(k, "--files")) nfiles = atoi(v);
        else if (!strcmp(k, "--rows")) nrows = atoi(v);
        else if (!strcmp(k, "--seed")) seed = atol(v);
        else return die(USAGE);
    }
    if (!dir || !db == !pg || !table || !strchr(table, '.') || nfiles < 1 || nfiles > 100 || nrows < 0)
        return die(USAGE);
    char err[512], ns[256], name[256], prefix[600], location[2048];
    const char *dot = strrchr(table, '.');
    snprintf(ns, sizeof ns, "%.*s", (int)(dot - table), table);
    snprintf(name, sizeof name, "%s", dot + 1);
    snprintf(prefix, sizeof prefix, "%s/%s", ns, name);

    objstore *os = objstore_local_create(dir, err, sizeof err);
    if (!os)
        return die(err);
    store *st = NULL;
    if (db && !(st = store_open(db, NULL, err, sizeof err)))
        return die(err);
    iceberg_catalog *cat = st ? iceberg_catalog_sqlite_create(st, "sluice", err, sizeof err)
                              : iceberg_catalog_pg_create(pg, NULL, "sluice", err, sizeof err);
    if (!cat)
        return die(err);
    snprintf(location, sizeof location, "%s/%s", objstore_describe(os), prefix);
    iceberg_table_ref t = {os, location, prefix, cat, {ns, name}};
    FILE *expect = expect_path ? fopen(expect_path, "a") : NULL;
    if (expect_path && !expect)
        return die("cannot open the --expect file");

    char *loc = NULL;
    int rc = iceberg_catalog_load_table(cat, &t.ident, &loc, err, sizeof err);
    free(loc);
    if (rc == ICEBERG_CATALOG_NOT_FOUND) {
        iceberg_schema_field fields[NCOLS];
        char types[NCOLS][32];
        for (size_t i = 0; i < NCOLS; i++) {
            iceberg_parquet_type_text(&COLUMNS[i], types[i], sizeof types[i]);
            fields[i] = (iceberg_schema_field){COLUMNS[i].field_id, COLUMNS[i].name, !COLUMNS[i].optional,
                                               types[i], i == 0};
        }
        const char *props[] = {"write.format.default", "parquet", "sluice.source", "tests/tools/iceberg_append"};
        iceberg_table_spec spec = {location, NULL, fields, NCOLS, props, 2};
        if (iceberg_table_create(&t, &spec, now_ms(), NULL, err, sizeof err) != 0)
            return die(err);
    } else if (rc != ICEBERG_CATALOG_OK) {
        return die(err);
    }

    iceberg_append_file files[100];
    iceberg_file_stats *stats[100] = {0};
    parquet_writer *writers[100] = {0};
    char paths[100][2400];
    for (int f = 0; f < nfiles; f++) {
        buf out = BUF_INIT;
        parquet_file_info info;
        char uuid[37], key[1200];
        iceberg_uuid_random(uuid);
        if (rows_write(seed, f, nrows, &out, expect, &info, &writers[f], err, sizeof err) != 0)
            return die(err);
        parquet_schema s = {COLUMNS, NCOLS};
        if (!(stats[f] = iceberg_file_stats_from_parquet(&s, &info, ICEBERG_METRICS_TRUNCATE_DEFAULT, err, sizeof err)))
            return die(err);
        snprintf(key, sizeof key, "%s/data/%05d-0-%s-00001.parquet", prefix, f, uuid);
        snprintf(paths[f], sizeof paths[f], "%s/%s", objstore_describe(os), key);
        if (objstore_put(os, key, out.data, out.len, NULL, err, sizeof err) != OBJSTORE_OK)
            return die(err);
        files[f] = (iceberg_append_file){paths[f], (int64_t)info.rows, (int64_t)info.bytes, stats[f]};
        buf_free(&out);
    }
    if (expect)
        fclose(expect);
    iceberg_commit_result res;
    if (iceberg_table_append(&t, files, (size_t)nfiles, lsn, now_ms(), &res, err, sizeof err) != 0)
        return die(err);
    printf("metadata=%s version=%d snapshot=%" PRId64 " sequence=%" PRId64 " attempts=%d\n", res.metadata_location,
           res.version, res.snapshot_id, res.sequence_number, res.attempts);
    for (int f = 0; f < nfiles; f++) {
        iceberg_file_stats_destroy(stats[f]);
        parquet_writer_destroy(writers[f]);
    }
    iceberg_catalog_destroy(cat);
    store_close(st);
    objstore_destroy(os);
    return 0;
}
