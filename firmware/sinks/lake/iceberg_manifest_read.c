/* iceberg_manifest_read: manifest list records back into iceberg_manifest_file (see the header).
 * The container is read from memory through fmemopen and avro_file_reader_fp; fields are looked
 * up by name, optional ones through their [null, T] union. */
#define _POSIX_C_SOURCE 200809L
#include "sinks/lake/iceberg_manifest_read.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record's field name, resolved through a union: 0 (in *out), 1 (null or absent), -1. */
static int field(avro_value_t *rec, const char *name, avro_value_t *out)
{
    avro_value_t f;
    if (avro_value_get_by_name(rec, name, &f, NULL) != 0)
        return 1;
    if (avro_value_get_type(&f) == AVRO_UNION) {
        avro_value_t branch;
        if (avro_value_get_current_branch(&f, &branch) != 0)
            return -1;
        f = branch;
    }
    if (avro_value_get_type(&f) == AVRO_NULL)
        return 1;
    *out = f;
    return 0;
}

static int get_long(avro_value_t *rec, const char *name, int64_t *out, int required, char *err, size_t errlen)
{
    avro_value_t f;
    int r = field(rec, name, &f);
    if (r == 0) {
        if (avro_value_get_type(&f) == AVRO_INT32) {
            int32_t x = 0;
            r = avro_value_get_int(&f, &x);
            *out = x;
        } else {
            r = avro_value_get_long(&f, out);
        }
        if (r == 0)
            return 0;
    }
    if (r == 1 && !required)
        return 1;
    snprintf(err, errlen, "manifest list: field %s is missing or not a number", name);
    return -1;
}

static int record_read(avro_value_t *rec, iceberg_manifest_file *m, char *err, size_t errlen)
{
    avro_value_t f;
    const char *s;
    size_t slen;
    int64_t x;
    if (field(rec, "manifest_path", &f) != 0 || avro_value_get_string(&f, &s, &slen) != 0) {
        snprintf(err, errlen, "manifest list: manifest_path is missing");
        return -1;
    }
    if (!(m->manifest_path = strndup(s, slen))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (get_long(rec, "manifest_length", &m->manifest_length, 1, err, errlen) < 0 ||
        get_long(rec, "partition_spec_id", &x, 1, err, errlen) < 0)
        return -1;
    m->partition_spec_id = (int32_t)x;
    if (get_long(rec, "content", &x, 0, err, errlen) < 0)
        return -1;
    m->content = x == 1 ? ICEBERG_MANIFEST_DELETES : ICEBERG_MANIFEST_DATA;
    if (get_long(rec, "sequence_number", &m->sequence_number, 1, err, errlen) < 0 ||
        get_long(rec, "min_sequence_number", &m->min_sequence_number, 1, err, errlen) < 0 ||
        get_long(rec, "added_snapshot_id", &m->added_snapshot_id, 1, err, errlen) < 0)
        return -1;
    m->has_sequence_number = m->has_min_sequence_number = true;
    static const char *const counts[] = {"added_files_count", "existing_files_count", "deleted_files_count"};
    int32_t *cdst[] = {&m->added_files_count, &m->existing_files_count, &m->deleted_files_count};
    for (int i = 0; i < 3; i++) {
        if (get_long(rec, counts[i], &x, 1, err, errlen) < 0)
            return -1;
        *cdst[i] = (int32_t)x;
    }
    if (get_long(rec, "added_rows_count", &m->added_rows_count, 1, err, errlen) < 0 ||
        get_long(rec, "existing_rows_count", &m->existing_rows_count, 1, err, errlen) < 0 ||
        get_long(rec, "deleted_rows_count", &m->deleted_rows_count, 1, err, errlen) < 0)
        return -1;
    if (field(rec, "partitions", &f) == 0) {
        size_t n = 0;
        avro_value_get_size(&f, &n);
        if (n > 0) {
            snprintf(err, errlen, "manifest list: partitioned manifests are not supported yet (%s)",
                     m->manifest_path);
            return -1;
        }
    }
    if (field(rec, "key_metadata", &f) == 0) {
        const void *p;
        size_t n;
        if (avro_value_get_bytes(&f, &p, &n) == 0 && n > 0) {
            void *copy = malloc(n);
            if (!copy) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memcpy(copy, p, n);
            m->key_metadata = copy;
            m->key_metadata_len = n;
        }
    }
    return 0;
}

iceberg_manifest_list *iceberg_manifest_list_read(const void *data, size_t len, char *err, size_t errlen)
{
    iceberg_manifest_list *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    FILE *fp = fmemopen((void *)data, len, "rb");
    avro_file_reader_t r = NULL;
    avro_value_iface_t *iface = NULL;
    avro_schema_t schema = NULL;   /* the reader hands out a reference the caller drops */
    avro_value_t v;
    int have_value = 0, ok = 0;
    if (!fp) {
        snprintf(err, errlen, "manifest list: fmemopen failed");
        goto out;
    }
    if (avro_file_reader_fp(fp, "manifest-list", 1, &r) != 0) {
        snprintf(err, errlen, "manifest list: not an Avro container: %s", avro_strerror());
        fp = NULL;   /* closed by the reader on failure? be safe: the reader owns it */
        goto out;
    }
    fp = NULL;
    schema = avro_file_reader_get_writer_schema(r);
    iface = avro_generic_class_from_schema(schema);
    if (!iface || avro_generic_value_new(iface, &v) != 0) {
        snprintf(err, errlen, "manifest list: %s", avro_strerror());
        goto out;
    }
    have_value = 1;
    size_t cap = 0;
    for (;;) {
        int rc = avro_file_reader_read_value(r, &v);
        if (rc == EOF)
            break;
        if (rc != 0) {
            snprintf(err, errlen, "manifest list: bad record: %s", avro_strerror());
            goto out;
        }
        if (l->nfiles == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            iceberg_manifest_file *grown = realloc(l->files, ncap * sizeof *grown);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            l->files = grown;
            cap = ncap;
        }
        iceberg_manifest_file *m = &l->files[l->nfiles++];
        memset(m, 0, sizeof *m);
        if (record_read(&v, m, err, errlen) != 0)
            goto out;
    }
    ok = 1;
out:
    if (have_value)
        avro_value_decref(&v);
    if (iface)
        avro_value_iface_decref(iface);
    if (schema)
        avro_schema_decref(schema);
    if (r)
        avro_file_reader_close(r);
    if (fp)
        fclose(fp);
    if (!ok) {
        iceberg_manifest_list_destroy(l);
        return NULL;
    }
    return l;
}

void iceberg_manifest_list_destroy(iceberg_manifest_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nfiles; i++) {
        free((void *)l->files[i].manifest_path);
        free((void *)l->files[i].key_metadata);
    }
    free(l->files);
    free(l);
}
