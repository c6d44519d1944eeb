/* iceberg_row_delta: commits data files and position-delete files (merge-on-read) to a new
 * Iceberg v2 table with Sluice's writers (firmware/sinks/lake/parquet_writer, iceberg_table,
 * iceberg_catalog_sqlite), so runtime tests can read the table with independent readers.
 *   iceberg_row_delta --dir DIR --db STORE.db --table NS.NAME [--rows N] [--expect OUT.json]
 * The table (id long required identifier, name string optional: "name-<id>", every 7th null)
 * lives at key NS/NAME of a local-directory object store on DIR (location file://<DIR>/NS/NAME)
 * and in the SQL catalog "sluice" of the store; it must not exist yet. Three commits:
 *   1. append: data file A with ids 1..N (snapshot id 1001, chosen by the caller);
 *   2. overwrite: data file B with ids N+1..2N and one position-delete file deleting the
 *      positions p%3==0 of A and p%4==1 of B (B is added by the same commit: same sequence
 *      number, so the deletes apply to it);
 *   3. delete: one position-delete file of positions p%5==2 of A (overlapping commit 2's at
 *      p%15==12), with referenced_data_file A (snapshot id 3003).
 * Each commit carries summary "sluice.lsn" and "sluice.seq" (1, 2, 3). After the commits the
 * tool reads the table back through iceberg_metadata's accessors (has_snapshot, summary_get,
 * current snapshot totals, schema_fields, last_column_id) and fails when they disagree.
 * --expect writes {"rows", "data_files", "delete_files", "commits": [{"snapshot", "metadata",
 * "version", "sequence", "operation", "deletes", "surviving": [{"id", "name"}, ...]}]}.
 * Prints one line per commit: "commit=<k> operation=<op> metadata=<location> snapshot=<id>
 * sequence=<n> attempts=<a> surviving=<rows>".
 * Errors: "iceberg_row_delta: <reason>" on stderr, exit status 1. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/byte_output.h"
#include "objstore/objstore_local.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"
#include "sinks/lake/iceberg_parquet.h"
#include "sinks/lake/iceberg_table.h"
#include "sinks/lake/parquet_writer.h"
#include "store/store.h"

static const parquet_column_def DATA_COLUMNS[] = {
    {"id", 1, false, PARQUET_TYPE_INT64, 0, 0},
    {"name", 2, true, PARQUET_TYPE_STRING, 0, 0},
};
/* The position-delete schema's reserved field ids (Iceberg spec, "Position Delete Files"). */
static const parquet_column_def DELETE_COLUMNS[] = {
    {"file_path", 2147483546, false, PARQUET_TYPE_STRING, 0, 0},
    {"pos", 2147483545, false, PARQUET_TYPE_INT64, 0, 0},
};

#define MAX_ROWS 100000

static int die(const char *msg)
{
    fprintf(stderr, "iceberg_row_delta: %s\n", msg);
    return 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A written file: its URI, stats and the writer its stats point into. */
typedef struct written {
    char path[2400];
    int64_t rows, bytes;
    iceberg_file_stats *stats;
    parquet_writer *w;
} written;

static void written_free(written *f)
{
    iceberg_file_stats_destroy(f->stats);
    parquet_writer_destroy(f->w);
}

/* The positions one delete file removes from one data file. */
typedef struct target {
    const char *path;
    const int64_t *pos;   /* ascending */
    size_t n;
} target;

typedef struct ctx {
    objstore *os;
    const char *prefix;
    char err[512];
} ctx;

/* Store the Parquet bytes as <prefix>/data/<name>, filling f's path. 0 or -1. */
static int file_store(ctx *c, const char *name, const buf *out, written *f)
{
    char key[1200];
    snprintf(key, sizeof key, "%s/data/%s", c->prefix, name);
    snprintf(f->path, sizeof f->path, "%s/%s", objstore_describe(c->os), key);
    return objstore_put(c->os, key, out->data, out->len, NULL, c->err, sizeof c->err) == OBJSTORE_OK ? 0 : -1;
}

/* A data file of ids first..last. 0 or -1. */
static int data_write(ctx *c, int seq, int64_t first, int64_t last, written *f)
{
    parquet_schema s = {DATA_COLUMNS, 2};
    buf out = BUF_INIT;
    byte_output bo = {byte_output_buf_write, &out};
    parquet_file_info info;
    char uuid[37], name[128];
    int rc = -1;
    if (!(f->w = parquet_writer_create(&s, NULL, &bo, c->err, sizeof c->err)))
        goto out;
    for (int64_t id = first; id <= last; id++) {
        char text[32];
        snprintf(text, sizeof text, "name-%" PRId64, id);
        parquet_value row[2] = {parquet_value_int64(id),
                                id % 7 == 0 ? parquet_value_null() : parquet_value_bytes(text, strlen(text))};
        if (parquet_writer_write_row(f->w, row, c->err, sizeof c->err) != 0)
            goto out;
    }
    if (parquet_writer_close(f->w, &info, c->err, sizeof c->err) != 0 ||
        !(f->stats = iceberg_file_stats_from_parquet(&s, &info, ICEBERG_METRICS_TRUNCATE_DEFAULT, c->err,
                                                     sizeof c->err)))
        goto out;
    f->rows = (int64_t)info.rows;
    f->bytes = (int64_t)info.bytes;
    iceberg_uuid_random(uuid);
    snprintf(name, sizeof name, "%05d-0-%s-00001.parquet", seq, uuid);
    rc = file_store(c, name, &out, f);
out:
    buf_free(&out);
    return rc;
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const target *)a)->path, ((const target *)b)->path);
}

