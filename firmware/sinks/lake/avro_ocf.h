/* avro_ocf: writes an Avro object container file (Avro 1.11 spec, "Object Container Files"):
 * the magic "Obj\x01", the header metadata map (avro.schema exactly as given, so attributes such
 * as Iceberg's field-id survive; avro.codec; the caller's keys), a random 16-byte sync marker,
 * then data blocks (object count, byte size, objects, sync) cut at a size, with the null or
 * deflate (raw RFC 1951, zlib) codec. Records are encoded by libavro (avro_value_write); the
 * framing is ours because libavro drops unknown schema attributes and cannot add header keys.
 *
 * Ownership: create copies the schema text and metadata; the output (and its ctx) is borrowed
 * until destroy. The value returned by avro_ocf_writer_value belongs to the writer.
 * Errors: 0/-1 with the reason in the caller's err; an encoding error leaves the writer usable
 * (the record is not written); an output or compression error makes the writer failed: every
 * later call returns -1 with that reason. */
#ifndef SLUICE_SINKS_LAKE_AVRO_OCF_H
#define SLUICE_SINKS_LAKE_AVRO_OCF_H

#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/byte_output.h"   /* where the file's bytes go */

typedef enum avro_ocf_codec { AVRO_OCF_CODEC_NULL = 0, AVRO_OCF_CODEC_DEFLATE } avro_ocf_codec;

/* "null" / "deflate", and back (0 or -1). */
const char *avro_ocf_codec_name(avro_ocf_codec c);
int avro_ocf_codec_parse(const char *s, avro_ocf_codec *out);

/* One header metadata entry (Avro map<bytes>: the value is bytes, often UTF-8 text). */
typedef struct avro_ocf_meta {
    const char *key;     /* must not start with "avro." (reserved) */
    const void *value;
    size_t len;
} avro_ocf_meta;

typedef struct avro_ocf_options {
    avro_ocf_codec codec;
    int deflate_level;            /* 1..9; 0: zlib's default (6) */
    size_t block_bytes;           /* a block is cut once its encoded records reach this; 0: 64 KiB */
    const avro_ocf_meta *meta;    /* extra header keys, written in this order after avro.schema, avro.codec */
    size_t nmeta;
    const uint8_t *sync;          /* 16 bytes; NULL: random (tests pass a fixed one) */
} avro_ocf_options;

typedef struct avro_ocf_writer avro_ocf_writer;

/* A writer of records of the schema in schema_json (len bytes, parsed by libavro; written to
 * avro.schema byte for byte) into out. Writes the header at once. NULL with the reason in err. */
avro_ocf_writer *avro_ocf_writer_create(const char *schema_json, size_t len, const avro_ocf_options *opt,
                                        const byte_output *out, char *err, size_t errlen);

/* A generic value of the writer's schema, owned by the writer, for the caller to reset, fill
 * and pass to append (reused record after record). */
avro_value_t *avro_ocf_writer_value(avro_ocf_writer *w);

/* Encode one record (any avro_value_t of the writer's schema) into the open block; cuts the
 * block when it reaches block_bytes. 0, or -1 with the reason in err. */
int avro_ocf_writer_append(avro_ocf_writer *w, avro_value_t *value, char *err, size_t errlen);

/* Cut the open block now (nothing when it is empty). 0 or -1 with err. */
int avro_ocf_writer_flush(avro_ocf_writer *w, char *err, size_t errlen);

/* Flush and finish: *bytes (when set) gets the file's total size. 0 or -1 with err. After close
 * only destroy is allowed. */
int avro_ocf_writer_close(avro_ocf_writer *w, uint64_t *bytes, char *err, size_t errlen);

/* Counters: records appended, blocks written, bytes written to the output so far. */
uint64_t avro_ocf_writer_records(const avro_ocf_writer *w);
uint64_t avro_ocf_writer_blocks(const avro_ocf_writer *w);
uint64_t avro_ocf_writer_bytes(const avro_ocf_writer *w);

void avro_ocf_writer_destroy(avro_ocf_writer *w);   /* accepts NULL */

/* Avro's long encoding: zigzag, then base-128 varint, low groups first. Writes 1..10 bytes into
 * out (at least 10 bytes) and returns how many. */
size_t avro_ocf_zigzag_encode(int64_t v, uint8_t *out);

#endif
