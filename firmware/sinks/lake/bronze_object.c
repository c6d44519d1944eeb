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

#define BRONZE_PUT_MAX (16u * 1024 * 1024)   /* larger objects go up in parts */
#define BRONZE_PART_SIZE (8u * 1024 * 1024)

_Static_assert(BRONZE_PART_SIZE >= OBJSTORE_PART_MIN, "parts must meet the store's minimum");

static void key_table(buf *b, const char *table)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)table; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
            *p == '_' || *p == '-' || *p >= 0x80) {
            buf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* "bronze/<source>/<schema>.<table>/date=YYYY-MM-DD/hour=HH/": the directory of an object. */
static void key_partition(buf *b, const char *source, const char *table, int64_t hour)
{
    time_t t = (time_t)(hour * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    buf_printf(b, "bronze/%s/", source);
    key_table(b, table);
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
    key_table(&b, topic);
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

/* Read len bytes at off from the spool file into dst. */
static int spool_read(const bronze_object *o, char *dst, uint64_t off, size_t len, char *err, size_t errlen)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(o->fd, dst + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return err_setf(err, errlen, "bronze: reading the spool file: %s", n < 0 ? strerror(errno) : "short file");
        got += (size_t)n;
    }
    return 0;
}

int bronze_object_upload(bronze_object *o, objstore *s, char *err, size_t errlen)
{
    objstore_put_options po = {.content_type = o->codec == COMPRESS_ZSTD ? "application/zstd" : "application/gzip"};
    uint64_t size = bronze_object_size(o);
    size_t chunk = size <= BRONZE_PUT_MAX ? (size_t)size : BRONZE_PART_SIZE;
    char *mem = malloc(chunk ? chunk : 1);
    int rc = OBJSTORE_ERR;
    if (!mem) {
        err_setf(err, errlen, "out of memory");
        return rc;
    }
    if (size <= BRONZE_PUT_MAX) {
        if (spool_read(o, mem, 0, chunk, err, errlen) == 0)
            rc = objstore_put(s, o->key, mem, chunk, &po, err, errlen);
        goto out;
    }
    objstore_upload *u = s->ops->upload_begin(s, o->key, &po, err, errlen);
    if (!u)
        goto out;
    for (uint64_t off = 0; off < size; off += BRONZE_PART_SIZE) {
        size_t n = size - off < BRONZE_PART_SIZE ? (size_t)(size - off) : BRONZE_PART_SIZE;
        if (spool_read(o, mem, off, n, err, errlen) < 0 || s->ops->upload_part(s, u, mem, n, err, errlen) < 0) {
            s->ops->upload_abort(s, u);
            goto out;
        }
    }
    rc = s->ops->upload_complete(s, u, err, errlen);
out:
    free(mem);
    return rc;
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
