/* avro_ocf: the Avro object container writer (see avro_ocf.h). Records are encoded by libavro
 * into a scratch buffer, gathered into the open block, and the block is framed (count, size,
 * bytes, sync) and written out when it reaches its size or at close. */
#include "sinks/lake/avro_ocf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/errbuf.h"
#include "core/random.h"

#define OCF_SYNC_BYTES 16
#define OCF_DEFAULT_BLOCK_BYTES (64 * 1024)
#define OCF_RECORD_MAX ((size_t)1 << 30)   /* one encoded record; anything larger is a bug */

struct avro_ocf_writer {
    byte_output out;
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;          /* handed to the caller by avro_ocf_writer_value */
    bool has_value;
    avro_writer_t rec_writer;    /* libavro memory writer over rec_buf */
    char *rec_buf;
    size_t rec_cap;
    buf block;                   /* encoded records of the open block */
    uint64_t block_records;
    z_stream z;                  /* raw deflate, reset per block */
    bool z_ready;
    unsigned char *zbuf;
    size_t zcap;
    avro_ocf_codec codec;
    size_t block_bytes;
    uint8_t sync[OCF_SYNC_BYTES];
    uint64_t records, blocks, bytes;
    bool closed;
    char failed[256];            /* non-empty once the writer has failed: the reason */
};

const char *avro_ocf_codec_name(avro_ocf_codec c)
{
    return c == AVRO_OCF_CODEC_DEFLATE ? "deflate" : "null";
}

int avro_ocf_codec_parse(const char *s, avro_ocf_codec *out)
{
    if (s && strcmp(s, "null") == 0) {
        *out = AVRO_OCF_CODEC_NULL;
        return 0;
    }
    if (s && strcmp(s, "deflate") == 0) {
        *out = AVRO_OCF_CODEC_DEFLATE;
        return 0;
    }
    return -1;
}

