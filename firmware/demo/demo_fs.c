/* demo_fs: checks that the demo's state directory is reachable by the postgres user
 * (see demo_fs.h). */
#include "demo/demo_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int may_search(const struct stat *st, uid_t uid, gid_t gid)
{
    if (uid == 0)
        return 1;
    if (st->st_uid == uid)
        return (st->st_mode & S_IXUSR) != 0;
    if (st->st_gid == gid)
        return (st->st_mode & S_IXGRP) != 0;
    return (st->st_mode & S_IXOTH) != 0;
}

int demo_fs_check_traversable(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp || path[0] != '/') {
        snprintf(err, errlen, "bad directory path '%s'", path);
        return -1;
    }
    memcpy(tmp, path, n + 1);
    /* Check "/", then every prefix that ends just before a '/', then the whole path. */
    for (size_t i = 0; i <= n; i++) {
        if (i > 0 && i < n && tmp[i] != '/')
            continue;
        if (i > 0 && tmp[i - 1] == '/')
            continue; /* "//" or a trailing '/' */
        char saved = tmp[i];
        if (i > 0)
            tmp[i] = '\0';
        const char *dir = i == 0 ? "/" : tmp;
        struct stat st;
        if (stat(dir, &st) < 0) {
            snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(errno));
            return -1;
        }
        if (!may_search(&st, uid, gid)) {
            snprintf(err, errlen,
                     "directory %s (mode %03o) is not traversable by uid %ld; "
                     "allow it (e.g. chmod o+x %s) or choose another --state-dir",
                     dir, (unsigned)(st.st_mode & 07777), (long)uid, dir);
            return -1;
        }
        tmp[i] = saved;
    }
    return 0;
}
