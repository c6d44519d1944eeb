/* parquet_dict: the dictionary of one column chunk, for dictionary encoding: distinct values in
 * first-seen order, found again through an open-addressing hash table, and their PLAIN encoding
 * (the dictionary page body) built as they arrive. Values are keyed by their bytes (the PLAIN
 * bytes of fixed-width types, the contents of byte arrays).
 * Ownership: the dict owns its memory (parquet_dict_free); keys are copied. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_DICT_H
#define SLUICE_SINKS_LAKE_PARQUET_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct parquet_dict_entry {
    uint64_t off;   /* where the key's bytes start in plain */
    uint32_t len;
    uint32_t hash;
} parquet_dict_entry;

typedef struct parquet_dict {
    bool byte_array;             /* entries are BYTE_ARRAY: PLAIN has a 4-byte length before each */
    buf plain;                   /* the dictionary page body */
    parquet_dict_entry *entries; /* by index */
    size_t count, cap;
    struct parquet_dict_slot {   /* hash table: index1 0 = empty */
        uint32_t hash;
        uint32_t index1;         /* index + 1 */
        uint64_t key;            /* keys of up to 8 bytes (fixed width) inline, else the offset in plain */
    } *slots;
    size_t nslots;
} parquet_dict;

/* A zeroed parquet_dict with byte_array set is ready to use. */
void parquet_dict_reset(parquet_dict *d);   /* empty, memory kept */
void parquet_dict_free(parquet_dict *d);

/* The index of key (added when new). */
uint32_t parquet_dict_insert(parquet_dict *d, const void *key, size_t len);

#endif
