/* silver_keyfilter: a Bloom filter of row keys (see silver_keyfilter.h): 10 bits per key of
 * capacity and 7 probes (double hashing of one 128-bit hash), about 1% false positives when
 * full. */
#include "sinks/lake/silver_keyfilter.h"

#include <stdlib.h>
#include <string.h>

#define SKF_BITS_PER_KEY 10
#define SKF_PROBES 7

struct silver_keyfilter {
    uint64_t *bits;
    uint64_t nbits;
    size_t capacity;
    size_t count;
};

silver_keyfilter *silver_keyfilter_create(size_t capacity)
{
    silver_keyfilter *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->capacity = capacity < 1024 ? 1024 : capacity;
    f->nbits = ((uint64_t)f->capacity * SKF_BITS_PER_KEY + 63) & ~(uint64_t)63;
    if (!(f->bits = calloc(f->nbits / 64, sizeof *f->bits))) {
        free(f);
        return NULL;
    }
    return f;
}

void silver_keyfilter_destroy(silver_keyfilter *f)
{
    if (!f)
        return;
    free(f->bits);
    free(f);
}

/* splitmix64's finalizer: every input bit affects every output bit. */
static uint64_t skf_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Two independent 64-bit hashes of the key. */
static void skf_hash(const void *key, size_t len, uint64_t *h1, uint64_t *h2)
{
    const unsigned char *p = key;
    uint64_t a = 0x9e3779b97f4a7c15ull ^ len, b = 0xc2b2ae3d27d4eb4full + len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a = skf_mix(a ^ w);
        b = skf_mix(b + w);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    a = skf_mix(a ^ w ^ ((uint64_t)len << 56));
    b = skf_mix(b + w + ((uint64_t)len << 56));
    *h1 = a;
    *h2 = b | 1;   /* odd: the probes do not repeat */
}

void silver_keyfilter_add(silver_keyfilter *f, const void *key, size_t len)
{
    uint64_t h1, h2;
    skf_hash(key, len, &h1, &h2);
    for (int i = 0; i < SKF_PROBES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) % f->nbits;
        f->bits[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
    f->count++;
}

int silver_keyfilter_maybe(const silver_keyfilter *f, const void *key, size_t len)
{
    uint64_t h1, h2;
    skf_hash(key, len, &h1, &h2);
    for (int i = 0; i < SKF_PROBES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) % f->nbits;
        if (!(f->bits[bit / 64] & ((uint64_t)1 << (bit % 64))))
            return 0;
    }
    return 1;
}

int silver_keyfilter_full(const silver_keyfilter *f)
{
    return f->count > f->capacity;
}

size_t silver_keyfilter_count(const silver_keyfilter *f)
{
    return f->count;
}
