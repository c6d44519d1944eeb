/* arena: bump allocation in linked blocks (see arena.h). */
#include "core/arena.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} block;

struct arena {
    block *head;        /* current block; older ones follow */
    size_t block_size;
    size_t footprint;
};

static block *block_new(arena *a, size_t min)
{
    size_t size = min > a->block_size ? min : a->block_size;
    block *b = malloc(sizeof *b + size);
    if (!b) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->footprint += size;
    return b;
}

arena *arena_create(size_t block_size)
{
    arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    return a;
}

void arena_destroy(arena *a)
{
    if (!a)
        return;
    for (block *b = a->head; b;) {
        block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void *arena_alloc(arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    block *b = a->head;
    if (!b || b->size - b->used < size)
        b = block_new(a, size);
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_reset(arena *a)
{
    block *keep = NULL;
    for (block *b = a->head; b;) {
        block *n = b->next;
        if (!n && b->size == a->block_size) {
            keep = b;   /* the oldest standard-size block */
        } else {
            a->footprint -= b->size;
            free(b);
        }
        b = n;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
}

size_t arena_footprint(const arena *a)
{
    return a->footprint;
}
