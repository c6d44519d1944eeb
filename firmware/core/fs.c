/* fs: file-system chores shared by the daemon, the CLI and the demo: mkdir -p, rm -rf that
 * works on directory file descriptors (openat, unlinkat) so a symbolic link planted in a tree
 * cannot redirect it, and reading a whole (bounded) file. */
#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdirs(const char *path, mode_t mode, char *err, size_t errlen)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        snprintf(err, errlen, "bad directory path '%s'", path);
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", tmp, strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return -1;
    }
    return 0;
}

/* Empty the directory open as dfd (which this function closes). */
static int remove_contents(int dfd, const char *shown, char *err, size_t errlen)
{
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        snprintf(err, errlen, "cannot read directory %s: %s", shown, strerror(errno));
        close(dfd);
        return -1;
    }
    int rc = 0;
    /* Passes until one finds nothing: readdir may or may not show entries that changed
     * since the last rewind, so removing while reading is followed by another look. */
    for (;;) {
        int removed = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(dir)) != NULL) {
            const char *name = de->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                continue;
            struct stat st;
            if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue;
                snprintf(err, errlen, "cannot stat %s/%s: %s", shown, name, strerror(errno));
                rc = -1;
                break;
            }
            if (S_ISDIR(st.st_mode)) {
                int sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                    snprintf(err, errlen, "cannot open %s/%s: %s", shown, name, strerror(errno));
                    rc = -1;
                    break;
                }
                rc = remove_contents(sub, shown, err, errlen);
                if (rc == 0 && unlinkat(dirfd(dir), name, AT_REMOVEDIR) < 0) {
                    snprintf(err, errlen, "cannot remove %s/%s: %s", shown, name, strerror(errno));
                    rc = -1;
                }
            } else if (unlinkat(dirfd(dir), name, 0) < 0 && errno != ENOENT) {
                snprintf(err, errlen, "cannot remove %s/%s: %s", shown, name, strerror(errno));
                rc = -1;
            }
            removed++;
        }
        if (rc < 0 || removed == 0)
            break;
        rewinddir(dir);
    }
    closedir(dir);
    return rc;
}

int fs_remove_tree(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0) {
            snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (remove_contents(dfd, path, err, errlen) < 0)
        return -1;
    if (rmdir(path) < 0) {
        snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int fs_read_file(const char *path, size_t max, buf *out, char *err, size_t errlen)
{
    char chunk[8192];
    size_t n, start = out->len;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(out, chunk, n);
        if (out->len - start > max) {
            fclose(f);
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            errno = EFBIG;
            return -1;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "cannot read %s", path);
        errno = EIO;
        return -1;
    }
    return 0;
}
