/* rules_pool: size-class free lists over slabs for the rule states (see rules_pool.h). */
#include "rules/rules_pool.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_GRAIN 16
#define POOL_SLAB (64 * 1024)

static size_t pool_class(size_t size)
{
    return (size - 1) / POOL_GRAIN;
}

size_t rules_pool_block_size(size_t size)
{
    return RULES_POOL_OWNS(size) ? (pool_class(size) + 1) * POOL_GRAIN : size;
}

void rules_pool_init(rules_pool *p)
{
    memset(p, 0, sizeof *p);
}

void rules_pool_release(rules_pool *p)
{
    for (char *s = p->slabs, *next; s; s = next) {
        memcpy(&next, s, sizeof next);
        POOL_UNPOISON(s, POOL_SLAB);   /* free() must not see poisoned bytes */
        free(s);
    }
    rules_pool_init(p);
}

void *rules_pool_alloc(rules_pool *p, size_t size)
{
    size_t c = pool_class(size), bytes = (c + 1) * POOL_GRAIN;
    void *block = p->free[c];
    if (block) {
        POOL_UNPOISON(block, bytes);
        memcpy(&p->free[c], block, sizeof(void *));
        POOL_POISON(block, bytes);
        POOL_UNPOISON(block, size);   /* ASan: only the bytes asked for */
        return block;
    }
    if (p->bump_left < bytes) {
        char *slab = malloc(POOL_SLAB);
        if (!slab)
            return NULL;
        memcpy(slab, &p->slabs, sizeof(void *));
        p->slabs = slab;
        p->bump = slab + POOL_GRAIN;   /* the first grain holds the link, keeping blocks aligned */
        p->bump_left = POOL_SLAB - POOL_GRAIN;
        POOL_POISON(p->bump, p->bump_left);
    }
    block = p->bump;
    POOL_UNPOISON(block, size);
    p->bump += bytes;
    p->bump_left -= bytes;
    return block;
}

void rules_pool_free(rules_pool *p, void *block, size_t size)
{
    size_t c = pool_class(size), bytes = (c + 1) * POOL_GRAIN;
    POOL_UNPOISON(block, bytes);
    memcpy(block, &p->free[c], sizeof(void *));
    p->free[c] = block;
    POOL_POISON(block, bytes);
}

void rules_pool_resized(void *block, size_t old_size, size_t new_size)
{
    POOL_POISON(block, (pool_class(old_size) + 1) * POOL_GRAIN);
    POOL_UNPOISON(block, new_size);
    (void)old_size, (void)new_size;
}
