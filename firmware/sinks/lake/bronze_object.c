/* bronze_object: a table's bronze object from spool file to upload (see bronze_object.h). */
#include "sinks/lake/bronze_object.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/errbuf.h"

/* "bronze/<source>/<schema>.<table>/date=YYYY-MM-DD/hour=HH/": the directory of an object. */
static void key_partition(buf *b, const char *source, const char *table, int64_t hour)
{
    time_t t = (time_t)(hour * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    buf_printf(b, "bronze/%s/", source);
    objstore_key_escape(b, table);
    buf_printf(b, "/date=%04d-%02d-%02d/hour=%02d/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
}

void bronze_object_key_format(char *out, size_t outlen, const char *source, const char *table, int64_t hour,
                              bronze_pos first, bronze_pos last, compress_codec codec)
{
    buf b = BUF_INIT;
    key_partition(&b, source, table, hour);
    buf_printf(&b, "%016" PRIX64 "_%" PRIu64 "-%016" PRIX64 "_%" PRIu64 ".jsonl%s", first.lsn, first.seq, last.lsn,
               last.seq, compress_codec_suffix(codec));
    snprintf(out, outlen, "%s", b.data);
    buf_free(&b);
}

void bronze_object_kafka_key_format(char *out, size_t outlen, const char *source, const char *table, int64_t hour,
                                    const char *topic, int32_t partition, int64_t first, int64_t last,
                                    compress_codec codec)
{
    buf b = BUF_INIT;
    key_partition(&b, source, table, hour);
    buf_puts(&b, "k");
    objstore_key_escape(&b, topic);
    buf_printf(&b, ".%" PRId32 "_%019" PRId64 "-%019" PRId64 ".jsonl%s", partition, first, last,
               compress_codec_suffix(codec));
    snprintf(out, outlen, "%s", b.data);
    buf_free(&b);
}

bronze_object *bronze_object_create(const char *spool_dir, compress_codec codec, const char *table, int64_t hour,
                                    uint64_t prev_end, int64_t now_ms, char *err, size_t errlen)
{
    bronze_object *o = calloc(1, sizeof *o);
    char path[4096];
    if (!o || !(o->table = strdup(table))) {
        free(o);
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    o->fd = -1;
    o->codec = codec;
    o->hour = hour;
    o->prev_end = prev_end;
    o->opened_ms = now_ms;
    snprintf(path, sizeof path, "%s/bronze-XXXXXX", spool_dir);
    if ((o->fd = mkstemp(path)) < 0) {
        err_setf(err, errlen, "bronze: cannot create a spool file in %s: %s", spool_dir, strerror(errno));
        goto fail;
    }
    unlink(path);   /* anonymous: gone with the descriptor, also after a crash */
    if (!(o->w = compress_writer_create(codec, o->fd, err, errlen)))
        goto fail;
    return o;
fail:
    bronze_object_destroy(o);
    return NULL;
}

int bronze_object_append(bronze_object *o, const char *line, size_t len, bronze_pos pos, char *err,
                         size_t errlen)
{
    if (compress_writer_write(o->w, line, len, err, errlen) < 0)
        return -1;
    if (!o->events++)
        o->first = pos;
    o->last = pos;
    return 0;
}

uint64_t bronze_object_size(const bronze_object *o)
{
    return o->w ? compress_writer_out_bytes(o->w) : (uint64_t)lseek(o->fd, 0, SEEK_END);
}

int bronze_object_finish(bronze_object *o, const char *source, char *err, size_t errlen)
{
    char key[2048];
    if (compress_writer_finish(o->w, err, errlen) < 0)
        return -1;
    compress_writer_destroy(o->w);
    o->w = NULL;
    bronze_object_key_format(key, sizeof key, source, o->table, o->hour, o->first, o->last, o->codec);
    if (!(o->key = strdup(key)))
        return err_setf(err, errlen, "out of memory");
    return 0;
}

int bronze_object_finish_as(bronze_object *o, const char *key, char *err, size_t errlen)
{
    if (compress_writer_finish(o->w, err, errlen) < 0)
        return -1;
    compress_writer_destroy(o->w);
    o->w = NULL;
    free(o->key);
    if (!(o->key = strdup(key)))
        return err_setf(err, errlen, "out of memory");
    return 0;
}

int bronze_object_upload(bronze_object *o, objstore *s, char *err, size_t errlen)
{
    objstore_put_options po = {.content_type = o->codec == COMPRESS_ZSTD ? "application/zstd" : "application/gzip"};
    return objstore_put_fd(s, o->key, o->fd, bronze_object_size(o), &po, err, errlen);
}

void bronze_object_destroy(bronze_object *o)
{
    if (!o)
        return;
    compress_writer_destroy(o->w);
    if (o->fd >= 0)
        close(o->fd);
    free(o->table);
    free(o->key);
    free(o);
}
