/* rules_pool: a small-block allocator for the rule states (rules_vm.c's Lua allocator): blocks of
 * up to RULES_POOL_MAX bytes come from free lists per 16-byte size class, carved from 64 KiB
 * slabs, which is several times cheaper than malloc/free for Lua's many small strings and tables.
 * Blocks are identified by their size (Lua's allocator always passes a block's size), so the pool
 * needs no headers. Memory returns to the system when the pool is released (with its state).
 * Under AddressSanitizer free blocks and unused slab space are poisoned, so ASan still catches a
 * use after free or an overflow into a neighbour.
 * Not thread-safe: one pool per lua_State. */
#ifndef SLUICE_RULES_RULES_POOL_H
#define SLUICE_RULES_RULES_POOL_H

#include <stddef.h>

#define RULES_POOL_MAX 256
#define RULES_POOL_CLASSES 16   /* of 16 bytes each */

typedef struct rules_pool {
    void *free[RULES_POOL_CLASSES];   /* per class: a list linked through the blocks */
    void *slabs;                      /* every slab, linked through its first word */
    char *bump;                       /* the unused end of the newest slab */
    size_t bump_left;
} rules_pool;

/* Is a block of this size the pool's? */
#define RULES_POOL_OWNS(size) ((size) > 0 && (size) <= RULES_POOL_MAX)

/* The bytes a block of size takes (its class's size for pooled blocks). */
size_t rules_pool_block_size(size_t size);

void rules_pool_init(rules_pool *p);
void rules_pool_release(rules_pool *p);   /* every block and slab */
/* A block of size (RULES_POOL_OWNS(size)), or NULL when out of memory. */
void *rules_pool_alloc(rules_pool *p, size_t size);
/* Return a block of that size. */
void rules_pool_free(rules_pool *p, void *block, size_t size);
/* A block now holds new_size bytes instead of old_size, in the same class (for ASan). */
void rules_pool_resized(void *block, size_t old_size, size_t new_size);

#endif