size_t avro_ocf_zigzag_encode(int64_t v, uint8_t *out)
{
    uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? ~(uint64_t)0 : 0);
    size_t n = 0;
    while (z >= 0x80) {
        out[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    out[n++] = (uint8_t)z;
    return n;
}

static void put_long(buf *b, int64_t v)
{
    uint8_t tmp[10];
    buf_append(b, tmp, avro_ocf_zigzag_encode(v, tmp));
}

/* An Avro string / bytes: the length as a long, then the bytes. */
static void put_bytes(buf *b, const void *data, size_t len)
{
    put_long(b, (int64_t)len);
    buf_append(b, data, len);
}

/* Mark the writer failed with the reason, copy it to err, return -1. */
static int ocf_fail(avro_ocf_writer *w, const char *reason, char *err, size_t errlen)
{
    if (!w->failed[0])
        snprintf(w->failed, sizeof w->failed, "%s", reason);
    return err_setf(err, errlen, "%s", w->failed);
}

static int ocf_emit(avro_ocf_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    char why[200] = "";
    if (len == 0)
        return 0;
    if (w->out.write(w->out.ctx, data, len, why, sizeof why) < 0)
        return ocf_fail(w, why[0] ? why : "output write failed", err, errlen);
    w->bytes += len;
    return 0;
}

static int check_meta(const avro_ocf_options *opt, char *err, size_t errlen)
{
    for (size_t i = 0; i < opt->nmeta; i++) {
        const avro_ocf_meta *m = &opt->meta[i];
        if (!m->key || !m->key[0])
            return err_setf(err, errlen, "header metadata %zu has no key", i);
        if (strncmp(m->key, "avro.", 5) == 0)
            return err_setf(err, errlen, "header metadata key '%s' is reserved (avro.*)", m->key);
        if (m->len && !m->value)
            return err_setf(err, errlen, "header metadata '%s' has no value", m->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(opt->meta[j].key, m->key) == 0)
                return err_setf(err, errlen, "header metadata key '%s' given twice", m->key);
    }
    return 0;
}

/* Magic, metadata map (one block of 2 + nmeta entries, then the 0 end marker), sync. */
static int write_header(avro_ocf_writer *w, const char *schema_json, size_t len, const avro_ocf_options *opt,
                        char *err, size_t errlen)
{
    buf h = BUF_INIT;
    buf_append(&h, "Obj\x01", 4);
    put_long(&h, (int64_t)(2 + opt->nmeta));
    put_bytes(&h, "avro.schema", 11);
    put_bytes(&h, schema_json, len);
    put_bytes(&h, "avro.codec", 10);
    const char *codec = avro_ocf_codec_name(w->codec);
    put_bytes(&h, codec, strlen(codec));
    for (size_t i = 0; i < opt->nmeta; i++) {
        put_bytes(&h, opt->meta[i].key, strlen(opt->meta[i].key));
        put_bytes(&h, opt->meta[i].value, opt->meta[i].len);
    }
    put_long(&h, 0);
    buf_append(&h, w->sync, OCF_SYNC_BYTES);
    int rc = ocf_emit(w, h.data, h.len, err, errlen);
    buf_free(&h);
    return rc;
}

avro_ocf_writer *avro_ocf_writer_create(const char *schema_json, size_t len, const avro_ocf_options *opt,
                                        const byte_output *out, char *err, size_t errlen)
{
    static const avro_ocf_options defaults = {0};
    avro_ocf_writer *w = NULL;
    if (!opt)
        opt = &defaults;
    if (!schema_json || !len || !out || !out->write) {
        err_setf(err, errlen, "avro container: schema and output are required");
        goto fail;
    }
    if (opt->codec != AVRO_OCF_CODEC_NULL && opt->codec != AVRO_OCF_CODEC_DEFLATE) {
        err_setf(err, errlen, "avro container: unknown codec %d", (int)opt->codec);
        goto fail;
    }
    if (opt->deflate_level < 0 || opt->deflate_level > 9) {
        err_setf(err, errlen, "avro container: deflate level %d is not in 1..9", opt->deflate_level);
        goto fail;
    }
    if (check_meta(opt, err, errlen) < 0)
        goto fail;

    w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    w->out = *out;
    w->codec = opt->codec;
    w->block_bytes = opt->block_bytes ? opt->block_bytes : OCF_DEFAULT_BLOCK_BYTES;
    if (avro_schema_from_json_length(schema_json, len, &w->schema) != 0) {
        err_setf(err, errlen, "avro schema: %s", avro_strerror());
        goto fail;
    }
    w->iface = avro_generic_class_from_schema(w->schema);
    if (!w->iface) {
        err_setf(err, errlen, "avro schema: %s", avro_strerror());
        goto fail;
    }
    if (avro_generic_value_new(w->iface, &w->value) != 0) {
        err_setf(err, errlen, "avro value: %s", avro_strerror());
        goto fail;
    }
    w->has_value = true;
    w->rec_cap = 4096;
    w->rec_buf = malloc(w->rec_cap);
    if (!w->rec_buf) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    w->rec_writer = avro_writer_memory(w->rec_buf, (int64_t)w->rec_cap);
    if (!w->rec_writer) {
        err_setf(err, errlen, "avro writer: %s", avro_strerror());
        goto fail;
    }
    if (w->codec == AVRO_OCF_CODEC_DEFLATE) {
        int level = opt->deflate_level ? opt->deflate_level : Z_DEFAULT_COMPRESSION;
        /* windowBits -15: raw deflate (RFC 1951), no zlib header or checksum, as Avro requires. */
        if (deflateInit2(&w->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            err_setf(err, errlen, "deflate: cannot initialise zlib");
            goto fail;
        }
        w->z_ready = true;
    }
    if (opt->sync)
        memcpy(w->sync, opt->sync, OCF_SYNC_BYTES);
    else if (random_bytes(w->sync, OCF_SYNC_BYTES) < 0) {
        err_setf(err, errlen, "sync marker: getrandom: %s", strerror(errno));
        goto fail;
    }
    if (write_header(w, schema_json, len, opt, err, errlen) < 0)
        goto fail;
    return w;

fail:
    avro_ocf_writer_destroy(w);
    return NULL;
}

avro_value_t *avro_ocf_writer_value(avro_ocf_writer *w)
{
    return &w->value;
}

static int check_usable(const avro_ocf_writer *w, char *err, size_t errlen)
{
    if (w->failed[0])
        return err_setf(err, errlen, "%s", w->failed);
    if (w->closed)
        return err_setf(err, errlen, "avro container: already closed");
    return 0;
}

/* Deflate the open block into zbuf; *out_len gets the compressed size. */
static int deflate_block(avro_ocf_writer *w, size_t *out_len, char *err, size_t errlen)
{
    size_t need = deflateBound(&w->z, (uLong)w->block.len);
    if (need > w->zcap) {
        unsigned char *p = realloc(w->zbuf, need);
        if (!p)
            return ocf_fail(w, "out of memory", err, errlen);
        w->zbuf = p;
        w->zcap = need;
    }
    if (deflateReset(&w->z) != Z_OK)
        return ocf_fail(w, "deflate: reset failed", err, errlen);
    w->z.next_in = (unsigned char *)w->block.data;
    w->z.avail_in = (uInt)w->block.len;
    w->z.next_out = w->zbuf;
    w->z.avail_out = (uInt)w->zcap;
    if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
        return ocf_fail(w, "deflate: the block did not compress into its bound", err, errlen);
    *out_len = w->zcap - w->z.avail_out;
    return 0;
}

int avro_ocf_writer_flush(avro_ocf_writer *w, char *err, size_t errlen)
{
    if (check_usable(w, err, errlen) < 0)
        return -1;
    if (w->block_records == 0)
        return 0;
    const void *data = w->block.data;
    size_t len = w->block.len;
    if (w->codec == AVRO_OCF_CODEC_DEFLATE) {
        if (deflate_block(w, &len, err, errlen) < 0)
            return -1;
        data = w->zbuf;
    }
    uint8_t frame[20];
    size_t n = avro_ocf_zigzag_encode((int64_t)w->block_records, frame);
    n += avro_ocf_zigzag_encode((int64_t)len, frame + n);
    if (ocf_emit(w, frame, n, err, errlen) < 0 || ocf_emit(w, data, len, err, errlen) < 0 ||
        ocf_emit(w, w->sync, OCF_SYNC_BYTES, err, errlen) < 0)
        return -1;
    w->blocks++;
    w->block_records = 0;
    buf_reset(&w->block);
    return 0;
}

/* Encode value into rec_buf, growing it until the record fits. Bytes written, or -1. */
static int64_t encode_record(avro_ocf_writer *w, avro_value_t *value, char *err, size_t errlen)
{
    for (;;) {
        avro_writer_reset(w->rec_writer);
        int rc = avro_value_write(w->rec_writer, value);
        if (rc == 0)
            return avro_writer_tell(w->rec_writer);
        if (rc != ENOSPC) {
            err_setf(err, errlen, "avro encode: %s", avro_strerror());
            return -1;
        }
        if (w->rec_cap >= OCF_RECORD_MAX) {
            err_setf(err, errlen, "avro encode: a record is larger than %zu bytes", OCF_RECORD_MAX);
            return -1;
        }
        char *p = realloc(w->rec_buf, w->rec_cap * 2);
        if (!p) {
            err_setf(err, errlen, "out of memory");
            return -1;
        }
        w->rec_buf = p;
        w->rec_cap *= 2;
        avro_writer_memory_set_dest(w->rec_writer, w->rec_buf, (int64_t)w->rec_cap);
    }
}

int avro_ocf_writer_append(avro_ocf_writer *w, avro_value_t *value, char *err, size_t errlen)
{
    if (check_usable(w, err, errlen) < 0)
        return -1;
    avro_schema_t s = avro_value_get_schema(value);
    if (s != w->schema && !avro_schema_equal(s, w->schema))
        return err_setf(err, errlen, "avro container: the value is not of the file's schema");
    int64_t n = encode_record(w, value, err, errlen);
    if (n < 0)
        return -1;
    buf_append(&w->block, w->rec_buf, (size_t)n);
    w->block_records++;
    w->records++;
    if (w->block.len >= w->block_bytes)
        return avro_ocf_writer_flush(w, err, errlen);
    return 0;
}

int avro_ocf_writer_close(avro_ocf_writer *w, uint64_t *bytes, char *err, size_t errlen)
{
    if (avro_ocf_writer_flush(w, err, errlen) < 0)
        return -1;
    w->closed = true;
    if (bytes)
        *bytes = w->bytes;
    return 0;
}

uint64_t avro_ocf_writer_records(const avro_ocf_writer *w)
{
    return w->records;
}

uint64_t avro_ocf_writer_blocks(const avro_ocf_writer *w)
{
    return w->blocks;
}

uint64_t avro_ocf_writer_bytes(const avro_ocf_writer *w)
{
    return w->bytes;
}

void avro_ocf_writer_destroy(avro_ocf_writer *w)
{
    if (!w)
        return;
    if (w->has_value)
        avro_value_decref(&w->value);
    if (w->iface)
        avro_value_iface_decref(w->iface);
    if (w->schema)
        avro_schema_decref(w->schema);
    if (w->rec_writer)
        avro_writer_free(w->rec_writer);
    if (w->z_ready)
        deflateEnd(&w->z);
    free(w->zbuf);
    free(w->rec_buf);
    buf_free(&w->block);
    free(w);
}
