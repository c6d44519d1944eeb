/* parquet_dict: a column chunk's dictionary (see parquet_dict.h). The table stays at most half
 * full and doubles when it would not. */
#include "sinks/lake/parquet_dict.h"

#include <stdbool.h>
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
    struct parquet_dict_slot *old = d->slots;
    size_t nold = d->nslots;
    d->slots = calloc(nslots, sizeof *d->slots);
    if (!d->slots)
        abort();
    d->nslots = nslots;
    for (size_t i = 0; i < nold; i++) {
        if (!old[i].index1)
            continue;
        size_t s = old[i].hash & (nslots - 1);
        while (d->slots[s].index1)
            s = (s + 1) & (nslots - 1);
        d->slots[s] = old[i];
    }
    free(old);
}

/* The slot key: short fixed-width keys themselves (one memory access per lookup), else their
 * offset in plain (the entry's bytes, found at the next access). */
static inline bool dict_inline(const parquet_dict *d, size_t len)
{
    return !d->byte_array && len <= 8;
}

uint32_t parquet_dict_insert(parquet_dict *d, const void *key, size_t len)
{
    if ((d->count + 1) * 2 > d->nslots)
        dict_rehash(d, d->nslots ? d->nslots * 2 : 1024);
    uint32_t h = dict_hash(key, len);
    bool in = dict_inline(d, len);
    uint64_t k = 0;
    if (in)
        memcpy(&k, key, len);
    size_t mask = d->nslots - 1, s = h & mask;
    for (;;) {
        const struct parquet_dict_slot *slot = &d->slots[s];
        if (!slot->index1)
            break;
        if (slot->hash == h) {
            if (in) {
                if (slot->key == k)
                    return slot->index1 - 1;
            } else {
                const char *p = d->plain.data + slot->key;
                uint32_t plen;
                if (d->byte_array)
                    memcpy(&plen, p - 4, 4);
                else
                    plen = d->entries[slot->index1 - 1].len;
                if (plen == len && memcmp(p, key, len) == 0)
                    return slot->index1 - 1;
            }
        }
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
    d->slots[s].hash = h;
    d->slots[s].index1 = (uint32_t)d->count + 1;
    d->slots[s].key = in ? k : e->off;
    return (uint32_t)d->count++;
}