/* A position-delete file of the targets' positions, rows sorted by file_path then pos. 0 or -1. */
static int deletes_write(ctx *c, int seq, target *t, size_t nt, written *f)
{
    parquet_schema s = {DELETE_COLUMNS, 2};
    buf out = BUF_INIT;
    byte_output bo = {byte_output_buf_write, &out};
    parquet_file_info info;
    parquet_options o;
    char uuid[37], name[128];
    int rc = -1;
    parquet_options_default(&o);
    o.stats_bytes = 4096;   /* file_path bounds whole in the page statistics too */
    qsort(t, nt, sizeof *t, target_cmp);
    if (!(f->w = parquet_writer_create(&s, &o, &bo, c->err, sizeof c->err)))
        goto out;
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < t[i].n; j++) {
            parquet_value row[2] = {parquet_value_bytes(t[i].path, strlen(t[i].path)),
                                    parquet_value_int64(t[i].pos[j])};
            if (parquet_writer_write_row(f->w, row, c->err, sizeof c->err) != 0)
                goto out;
        }
    if (parquet_writer_close(f->w, &info, c->err, sizeof c->err) != 0 ||
        !(f->stats = iceberg_file_stats_from_parquet(&s, &info, 0, c->err, sizeof c->err)))   /* full path bounds */
        goto out;
    f->rows = (int64_t)info.rows;
    f->bytes = (int64_t)info.bytes;
    iceberg_uuid_random(uuid);
    snprintf(name, sizeof name, "%05d-1-%s-00001-deletes.parquet", seq, uuid);
    rc = file_store(c, name, &out, f);
out:
    buf_free(&out);
    return rc;
}

/* Positions 0..n-1 with p % mod == rem into out; their count. */
static size_t positions(int64_t n, int mod, int rem, int64_t *out)
{
    size_t k = 0;
    for (int64_t p = 0; p < n; p++)
        if (p % mod == rem)
            out[k++] = p;
    return k;
}

static void mark(bool *deleted, const int64_t *pos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        deleted[pos[i]] = true;
}

/* The surviving rows (ids 1..total, deleted[id-1]) as a JSON array; their count. */
static int64_t surviving_json(FILE *out, const bool *deleted, int64_t total)
{
    int64_t k = 0;
    if (out)
        fputc('[', out);
    for (int64_t id = 1; id <= total; id++) {
        if (deleted[id - 1])
            continue;
        if (out) {
            fprintf(out, "%s{\"id\": %" PRId64 ", \"name\": ", k ? ", " : "", id);
            if (id % 7 == 0)
                fputs("null}", out);
            else
                fprintf(out, "\"name-%" PRId64 "\"}", id);
        }
        k++;
    }
    if (out)
        fputc(']', out);
    return k;
}

