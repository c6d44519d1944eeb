/* objstore: the object store the lake writes through, as a small ops table with two
 * implementations: S3 (objstore_s3.h) and a local directory (objstore_local.h, file://, the
 * embedded default). Test doubles implement the same ops.
 * Keys are relative, '/'-separated names below the store's root (an S3 bucket and prefix, or a
 * directory): "bronze/shop/public.orders/date=2026-11-26/hour=01/0_16B3748-0_16B9000.jsonl.gz".
 * Every call returns OBJSTORE_OK, or a negative objstore_status with the reason in err (for S3
 * the service's error code and message). An objstore is used by one thread at a time.
 * Ownership: objstore_destroy frees the store; a multipart upload is freed by complete or abort. */
#ifndef SLUICE_OBJSTORE_OBJSTORE_H
#define SLUICE_OBJSTORE_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum objstore_status {
    OBJSTORE_OK = 0,
    OBJSTORE_ERR = -1,        /* failed (after the store's retries); reason in err */
    OBJSTORE_NOT_FOUND = -2,  /* get, head: no such key */
    OBJSTORE_EXISTS = -3,     /* a create-only put found the key already there */
} objstore_status;

/* What is known about a stored object. */
typedef struct objstore_info {
    uint64_t size;
    int64_t mtime_unix;       /* last modified, Unix seconds (0 when unknown) */
    char etag[80];            /* as the store reports it, quotes removed ("" when none) */
} objstore_info;

typedef struct objstore_put_options {
    const char *content_type;  /* NULL: application/octet-stream */
    int if_none_match;         /* create only: OBJSTORE_EXISTS when the key exists (S3:
                                * If-None-Match: *, where the store supports it) */
} objstore_put_options;

/* Called for each listed key in lexicographic (byte) order; a non-zero return stops the
 * listing, which then returns that value. */
typedef int (*objstore_list_fn)(void *arg, const char *key, const objstore_info *info);

typedef struct objstore objstore;
typedef struct objstore_upload objstore_upload;   /* a multipart upload in progress */

typedef struct objstore_ops {
    /* Store len bytes under key, atomically: readers see the old object or the whole new one.
     * o may be NULL. */
    int (*put)(objstore *s, const char *key, const void *data, size_t len, const objstore_put_options *o,
               char *err, size_t errlen);
    /* Append the whole object to out (at most max bytes; 0 = 256 MiB) and fill info (may be NULL). */
    int (*get)(objstore *s, const char *key, buf *out, size_t max, objstore_info *info, char *err,
               size_t errlen);
    int (*head)(objstore *s, const char *key, objstore_info *info, char *err, size_t errlen);
    /* Every key starting with prefix ("" = all), in order. */
    int (*list)(objstore *s, const char *prefix, objstore_list_fn fn, void *arg, char *err, size_t errlen);
    /* Delete key; deleting a missing key succeeds (as in S3). */
    int (*remove)(objstore *s, const char *key, char *err, size_t errlen);
    /* A large object in parts: begin, part... (in order; every part but the last at least
     * OBJSTORE_PART_MIN bytes), then complete (the object appears whole, atomically) or abort
     * (nothing appears). Both free the upload, also on failure. begin returns NULL with err. */
    objstore_upload *(*upload_begin)(objstore *s, const char *key, const objstore_put_options *o, char *err,
                                     size_t errlen);
    int (*upload_part)(objstore *s, objstore_upload *u, const void *data, size_t len, char *err, size_t errlen);
    int (*upload_complete)(objstore *s, objstore_upload *u, char *err, size_t errlen);
    void (*upload_abort)(objstore *s, objstore_upload *u);
    void (*destroy)(objstore *s);
    /* A short description for logs and the console: "s3://bucket/prefix", "file:///var/lib/...". */
    const char *(*describe)(const objstore *s);
} objstore_ops;

/* Every implementation starts with this. */
struct objstore {
    const objstore_ops *ops;
};

#define OBJSTORE_PART_MIN (5u * 1024 * 1024)   /* S3's minimum part size */

static inline int objstore_put(objstore *s, const char *key, const void *data, size_t len,
                               const objstore_put_options *o, char *err, size_t errlen)
{
    return s->ops->put(s, key, data, len, o, err, errlen);
}

static inline int objstore_get(objstore *s, const char *key, buf *out, size_t max, objstore_info *info,
                               char *err, size_t errlen)
{
    return s->ops->get(s, key, out, max, info, err, errlen);
}

static inline int objstore_head(objstore *s, const char *key, objstore_info *info, char *err, size_t errlen)
{
    return s->ops->head(s, key, info, err, errlen);
}

static inline int objstore_list(objstore *s, const char *prefix, objstore_list_fn fn, void *arg, char *err,
                                size_t errlen)
{
    return s->ops->list(s, prefix, fn, arg, err, errlen);
}

static inline int objstore_remove(objstore *s, const char *key, char *err, size_t errlen)
{
    return s->ops->remove(s, key, err, errlen);
}

static inline const char *objstore_describe(const objstore *s)
{
    return s->ops->describe(s);
}

/* Accepts NULL. */
static inline void objstore_destroy(objstore *s)
{
    if (s)
        s->ops->destroy(s);
}

/* Append segment to b as part of a key: letters, digits, '.', '_', '-' and non-ASCII bytes as
 * they are, any other byte %-encoded ("%2F" for '/'), so a name becomes one key segment. */
void objstore_key_escape(buf *b, const char *segment);

/* Store the first size bytes of the local file fd under key: one put up to OBJSTORE_FD_PUT_MAX
 * bytes, a multipart upload of OBJSTORE_FD_PART_BYTES parts above (objstore_put_fd.c). The file
 * is read with pread (its offset is untouched). An objstore status with the reason in err. */
#define OBJSTORE_FD_PUT_MAX (16u * 1024 * 1024)
#define OBJSTORE_FD_PART_BYTES (8u * 1024 * 1024)
int objstore_put_fd(objstore *s, const char *key, int fd, uint64_t size, const objstore_put_options *o, char *err,
                    size_t errlen);

/* Is key acceptable to every implementation? Non-empty, at most 1024 bytes, valid UTF-8 without
 * control characters, no leading '/', no empty, "." or ".." segment. 0, or -1 with the reason. */
int objstore_key_check(const char *key, char *err, size_t errlen);

#endif
