/* parquet_dict: a column chunk's dictionary (see parquet_dict.h). The table stays at most half
 * full and doubles when it would not. */
#include "sinks/lake/parquet_dict.h"

#include <stdlib.h>
#include <string.h>

static uint32_t dict_hash(const uint8_t *p, size_t len)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0x243F6A8885A308D3ull ^ (len * k);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * k;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

void parquet_dict_reset(parquet_dict *d)
{
    buf_reset(&d->plain);
    d->count = 0;
    if (d->slots)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

void parquet_dict_free(parquet_dict *d)
{
    buf_free(&d->plain);
    free(d->entries);
    free(d->slots);
    d->entries = NULL;
    d->slots = NULL;
    d->count = d->cap = d->nslots = 0;
}

static void *dict_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

static void dict_rehash(parquet_dict *d, size_t nslots)
{
    free(d->slots);
    d->slots = calloc(nslots, sizeof *d->slots);
    if (!d->slots)
        abort();
    d->nslots = nslots;
    for (size_t i = 0; i < d->count; i++) {
        size_t s = d->entries[i].hash & (nslots - 1);
        while (d->slots[s])
            s = (s + 1) & (nslots - 1);
        d->slots[s] = (uint32_t)i + 1;
    }
}

uint32_t parquet_dict_insert(parquet_dict *d, const void *key, size_t len)
{
    if ((d->count + 1) * 2 > d->nslots)
        dict_rehash(d, d->nslots ? d->nslots * 2 : 1024);
    uint32_t h = dict_hash(key, len);
    size_t mask = d->nslots - 1, s = h & mask;
    for (;;) {
        uint32_t slot = d->slots[s];
        if (!slot)
            break;
        const parquet_dict_entry *e = &d->entries[slot - 1];
        if (e->hash == h && e->len == len && memcmp(d->plain.data + e->off, key, len) == 0)
            return slot - 1;
        s = (s + 1) & mask;
    }
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->entries = dict_xrealloc(d->entries, d->cap * sizeof *d->entries);
    }
    if (d->byte_array) {
        uint32_t l32 = (uint32_t)len;
        buf_append(&d->plain, &l32, 4);
    }
    parquet_dict_entry *e = &d->entries[d->count];
    e->off = d->plain.len;
    e->len = (uint32_t)len;
    e->hash = h;
    buf_append(&d->plain, key, len);
    d->slots[s] = (uint32_t)d->count + 1;
    return (uint32_t)d->count++;
}