/* What the tool checks through iceberg_metadata's accessors after commit k. 0 or -1. */
static int table_check(const iceberg_table_ref *t, const iceberg_commit_result *res, int k, int64_t want_deletes,
                       int64_t want_delete_files, int64_t want_records, char *err, size_t errlen)
{
    iceberg_metadata *m = iceberg_table_load(t, NULL, err, errlen);
    iceberg_schema_field *fields = NULL;
    size_t nf = 0;
    iceberg_snapshot_info si;
    char seq[8];
    int rc = -1;
    if (!m)
        return -1;
    snprintf(seq, sizeof seq, "%d", k);
    const char *got_seq = iceberg_metadata_summary_get(m, "sluice.seq");
    if (!iceberg_metadata_has_snapshot(m, res->snapshot_id) || iceberg_metadata_has_snapshot(m, 42) ||
        !got_seq || strcmp(got_seq, seq) != 0 || iceberg_metadata_summary_get(m, "no-such-key")) {
        snprintf(err, errlen, "commit %d: has_snapshot / summary_get disagree (sluice.seq %s)", k,
                 got_seq ? got_seq : "(none)");
        goto out;
    }
    if (iceberg_metadata_current_snapshot(m, &si, err, errlen) != 1)
        goto out;
    if (si.snapshot_id != res->snapshot_id || si.total_position_deletes != want_deletes ||
        si.total_delete_files != want_delete_files || si.total_records != want_records ||
        si.total_equality_deletes != 0) {
        snprintf(err, errlen,
                 "commit %d: snapshot totals: position deletes %" PRId64 " (want %" PRId64 "), delete files %" PRId64
                 " (want %" PRId64 "), records %" PRId64 " (want %" PRId64 ")",
                 k, si.total_position_deletes, want_deletes, si.total_delete_files, want_delete_files,
                 si.total_records, want_records);
        goto out;
    }
    if (iceberg_metadata_schema_fields(m, &fields, &nf, err, errlen) != 0)
        goto out;
    if (nf != 2 || fields[0].id != 1 || strcmp(fields[0].name, "id") != 0 || strcmp(fields[0].type, "long") != 0 ||
        !fields[0].required || !fields[0].identifier || fields[1].id != 2 || strcmp(fields[1].name, "name") != 0 ||
        strcmp(fields[1].type, "string") != 0 || fields[1].required || fields[1].identifier ||
        iceberg_metadata_last_column_id(m) != 2) {
        snprintf(err, errlen, "commit %d: schema_fields / last_column_id disagree with the table created", k);
        goto out;
    }
    rc = 0;
out:
    free(fields);
    iceberg_metadata_destroy(m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *db = NULL, *table = NULL, *expect_path = NULL;
    int64_t n = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--dir")) dir = v;
        else if (!strcmp(k, "--db")) db = v;
        else if (!strcmp(k, "--table")) table = v;
        else if (!strcmp(k, "--expect")) expect_path = v;
        else if (!strcmp(k, "--rows")) n = atoll(v);
        else return die("usage: iceberg_row_delta --dir DIR --db DB --table NS.NAME [--rows N] [--expect FILE]");
    }
    if (!dir || !db || !table || !strchr(table, '.') || n < 15 || n > MAX_ROWS)
        return die("usage: iceberg_row_delta --dir DIR --db DB --table NS.NAME [--rows N (15..100000)]"
                   " [--expect FILE]");
    char err[512], ns[256], name[256], prefix[600], location[2048];
    const char *dot = strrchr(table, '.');
    snprintf(ns, sizeof ns, "%.*s", (int)(dot - table), table);
    snprintf(name, sizeof name, "%s", dot + 1);
    snprintf(prefix, sizeof prefix, "%s/%s", ns, name);

    objstore *os = objstore_local_create(dir, err, sizeof err);
    if (!os)
        return die(err);
    store *st = store_open(db, NULL, err, sizeof err);
    if (!st)
        return die(err);
    iceberg_catalog *cat = iceberg_catalog_sqlite_create(st, "sluice", err, sizeof err);
    if (!cat)
        return die(err);
    snprintf(location, sizeof location, "%s/%s", objstore_describe(os), prefix);
    iceberg_table_ref t = {os, location, prefix, cat, {ns, name}};
    iceberg_schema_field fields[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    const char *props[] = {"write.format.default", "parquet", "write.delete.mode", "merge-on-read",
                           "sluice.source", "tests/tools/iceberg_row_delta"};
    iceberg_table_spec spec = {location, NULL, fields, 2, props, 3};
    if (iceberg_table_create(&t, &spec, now_ms(), NULL, err, sizeof err) != 0)
        return die(err);

    ctx c = {os, prefix, ""};
    written a = {0}, b = {0}, d1 = {0}, d2 = {0};
    int64_t *pa3 = calloc((size_t)n, sizeof *pa3), *pb4 = calloc((size_t)n, sizeof *pb4),
            *pa5 = calloc((size_t)n, sizeof *pa5);
    bool *deleted = calloc(2 * (size_t)n, sizeof *deleted);
    if (!pa3 || !pb4 || !pa5 || !deleted)
        return die("out of memory");
    size_t na3 = positions(n, 3, 0, pa3), nb4 = positions(n, 4, 1, pb4), na5 = positions(n, 5, 2, pa5);

    /* Write every file first: the commits then only reference them. */
    if (data_write(&c, 0, 1, n, &a) != 0 || data_write(&c, 1, n + 1, 2 * n, &b) != 0)
        return die(c.err);
    target t1[2] = {{a.path, pa3, na3}, {b.path, pb4, nb4}};
    target t2[1] = {{a.path, pa5, na5}};
    if (deletes_write(&c, 1, t1, 2, &d1) != 0 || deletes_write(&c, 2, t2, 1, &d2) != 0)
        return die(c.err);

    iceberg_append_file fa = {a.path, a.rows, a.bytes, a.stats, NULL};
    iceberg_append_file fb = {b.path, b.rows, b.bytes, b.stats, NULL};
    iceberg_append_file fd1 = {d1.path, d1.rows, d1.bytes, d1.stats, NULL};
    iceberg_append_file fd2 = {d2.path, d2.rows, d2.bytes, d2.stats, a.path};
    const char *s1[] = {"sluice.seq", "1"}, *s2[] = {"sluice.seq", "2"}, *s3[] = {"sluice.seq", "3"};
    iceberg_commit_files commits[3] = {
        {1001, &fa, 1, NULL, 0, "0/1000", s1, 1},
        {0, &fb, 1, &fd1, 1, "0/2000", s2, 1},
        {3003, NULL, 0, &fd2, 1, "0/3000", s3, 1},
    };
    static const char *const ops[] = {"append", "overwrite", "delete"};
    FILE *expect = expect_path ? fopen(expect_path, "w") : NULL;
    if (expect_path && !expect)
        return die("cannot open the --expect file");
    if (expect)
        fprintf(expect,
                "{\"rows\": %" PRId64 ", \"data_files\": [\"%s\", \"%s\"], \"delete_files\": [\"%s\", \"%s\"],"
                " \"commits\": [",
                n, a.path, b.path, d1.path, d2.path);
    int64_t total_deletes = 0, total_records = 0;
    for (int k = 0; k < 3; k++) {
        iceberg_commit_result res;
        if (iceberg_table_commit(&t, &commits[k], now_ms(), &res, err, sizeof err) != 0)
            return die(err);
        int64_t visible = k == 0 ? n : 2 * n;   /* ids 1..visible are in the table's data files */
        if (k == 0) {
            total_records = n;
        } else if (k == 1) {
            total_records = 2 * n;
            total_deletes += d1.rows;
            mark(deleted, pa3, na3);
            mark(deleted + n, pb4, nb4);
        } else {
            total_deletes += d2.rows;
            mark(deleted, pa5, na5);
        }
        if (table_check(&t, &res, k + 1, total_deletes, k == 0 ? 0 : k, total_records, err, sizeof err) != 0)
            return die(err);
        if (expect) {
            fprintf(expect,
                    "%s{\"snapshot\": \"%" PRId64 "\", \"metadata\": \"%s\", \"version\": %d, \"sequence\": %" PRId64
                    ", \"operation\": \"%s\", \"deletes\": %" PRId64 ", \"surviving\": ",
                    k ? ", " : "", res.snapshot_id, res.metadata_location, res.version, res.sequence_number, ops[k],
                    k == 0 ? (int64_t)0 : k == 1 ? d1.rows : d2.rows);
            surviving_json(expect, deleted, visible);
            fputc('}', expect);
        }
        printf("commit=%d operation=%s metadata=%s snapshot=%" PRId64 " sequence=%" PRId64
               " attempts=%d surviving=%" PRId64 "\n",
               k + 1, ops[k], res.metadata_location, res.snapshot_id, res.sequence_number, res.attempts,
               surviving_json(NULL, deleted, visible));
    }
    if (expect) {
        fputs("]}\n", expect);
        fclose(expect);
    }
    /* A snapshot id already in the table is refused (the caller's id is its idempotency key). */
    iceberg_commit_files again = {3003, NULL, 0, &fd2, 1, NULL, NULL, 0};
    if (iceberg_table_commit(&t, &again, now_ms(), NULL, err, sizeof err) == 0)
        return die("a commit reusing snapshot id 3003 was accepted");
    written_free(&a);
    written_free(&b);
    written_free(&d1);
    written_free(&d2);
    free(pa3);
    free(pb4);
    free(pa5);
    free(deleted);
    iceberg_catalog_destroy(cat);
    store_close(st);
    objstore_destroy(os);
    return 0;
}
