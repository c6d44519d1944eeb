/* buf: a growable byte/string buffer, always NUL-terminated.
 * Used to build log lines, JSON and HTTP bodies without fixed-size arrays.
 * Owner: whoever holds the buf; buf_free() releases its memory (safe on a zeroed buf). */
#ifndef SLUICE_CORE_BUF_H
#define SLUICE_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct buf {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes used, not counting the NUL */
    size_t cap;   /* bytes allocated */
} buf;

#define BUF_INIT {0, 0, 0}

/* Append bytes / a C string / printf-formatted text. Abort on out-of-memory.
 * buf_append is inline when the bytes fit (encoders append many short pieces per row). */
void buf_append_grow(buf *b, const void *data, size_t len);
static inline void buf_append(buf *b, const void *data, size_t len)
{
    if (b->len + len >= b->cap) {
        buf_append_grow(b, data, len);
        return;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included, escaping as RFC 8259 requires. */
void buf_json_string(buf *b, const char *s);
/* Append the decimal text of a signed / unsigned 64-bit integer (no printf on hot paths). */
void buf_put_i64(buf *b, int64_t v);
void buf_put_u64(buf *b, uint64_t v);
/* Empty the buffer but keep its memory. */
void buf_reset(buf *b);
/* Cut the contents back to their first len bytes (len <= b->len). */
void buf_truncate(buf *b, size_t len);
/* Give the caller ownership of the data (never NULL: "" for an empty buf); the buf is emptied. */
char *buf_take(buf *b);
void buf_free(buf *b);

#endif
