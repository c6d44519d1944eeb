/* objstore_local: the object store as a local directory (file://), the embedded default.
 * Key "a/b/c" is the file <dir>/a/b/c. Writes go to a temporary file in <dir>/.tmp/, are
 * fsynced and renamed into place, and the parent directory is fsynced, so readers see the old
 * object or the whole new one and a completed put survives a crash. Works with several stores
 * (threads or processes) on one directory.
 * Differences from S3: a key cannot also be a "directory" of other keys ("a" and "a/b" cannot
 * both exist: the second put fails), a segment may be at most the file system's NAME_MAX
 * (255 bytes) long, and the first segment ".tmp" is reserved. */
#ifndef SLUICE_OBJSTORE_OBJSTORE_LOCAL_H
#define SLUICE_OBJSTORE_OBJSTORE_LOCAL_H

#include <stddef.h>

#include "objstore/objstore.h"

/* Open the store rooted at dir, creating it (and its parents) if missing, and remove temporary
 * files left in <dir>/.tmp by a crash (files a live writer holds are kept: each writer keeps
 * an flock on its temporary file). describe() gives "file://<absolute dir>".
 * Returns the store (the caller frees it with objstore_destroy), or NULL with the reason in err.
 *
 * Behaviour of the operations, beyond objstore.h:
 * - etag: "<size>-<mtime in ns>-<inode>" in hex; it changes whenever the object is rewritten.
 * - get: an object larger than max fails with OBJSTORE_ERR (out keeps what it had).
 * - put and upload_complete with if_none_match publish with renameat2(RENAME_NOREPLACE), or
 *   link() where the file system lacks it, so of concurrent creators exactly one wins.
 * - list walks the tree in byte order of keys, without reading it all first; symbolic links,
 *   special files and names that are not valid keys are skipped.
 * - remove also removes the key's parent directories that became empty (never dir itself).
 * - multipart: parts are appended to one temporary file; as with S3, a part after one smaller
 *   than OBJSTORE_PART_MIN, more than 10,000 parts, or completing with no part fails.
 *   Uploads must be completed or aborted before objstore_destroy. */
objstore *objstore_local_create(const char *dir, char *err, size_t errlen);

#endif
