/* bronze_object: one bronze object being written for one destination table ("schema.table", or
 * the table a rule routed its events to, bronze_sink.h): newline-delimited Debezium
 * events, compressed into an anonymous spool file (unlinked at once, so a crash leaves nothing
 * behind; the events come again from the slot), then uploaded whole or in parts under
 *   bronze/<source>/<schema>.<table>/date=YYYY-MM-DD/hour=HH/<first>-<last>.jsonl.gz
 * (<route table> in place of <schema>.<table> for routed events)
 * where the partition is the UTC hour of the first event's commit and <first>/<last> are the
 * positions of its first and last events (LLLLLLLLLLLLLLLL_S: the LSN of the transaction's commit in 16 hex
 * digits, then the event's sequence in it), so a retried upload overwrites itself.
 * Ownership: the caller owns the object (bronze_object_destroy); strings are copied. */
#ifndef SLUICE_SINKS_LAKE_BRONZE_OBJECT_H
#define SLUICE_SINKS_LAKE_BRONZE_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/compress.h"
#include "objstore/objstore.h"
#include "sinks/lake/bronze_state.h"

typedef struct bronze_object {
    char *table;              /* "schema.table", or a route's table name */
    int64_t hour;             /* partition: Unix hour (commit time / 3600 s) */
    bronze_pos first, last;   /* positions of the first and last events */
    uint64_t prev_end;        /* end LSN of the last transaction committed before the first event */
    int64_t opened_ms;        /* monotonic time it was opened */
    uint64_t events;
    char *key;                /* set by bronze_object_finish */
    int fd;                   /* the spool file */
    compress_writer *w;       /* NULL once finished */
    compress_codec codec;
} bronze_object;

/* Build the object key (see above) into out; table is "schema.table" (characters other than
 * letters, digits, '.', '_', '-' and non-ASCII are %-encoded). */
void bronze_object_key_format(char *out, size_t outlen, const char *source, const char *table, int64_t hour,
                              bronze_pos first, bronze_pos last, compress_codec codec);

/* The key of an object of Kafka records (bronze_consumer.h): like the above, with the file name
 * k<topic>.<partition>_<first offset>-<last offset>.jsonl.gz (offsets in 19 digits, so keys sort
 * by offset), so a retried upload of the same records overwrites itself. */
void bronze_object_kafka_key_format(char *out, size_t outlen, const char *source, const char *table, int64_t hour,
                                    const char *topic, int32_t partition, int64_t first, int64_t last,
                                    compress_codec codec);

/* A new, empty object in spool_dir. NULL with the reason in err. */
bronze_object *bronze_object_create(const char *spool_dir, compress_codec codec, const char *table, int64_t hour,
                                    uint64_t prev_end, int64_t now_ms, char *err, size_t errlen);
/* Add one event (line ends with '\n') at pos. 0, or -1 with err. */
int bronze_object_append(bronze_object *o, const char *line, size_t len, bronze_pos pos, char *err,
                         size_t errlen);
/* Compressed bytes so far. */
uint64_t bronze_object_size(const bronze_object *o);
/* End the compressed stream and name the object. 0, or -1 with err. */
int bronze_object_finish(bronze_object *o, const char *source, char *err, size_t errlen);
/* Like bronze_object_finish, naming the object key (e.g. from bronze_object_kafka_key_format). */
int bronze_object_finish_as(bronze_object *o, const char *key, char *err, size_t errlen);
/* Upload a finished object: one put up to 16 MiB, else a multipart upload of 8 MiB parts.
 * Returns an objstore_status (reason in err). */
int bronze_object_upload(bronze_object *o, objstore *s, char *err, size_t errlen);
void bronze_object_destroy(bronze_object *o);   /* accepts NULL; closes the spool file */

#endif
