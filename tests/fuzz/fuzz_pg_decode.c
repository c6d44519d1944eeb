/* libFuzzer target: the pgoutput decoder must reject malformed messages with an error, never
 * crash or read out of bounds. The input is a sequence of messages, each framed as a 2-byte
 * big-endian length and that many bytes (the last may be short), fed to one decoder in order;
 * the handler reads every value so sanitizers see any bad pointer. Seeds in
 * tests/fuzz/corpus/pg_decode were captured from a real PostgreSQL 15 (see its README.md). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/pg_decode.h"
#include "capture/pg_schema.h"

static volatile uint64_t fuzz_sink;

static void fuzz_touch(const value *vals, int n)
{
    uint64_t h = 0;
    for (int i = 0; vals && i < n; i++) {
        const value *v = &vals[i];
        h += v->state + (uint64_t)v->v.i + (uint64_t)v->tz_offset;
        for (size_t k = 0; v->s && k < v->len; k++)
            h = h * 31 + (uint8_t)v->s[k];
    }
    fuzz_sink += h;
}

static int fuzz_change(void *arg, const event *ev, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    const table_def *t = ev->table;
    fuzz_touch(ev->before, t->ncols);
    fuzz_touch(ev->after, t->ncols);
    for (int i = 0; i < t->ncols; i++)
        fuzz_sink += strlen(t->cols[i].name) + strlen(t->cols[i].type_name);
    fuzz_sink += ev->seq + ev->lsn + ev->tx->xid + strlen(t->schema) + strlen(t->name);
    return 0;
}

static int fuzz_message(void *arg, const logical_message *m, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    fuzz_sink += strlen(m->prefix);
    for (size_t i = 0; i < m->len; i++)
        fuzz_sink += m->content[i];
    return 0;
}

static int fuzz_schema(void *arg, const table_def *def, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    fuzz_sink += def->version + (uint64_t)def->ncols;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_schema *schema = pg_schema_create(NULL);
    pg_decoder *dec = pg_decoder_create(schema);
    /* The first input byte picks the spill threshold, so streamed transactions are fuzzed both
     * in memory and spilled to disk. */
    if (size > 0 && (data[0] & 1))
        pg_decoder_set_spill(dec, NULL, 64);
    pg_decode_handler h = {.change = fuzz_change, .message = fuzz_message, .schema = fuzz_schema};
    char err[256];
    uint64_t lsn = 0x1000000;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        pg_decoder_feed(dec, lsn + off, data + off, len, &h, err, sizeof err);
        off += len;
    }
    fuzz_sink += pg_decoder_footprint(dec);
    pg_decoder_destroy(dec);
    pg_schema_destroy(schema);
    return 0;
}
