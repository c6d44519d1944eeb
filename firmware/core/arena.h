/* arena: a bump allocator for short-lived data (one decoded message, one snapshot row batch).
 * Everything allocated is freed at once by arena_reset() / arena_destroy(). */
#ifndef SLUICE_CORE_ARENA_H
#define SLUICE_CORE_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_create(size_t block_size);
void arena_destroy(arena *a);
/* size bytes aligned for any type; aborts on out-of-memory like buf. */
void *arena_alloc(arena *a, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
/* Free everything allocated since creation; keeps the first block for reuse. */
void arena_reset(arena *a);
/* Bytes currently allocated from the system (for memory bounds in tests and metrics). */
size_t arena_footprint(const arena *a);

#endif
