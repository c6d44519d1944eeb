/* demo_fs: the file-system chores of `sluice demo`: create directory chains, wipe the demo's
 * previous state without following symbolic links, and check that another user (postgres)
 * can reach a directory through every parent. */
#ifndef SLUICE_DEMO_FS_H
#define SLUICE_DEMO_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: create path and missing parents with mode. 0 or -1 with the reason in err. */
int demo_fs_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);
/* rm -rf: remove path and everything below it; symbolic links are removed, never followed.
 * A missing path is not an error. 0 or -1 with the reason in err. */
int demo_fs_remove_tree(const char *path, char *err, size_t errlen);
/* 0 when the user uid (primary group gid) may search every directory from / down to path
 * (path included), else -1 naming the first directory that stops it. */
int demo_fs_check_traversable(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
