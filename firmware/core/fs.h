/* fs: file and directory helpers (see fs.c). */
#ifndef SLUICE_CORE_FS_H
#define SLUICE_CORE_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

/* mkdir -p: create path and missing parents with mode. 0 or -1 with the reason in err. */
int fs_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);
/* rm -rf: remove path and everything below it; symbolic links are removed, never followed.
 * A missing path is not an error. 0 or -1 with the reason in err. */
int fs_remove_tree(const char *path, char *err, size_t errlen);

/* Append the whole file at path to out (at most max bytes). 0, or -1 with errno set (ENOENT,
 * EFBIG when larger than max, ...) and the reason, naming path, in err. */
int fs_read_file(const char *path, size_t max, buf *out, char *err, size_t errlen);

#endif
