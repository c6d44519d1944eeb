/* iceberg_manifest_list: writes a snapshot's manifest list, one manifest_file record per
 * manifest, as an Avro object container with the Iceberg header keys (see iceberg_manifest.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errbuf.h"
#include "sinks/lake/iceberg_manifest.h"

struct iceberg_manifest_list_writer {
    avro_ocf_writer *ocf;
    int64_t snapshot_id;
    int64_t sequence_number;
};

iceberg_manifest_list_writer *iceberg_manifest_list_writer_create(const iceberg_manifest_list_options *opt,
                                                                  const byte_output *out, char *err,
                                                                  size_t errlen)
{
    iceberg_manifest_list_writer *w = NULL;
    char snap[24], parent[24], seq[24];
    if (!opt) {
        err_setf(err, errlen, "manifest list: options are required");
        goto fail;
    }
    if (opt->sequence_number < 0) {
        err_setf(err, errlen, "manifest list: sequence number %" PRId64 " is negative", opt->sequence_number);
        goto fail;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    w->snapshot_id = opt->snapshot_id;
    w->sequence_number = opt->sequence_number;
    snprintf(snap, sizeof snap, "%" PRId64, opt->snapshot_id);
    if (opt->has_parent_snapshot_id)
        snprintf(parent, sizeof parent, "%" PRId64, opt->parent_snapshot_id);
    else
        snprintf(parent, sizeof parent, "null");   /* what Iceberg's Java writer puts for no parent */
    snprintf(seq, sizeof seq, "%" PRId64, opt->sequence_number);
    avro_ocf_meta meta[] = {
        {"snapshot-id", snap, strlen(snap)},
        {"parent-snapshot-id", parent, strlen(parent)},
        {"sequence-number", seq, strlen(seq)},
        {"format-version", "2", 1},
    };
    avro_ocf_options o = {.codec = opt->codec, .block_bytes = opt->block_bytes, .meta = meta,
                          .nmeta = sizeof meta / sizeof meta[0], .sync = opt->sync};
    const char *schema = iceberg_manifest_file_schema();
    w->ocf = avro_ocf_writer_create(schema, strlen(schema), &o, out, err, errlen);
    if (!w->ocf)
        goto fail;
    return w;

fail:
    iceberg_manifest_list_writer_destroy(w);
    return NULL;
}

static int set_field_int(avro_value_t *rec, const char *name, int32_t v)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_set_int(&f, v);
}

static int set_field_long(avro_value_t *rec, const char *name, int64_t v)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_set_long(&f, v);
}

/* An optional ["null", T] field: branch 0 (null) or 1, returned in *branch for the caller to set. */
static int set_union(avro_value_t *rec, const char *name, bool present, avro_value_t *branch)
{
    avro_value_t f;
    if (avro_value_get_by_name(rec, name, &f, NULL))
        return -1;
    if (avro_value_set_branch(&f, present ? 1 : 0, branch))
        return -1;
    return present ? 0 : avro_value_set_null(branch);
}

static int set_opt_bytes(avro_value_t *rec, const char *name, bool present, const void *p, size_t len)
{
    avro_value_t b;
    if (set_union(rec, name, present, &b))
        return -1;
    return present ? avro_value_set_bytes(&b, (void *)(p ? p : ""), len) : 0;
}

static int fill_summary(avro_value_t *el, const iceberg_field_summary *s)
{
    avro_value_t f, b;
    if (avro_value_get_by_name(el, "contains_null", &f, NULL) || avro_value_set_boolean(&f, s->contains_null))
        return -1;
    if (set_union(el, "contains_nan", s->has_contains_nan, &b) ||
        (s->has_contains_nan && avro_value_set_boolean(&b, s->contains_nan)))
        return -1;
    if (set_opt_bytes(el, "lower_bound", s->has_lower, s->lower, s->lower_len) ||
        set_opt_bytes(el, "upper_bound", s->has_upper, s->upper, s->upper_len))
        return -1;
    return 0;
}

