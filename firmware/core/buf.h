/* buf: a growable byte/string buffer, always NUL-terminated.
 * Used to build log lines, JSON and HTTP bodies without fixed-size arrays.
 * Owner: whoever holds the buf; buf_free() releases its memory (safe on a zeroed buf). */
#ifndef SLUICE_CORE_BUF_H
#define SLUICE_CORE_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes used, not counting the NUL */
    size_t cap;   /* bytes allocated */
} buf;

#define BUF_INIT {0, 0, 0}

/* Append bytes / a C string / printf-formatted text. Abort on out-of-memory. */
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included, escaping as RFC 8259 requires. */
void buf_json_string(buf *b, const char *s);
/* Empty the buffer but keep its memory. */
void buf_reset(buf *b);
/* Give the caller ownership of the data (never NULL: "" for an empty buf); the buf is emptied. */
char *buf_take(buf *b);
void buf_free(buf *b);

#endif
