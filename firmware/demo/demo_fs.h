/* demo_fs: checks that another user (postgres) can reach the demo's directories through every
 * parent (directory creation and removal are in core/fs.h). */
#ifndef SLUICE_DEMO_FS_H
#define SLUICE_DEMO_FS_H

#include <stddef.h>
#include <sys/types.h>

/* 0 when the user uid (primary group gid) may search every directory from / down to path
 * (path included), else -1 naming the first directory that stops it. */
int demo_fs_check_traversable(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