int iceberg_manifest_list_writer_add(iceberg_manifest_list_writer *w, const iceberg_manifest_file *m, char *err,
                                     size_t errlen)
{
    if (!m->manifest_path || !m->manifest_path[0])
        return err_setf(err, errlen, "manifest list: a manifest without a path");
    if (m->content != ICEBERG_MANIFEST_DATA && m->content != ICEBERG_MANIFEST_DELETES)
        return err_setf(err, errlen, "manifest list: %s: content %d is not data (0) or deletes (1)",
                        m->manifest_path, (int)m->content);
    if ((!m->has_sequence_number || !m->has_min_sequence_number) && m->added_snapshot_id != w->snapshot_id)
        return err_setf(err, errlen,
                        "manifest list: %s: sequence numbers unassigned but the manifest was added by snapshot "
                        "%" PRId64 ", not this one (%" PRId64 ")",
                        m->manifest_path, m->added_snapshot_id, w->snapshot_id);
    if (m->manifest_length < 0 || m->added_files_count < 0 || m->existing_files_count < 0 ||
        m->deleted_files_count < 0 || m->added_rows_count < 0 || m->existing_rows_count < 0 ||
        m->deleted_rows_count < 0)
        return err_setf(err, errlen, "manifest list: %s: negative length or count", m->manifest_path);
    int64_t seq = m->has_sequence_number ? m->sequence_number : w->sequence_number;
    int64_t min_seq = m->has_min_sequence_number ? m->min_sequence_number : w->sequence_number;

    avro_value_t *rec = avro_ocf_writer_value(w->ocf), f, b, el;
    avro_value_reset(rec);
    if (avro_value_get_by_name(rec, "manifest_path", &f, NULL) || avro_value_set_string(&f, m->manifest_path) ||
        set_field_long(rec, "manifest_length", m->manifest_length) ||
        set_field_int(rec, "partition_spec_id", m->partition_spec_id) ||
        set_field_int(rec, "content", (int32_t)m->content) || set_field_long(rec, "sequence_number", seq) ||
        set_field_long(rec, "min_sequence_number", min_seq) ||
        set_field_long(rec, "added_snapshot_id", m->added_snapshot_id) ||
        set_field_int(rec, "added_files_count", m->added_files_count) ||
        set_field_int(rec, "existing_files_count", m->existing_files_count) ||
        set_field_int(rec, "deleted_files_count", m->deleted_files_count) ||
        set_field_long(rec, "added_rows_count", m->added_rows_count) ||
        set_field_long(rec, "existing_rows_count", m->existing_rows_count) ||
        set_field_long(rec, "deleted_rows_count", m->deleted_rows_count))
        return err_setf(err, errlen, "manifest list: %s: %s", m->manifest_path, avro_strerror());
    /* partitions: always a list (empty for an unpartitioned spec), as Iceberg's writers do. */
    if (set_union(rec, "partitions", true, &b))
        return err_setf(err, errlen, "manifest list: %s: %s", m->manifest_path, avro_strerror());
    for (size_t i = 0; i < m->npartitions; i++)
        if (avro_value_append(&b, &el, NULL) || fill_summary(&el, &m->partitions[i]))
            return err_setf(err, errlen, "manifest list: %s: partition summary %zu: %s", m->manifest_path, i,
                            avro_strerror());
    if (set_opt_bytes(rec, "key_metadata", m->key_metadata != NULL, m->key_metadata, m->key_metadata_len))
        return err_setf(err, errlen, "manifest list: %s: %s", m->manifest_path, avro_strerror());
    return avro_ocf_writer_append(w->ocf, rec, err, errlen);
}

int iceberg_manifest_list_writer_close(iceberg_manifest_list_writer *w, uint64_t *bytes, char *err, size_t errlen)
{
    return avro_ocf_writer_close(w->ocf, bytes, err, errlen);
}

void iceberg_manifest_list_writer_destroy(iceberg_manifest_list_writer *w)
{
    if (!w)
        return;
    avro_ocf_writer_destroy(w->ocf);
    free(w);
}
