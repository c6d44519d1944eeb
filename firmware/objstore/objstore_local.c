/* objstore_local: the object store as a directory tree (see objstore_local.h).
 * Every path below the root is reached with openat() one segment at a time (O_NOFOLLOW), so a
 * symbolic link planted in the tree cannot send a write elsewhere. A write is a temporary file
 * in <root>/.tmp (flocked by its writer for its whole life, which is how the crash sweep at
 * create tells orphans from live files), fsynced, renamed into place, and the parent fsynced. */
#include "objstore/objstore_local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/errbuf.h"
#include "core/fs.h"
#include "core/random.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define LOCAL_TMP_DIR ".tmp"
#define LOCAL_KEY_MAX 1024
#define LOCAL_PARTS_MAX 10000u
#define LOCAL_GET_MAX_DEFAULT ((size_t)256 << 20)
#define LOCAL_RETRIES 16   /* a concurrent remove may delete a directory a write is entering */

typedef struct local_store {
    objstore base;
    char *root;      /* absolute path of the directory */
    char *desc;      /* "file://<root>" */
    int root_fd;
    int tmp_fd;      /* <root>/.tmp */
} local_store;

/* A temporary file in <root>/.tmp, open and flocked. name is "" once renamed away. */
typedef struct local_tmp {
    int fd;
    char name[48];
} local_tmp;

struct objstore_upload {
    local_tmp tmp;
    char *key;
    int if_none_match;
    uint64_t size;        /* bytes written so far */
    unsigned parts;
    size_t last_part;     /* size of the latest part */
    int broken;           /* a failed part could not be undone: only abort is left */
};

/* The directory holding a key's last segment, reached from the root. */
typedef struct local_path {
    char buf[LOCAL_KEY_MAX + 1];   /* the key, its '/' replaced by NULs while walking */
    const char *leaf;              /* last segment, in buf */
    int fd;                        /* that directory (the root's fd is not closed) */
    int owned;
} local_path;

/* "<op> <root>/<key>: <detail>" into err; returns OBJSTORE_ERR. */
static int local_fail(const local_store *ls, char *err, size_t errlen, const char *op, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int local_fail(const local_store *ls, char *err, size_t errlen, const char *op, const char *key,
                      const char *fmt, ...)
{
    if (!err || !errlen)
        return OBJSTORE_ERR;
    int n = snprintf(err, errlen, "%s %s/%s: ", op, ls->root, key);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return OBJSTORE_ERR;
}

static int local_is_reserved(const char *key)
{
    size_t n = strlen(LOCAL_TMP_DIR);
    return strncmp(key, LOCAL_TMP_DIR, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

/* objstore_key_check, and the reserved first segment. */
static int local_key_check(const char *op, const char *key, char *err, size_t errlen)
{
    char why[256];
    if (objstore_key_check(key, why, sizeof why) < 0)
        return err_setf(err, errlen, "%s: %s", op, why);
    if (local_is_reserved(key))
        return err_setf(err, errlen, "%s: object key '%s' is in the local store's reserved '%s' directory",
                        op, key, LOCAL_TMP_DIR);
    return 0;
}

/* Open directory name below parent; with create, make it first when missing (and fsync
 * parent so the new entry is durable). -1 with errno. */
static int local_dir_step(int parent, const char *name, int create)
{
    for (int tries = 0;; tries++) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || !create || tries == LOCAL_RETRIES)
            return fd;
        if (mkdirat(parent, name, 0777) == 0) {
            if (fsync(parent) < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
    }
}

static void local_path_close(local_path *lp)
{
    if (lp->owned && lp->fd >= 0)
        close(lp->fd);
    lp->fd = -1;
    lp->owned = 0;
}

/* Open the directories of key (everything before its last '/'), creating them with create.
 * key is at most LOCAL_KEY_MAX bytes. 0, or the errno value with the reason in err. */
static int local_path_open(const local_store *ls, const char *op, const char *key, int create, local_path *lp,
                           char *err, size_t errlen)
{
    int restarts = 0;
restart:
    memcpy(lp->buf, key, strlen(key) + 1);
    lp->fd = ls->root_fd;
    lp->owned = 0;
    char *seg = lp->buf, *slash;
    while ((slash = strchr(seg, '/')) != NULL) {
        *slash = '\0';
        int fd = local_dir_step(lp->fd, seg, create);
        if (fd < 0) {
            int e = errno;
            local_path_close(lp);
            /* a concurrent remove pruned a directory already entered (mkdirat in a deleted
             * directory fails with ENOENT): walk the path again from the root */
            if (e == ENOENT && create && restarts++ < LOCAL_RETRIES)
                goto restart;
            local_fail(ls, err, errlen, op, key, "cannot %s directory %.*s: %s", create ? "create" : "open",
                       (int)(slash - lp->buf), key, strerror(e));
            return e;
        }
        local_path_close(lp);
        lp->fd = fd;
        lp->owned = 1;
        seg = slash + 1;
    }
    lp->leaf = seg;
    return 0;
}

static void local_info_fill(const struct stat *st, objstore_info *info)
{
    uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    info->size = (uint64_t)st->st_size;
    info->mtime_unix = (int64_t)st->st_mtim.tv_sec;
    snprintf(info->etag, sizeof info->etag, "%" PRIx64 "-%" PRIx64 "-%" PRIx64, (uint64_t)st->st_size,
             mtime_ns, (uint64_t)st->st_ino);
}

static int local_write_all(int fd, const void *data, size_t len, uint64_t offset)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

/* ---- temporary files ---- */

/* Create and flock a uniquely named file in .tmp. The lock is taken before anything is written;
 * if the crash sweep of another store unlinked the file in between, the link count says so. */
static int local_tmp_open(const local_store *ls, local_tmp *t, const char *op, const char *key, char *err,
                          size_t errlen)
{
    for (int tries = 0; tries < LOCAL_RETRIES; tries++) {
        char token[17];
        struct stat st;
        if (random_token(token, 16) < 0)
            return local_fail(ls, err, errlen, op, key, "cannot get random bytes: %s", strerror(errno));
        snprintf(t->name, sizeof t->name, "%ld-%s", (long)getpid(), token);
        t->fd = openat(ls->tmp_fd, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (t->fd < 0 && errno == EEXIST)
            continue;
        if (t->fd < 0)
            return local_fail(ls, err, errlen, op, key, "cannot create temporary file in %s/%s: %s", ls->root,
                              LOCAL_TMP_DIR, strerror(errno));
        while (flock(t->fd, LOCK_EX) < 0 && errno == EINTR)
            ;
        if (fstat(t->fd, &st) == 0 && st.st_nlink > 0)
            return 0;
        close(t->fd);
    }
    t->fd = -1;
    return local_fail(ls, err, errlen, op, key, "cannot create a temporary file in %s/%s", ls->root,
                      LOCAL_TMP_DIR);
}

/* Unlink (unless renamed away) and close. */
static void local_tmp_close(const local_store *ls, local_tmp *t)
{
    if (t->fd < 0)
        return;
    if (t->name[0])
        unlinkat(ls->tmp_fd, t->name, 0);
    close(t->fd);
    t->fd = -1;
}

/* Remove what crashed writers left in .tmp: every file whose flock can be taken. */
static int local_tmp_sweep(const local_store *ls, char *err, size_t errlen)
{
    int fd = openat(ls->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    int rc = 0;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return err_setf(err, errlen, "cannot read %s/%s: %s", ls->root, LOCAL_TMP_DIR, strerror(errno));
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        struct stat st;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (fstatat(ls->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
            continue;
        int f = S_ISREG(st.st_mode) ? openat(ls->tmp_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
        int orphan = f < 0 || flock(f, LOCK_EX | LOCK_NB) == 0;
        if (orphan && unlinkat(ls->tmp_fd, name, 0) < 0 && errno != ENOENT)
            rc = err_setf(err, errlen, "cannot remove leftover temporary file %s/%s/%s: %s", ls->root,
                          LOCAL_TMP_DIR, name, strerror(errno));
        if (f >= 0)
            close(f);
    }
    closedir(dir);
    return rc;
}

/* Give t the name leaf in directory dirfd; create-only uses renameat2(RENAME_NOREPLACE), or
 * link() where the file system lacks it (the .tmp name then goes when t is closed). -1 with
 * errno (EEXIST: the key exists). */
static int local_tmp_rename(const local_store *ls, local_tmp *t, int dirfd, const char *leaf, int if_none_match)
{
    int r;
    if (!if_none_match) {
        r = renameat(ls->tmp_fd, t->name, dirfd, leaf);
    } else {
#ifdef SYS_renameat2
        r = (int)syscall(SYS_renameat2, ls->tmp_fd, t->name, dirfd, leaf, RENAME_NOREPLACE);
        if (r < 0 && (errno == ENOSYS || errno == EINVAL))
#endif
            return linkat(ls->tmp_fd, t->name, dirfd, leaf, 0);
    }
    if (r == 0)
        t->name[0] = '\0';
    return r;
}

/* Move t to key: fsync it, rename it (create-only: without replacing) into its directory,
 * made as needed, and fsync that directory. */
static int local_tmp_publish(const local_store *ls, local_tmp *t, const char *op, const char *key,
                             int if_none_match, char *err, size_t errlen)
{
    if (fsync(t->fd) < 0)
        return local_fail(ls, err, errlen, op, key, "cannot fsync temporary file %s/%s: %s", LOCAL_TMP_DIR,
                          t->name, strerror(errno));
    for (int tries = 0;; tries++) {
        local_path lp;
        struct stat st;
        int e = local_path_open(ls, op, key, 1, &lp, err, errlen);
        if (e == ENOENT && tries < LOCAL_RETRIES)
            continue;   /* a concurrent remove pruned a directory while it was entered */
        if (e)
            return OBJSTORE_ERR;
        int r = local_tmp_rename(ls, t, lp.fd, lp.leaf, if_none_match);
        if (r == 0)
            r = fsync(lp.fd) < 0 ? -2 : 0;
        e = errno;
        int is_dir = r == -1 && e == EEXIST && fstatat(lp.fd, lp.leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISDIR(st.st_mode);
        local_path_close(&lp);
        if (r == 0)
            return OBJSTORE_OK;
        if (r == -2)
            return local_fail(ls, err, errlen, op, key, "cannot fsync its directory: %s", strerror(e));
        if (e == ENOENT && tries < LOCAL_RETRIES)
            continue;   /* a concurrent remove pruned the directory: make it again */
        if (e == EEXIST && !is_dir) {
            local_fail(ls, err, errlen, op, key, "already exists");
            return OBJSTORE_EXISTS;
        }
        return local_fail(ls, err, errlen, op, key, "cannot rename temporary file %s/%s into place: %s",
                          LOCAL_TMP_DIR, t->name, is_dir ? "a directory of other keys is there" : strerror(e));
    }
}

/* ---- the operations ---- */

static int local_put(objstore *s, const char *key, const void *data, size_t len, const objstore_put_options *o,
                     char *err, size_t errlen)
{
    local_store *ls = (local_store *)s;
    local_tmp t;
    if (local_key_check("put", key, err, errlen) < 0)
        return OBJSTORE_ERR;
    if (local_tmp_open(ls, &t, "put", key, err, errlen) < 0)
        return OBJSTORE_ERR;
    int rc;
    if (local_write_all(t.fd, data, len, 0) < 0)
        rc = local_fail(ls, err, errlen, "put", key, "cannot write temporary file %s/%s: %s", LOCAL_TMP_DIR,
                        t.name, strerror(errno));
    else
        rc = local_tmp_publish(ls, &t, "put", key, o && o->if_none_match, err, errlen);
    local_tmp_close(ls, &t);
    return rc;
}

/* Open key's file for reading: OBJSTORE_OK with *fd and *st, OBJSTORE_NOT_FOUND (also for a
 * directory: that is no object) or OBJSTORE_ERR. */
static int local_object_open(const local_store *ls, const char *op, const char *key, int *fd, struct stat *st,
                             char *err, size_t errlen)
{
    local_path lp;
    int e = local_path_open(ls, op, key, 0, &lp, err, errlen);
    if (e == ENOENT || e == ENOTDIR) {
        local_fail(ls, err, errlen, op, key, "no such object");
        return OBJSTORE_NOT_FOUND;
    }
    if (e)
        return OBJSTORE_ERR;
    *fd = openat(lp.fd, lp.leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    e = errno;
    local_path_close(&lp);
    if (*fd < 0 && (e == ENOENT || e == ENOTDIR)) {
        local_fail(ls, err, errlen, op, key, "no such object");
        return OBJSTORE_NOT_FOUND;
    }
    if (*fd < 0)
        return local_fail(ls, err, errlen, op, key, "cannot open: %s", e == ELOOP ? "a symbolic link" : strerror(e));
    int r = fstat(*fd, st);
    e = errno;
    if (r == 0 && S_ISREG(st->st_mode))
        return OBJSTORE_OK;
    close(*fd);
    *fd = -1;
    if (r < 0)
        return local_fail(ls, err, errlen, op, key, "cannot stat: %s", strerror(e));
    local_fail(ls, err, errlen, op, key, "no such object (not a regular file)");
    return OBJSTORE_NOT_FOUND;
}

/* Append fd's contents to out, failing beyond max bytes; out is left as it was on failure. */
static int local_read_all(int fd, buf *out, size_t max)
{
    size_t start = out->len, total = 0;
    char chunk[64 * 1024];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return 0;
        if (n < 0 || (total += (size_t)n) > max) {
            if (n > 0)
                errno = EFBIG;
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return -1;
        }
        buf_append(out, chunk, (size_t)n);
    }
}

static int local_get(objstore *s, const char *key, buf *out, size_t max, objstore_info *info, char *err,
                     size_t errlen)
{
    local_store *ls = (local_store *)s;
    struct stat st;
    int fd = -1;
    if (local_key_check("get", key, err, errlen) < 0)
        return OBJSTORE_ERR;
    int rc = local_object_open(ls, "get", key, &fd, &st, err, errlen);
    if (rc != OBJSTORE_OK)
        return rc;
    if (max == 0)
        max = LOCAL_GET_MAX_DEFAULT;
    if ((uint64_t)st.st_size > max)
        rc = local_fail(ls, err, errlen, "get", key, "object is %" PRIu64 " bytes, more than the limit of %zu",
                        (uint64_t)st.st_size, max);
    else if (local_read_all(fd, out, max) < 0)
        rc = local_fail(ls, err, errlen, "get", key, "cannot read: %s", strerror(errno));
    else if (info)
        local_info_fill(&st, info);
    close(fd);
    return rc;
}

static int local_head(objstore *s, const char *key, objstore_info *info, char *err, size_t errlen)
{
    local_store *ls = (local_store *)s;
    local_path lp;
    struct stat st;
    if (local_key_check("head", key, err, errlen) < 0)
        return OBJSTORE_ERR;
    int e = local_path_open(ls, "head", key, 0, &lp, err, errlen);
    if (e == ENOENT || e == ENOTDIR) {
        local_fail(ls, err, errlen, "head", key, "no such object");
        return OBJSTORE_NOT_FOUND;
    }
    if (e)
        return OBJSTORE_ERR;
    int r = fstatat(lp.fd, lp.leaf, &st, AT_SYMLINK_NOFOLLOW);
    e = errno;
    local_path_close(&lp);
    if ((r < 0 && (e == ENOENT || e == ENOTDIR)) || (r == 0 && !S_ISREG(st.st_mode))) {
        local_fail(ls, err, errlen, "head", key, "no such object");
        return OBJSTORE_NOT_FOUND;
    }
    if (r < 0)
        return local_fail(ls, err, errlen, "head", key, "cannot stat: %s", strerror(e));
    if (info)
        local_info_fill(&st, info);
    return OBJSTORE_OK;
}

/* After a remove: rmdir the key's directories from the deepest up while they are empty.
 * Best effort: the object is gone either way. */
static void local_prune(const local_store *ls, const char *key)
{
    char dir[LOCAL_KEY_MAX + 1];
    char *slash;
    snprintf(dir, sizeof dir, "%s", key);
    while ((slash = strrchr(dir, '/')) != NULL) {
        local_path lp;
        *slash = '\0';
        if (local_path_open(ls, "remove", dir, 0, &lp, NULL, 0) != 0)
            return;
        int r = unlinkat(lp.fd, lp.leaf, AT_REMOVEDIR);
        if (r == 0)
            fsync(lp.fd);
        local_path_close(&lp);
        if (r < 0)
            return;
    }
}

static int local_remove(objstore *s, const char *key, char *err, size_t errlen)
{
    local_store *ls = (local_store *)s;
    local_path lp;
    struct stat st;
    if (local_key_check("remove", key, err, errlen) < 0)
        return OBJSTORE_ERR;
    int e = local_path_open(ls, "remove", key, 0, &lp, err, errlen);
    if (e == ENOENT || e == ENOTDIR)
        return OBJSTORE_OK;
    if (e)
        return OBJSTORE_ERR;
    int rc = OBJSTORE_OK, removed = 0;
    if (fstatat(lp.fd, lp.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            rc = local_fail(ls, err, errlen, "remove", key, "cannot stat: %s", strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {   /* a directory is no object: nothing to remove */
        if (unlinkat(lp.fd, lp.leaf, 0) == 0)
            removed = 1;
        else if (errno != ENOENT)
            rc = local_fail(ls, err, errlen, "remove", key, "cannot unlink: %s", strerror(errno));
        if (removed && fsync(lp.fd) < 0)
            rc = local_fail(ls, err, errlen, "remove", key, "cannot fsync its directory: %s", strerror(errno));
    }
    local_path_close(&lp);
    if (removed)
        local_prune(ls, key);
    return rc;
}

/* ---- list ---- */

typedef struct local_entry {
    char *name;
    int is_dir;
    struct stat st;
} local_entry;

typedef struct local_lister {
    const local_store *ls;
    objstore_list_fn fn;
    void *arg;
    char key[LOCAL_KEY_MAX + 2];   /* the directory being listed, as a key prefix ending in '/' */
    char *err;
    size_t errlen;
} local_lister;

/* Byte order of the keys below: a directory sorts as its name followed by '/'. */
static int local_entry_cmp(const void *a, const void *b)
{
    const local_entry *x = a, *y = b;
    const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;
    while (*p && *p == *q)
        p++, q++;
    int cp = *p ? *p : x->is_dir ? '/' : 0;
    int cq = *q ? *q : y->is_dir ? '/' : 0;
    return cp - cq;
}

static void local_entries_free(local_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* Read the regular files and directories of dfd whose names start with filter, unsorted.
 * At the root, .tmp is left out. 0, or -1 with errno. */
static int local_entries_read(int dfd, const char *filter, int at_root, local_entry **out, size_t *count)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    local_entry *v = NULL;
    size_t n = 0, cap = 0, flen = strlen(filter);
    struct dirent *de;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(dir)) != NULL) {
        local_entry e = {0};
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strncmp(de->d_name, filter, flen) != 0 || (at_root && strcmp(de->d_name, LOCAL_TMP_DIR) == 0))
            continue;
        if (fstatat(dfd, de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !(S_ISREG(e.st.st_mode) || S_ISDIR(e.st.st_mode)))
            continue;   /* gone meanwhile, or a link or special file */
        e.is_dir = S_ISDIR(e.st.st_mode);
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            local_entry *nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        if (!(e.name = strdup(de->d_name)))
            break;
        v[n++] = e;
    }
    int failed = de != NULL;   /* stopped early: out of memory */
    closedir(dir);
    if (failed) {
        local_entries_free(v, n);
        errno = ENOMEM;
        return -1;
    }
    *out = v;
    *count = n;
    return 0;
}

/* List directory dfd (whose key prefix is in lister->key) and everything below, in order.
 * 0, the callback's non-zero value, or OBJSTORE_ERR. */
static int local_list_dir(local_lister *l, int dfd, const char *filter)
{
    size_t keylen = strlen(l->key);
    local_entry *v = NULL;
    size_t n = 0;
    int rc = 0;
    if (local_entries_read(dfd, filter, keylen == 0, &v, &n) < 0)
        return local_fail(l->ls, l->err, l->errlen, "list", l->key, "cannot read directory: %s", strerror(errno));
    if (n > 1)
        qsort(v, n, sizeof *v, local_entry_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        objstore_info info;
        size_t len = strlen(v[i].name);
        if (keylen + len > LOCAL_KEY_MAX)
            continue;
        memcpy(l->key + keylen, v[i].name, len + 1);
        if (objstore_key_check(l->key, NULL, 0) < 0) {
            continue;   /* not a name this store could have written */
        } else if (!v[i].is_dir) {
            local_info_fill(&v[i].st, &info);
            rc = l->fn(l->arg, l->key, &info);
        } else {
            int sub = openat(dfd, v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0 && errno != ENOENT) {
                rc = local_fail(l->ls, l->err, l->errlen, "list", l->key, "cannot open directory: %s",
                                strerror(errno));
            } else if (sub >= 0) {
                memcpy(l->key + keylen + len, "/", 2);
                rc = local_list_dir(l, sub, "");
                close(sub);
            }
        }
        l->key[keylen] = '\0';
    }
    local_entries_free(v, n);
    return rc;
}

static int local_list(objstore *s, const char *prefix, objstore_list_fn fn, void *arg, char *err, size_t errlen)
{
    local_store *ls = (local_store *)s;
    local_lister *l;
    local_path lp;
    if (!prefix)
        prefix = "";
    const char *slash = strrchr(prefix, '/');
    size_t dirlen = slash ? (size_t)(slash - prefix) : 0;
    if (strlen(prefix) > LOCAL_KEY_MAX)
        return OBJSTORE_OK;   /* no key is that long */
    if (slash) {
        /* Only keys below a valid directory part can match: anything else matches nothing. */
        char dir[LOCAL_KEY_MAX + 1];
        memcpy(dir, prefix, dirlen);
        dir[dirlen] = '\0';
        if (objstore_key_check(dir, NULL, 0) < 0 || local_is_reserved(dir))
            return OBJSTORE_OK;
    }
    int e = local_path_open(ls, "list", prefix, 0, &lp, err, errlen);
    if (e == ENOENT || e == ENOTDIR)
        return OBJSTORE_OK;
    if (e)
        return OBJSTORE_ERR;
    if (!(l = calloc(1, sizeof *l))) {
        local_path_close(&lp);
        return local_fail(ls, err, errlen, "list", prefix, "out of memory");
    }
    *l = (local_lister){.ls = ls, .fn = fn, .arg = arg, .err = err, .errlen = errlen};
    memcpy(l->key, prefix, slash ? dirlen + 1 : 0);
    int rc = local_list_dir(l, lp.fd, lp.leaf);
    local_path_close(&lp);
    free(l);
    return rc;
}

/* ---- multipart ---- */

static objstore_upload *local_upload_begin(objstore *s, const char *key, const objstore_put_options *o, char *err,
                                           size_t errlen)
{
    local_store *ls = (local_store *)s;
    objstore_upload *u;
    if (local_key_check("upload", key, err, errlen) < 0)
        return NULL;
    if (!(u = calloc(1, sizeof *u)) || !(u->key = strdup(key))) {
        free(u);
        local_fail(ls, err, errlen, "upload", key, "out of memory");
        return NULL;
    }
    if (local_tmp_open(ls, &u->tmp, "upload", key, err, errlen) < 0) {
        free(u->key);
        free(u);
        return NULL;
    }
    u->if_none_match = o && o->if_none_match;
    return u;
}

static int local_upload_part(objstore *s, objstore_upload *u, const void *data, size_t len, char *err,
                             size_t errlen)
{
    local_store *ls = (local_store *)s;
    if (u->broken)
        return local_fail(ls, err, errlen, "upload", u->key, "an earlier part failed; abort the upload");
    if (u->parts > 0 && u->last_part < OBJSTORE_PART_MIN)
        return local_fail(ls, err, errlen, "upload", u->key,
                          "part %u is %zu bytes; every part but the last must be at least %u", u->parts,
                          u->last_part, OBJSTORE_PART_MIN);
    if (u->parts == LOCAL_PARTS_MAX)
        return local_fail(ls, err, errlen, "upload", u->key, "more than %u parts", LOCAL_PARTS_MAX);
    if (local_write_all(u->tmp.fd, data, len, u->size) < 0) {
        int e = errno;
        if (ftruncate(u->tmp.fd, (off_t)u->size) < 0)
            u->broken = 1;
        return local_fail(ls, err, errlen, "upload", u->key, "cannot write part %u to %s/%s: %s", u->parts + 1,
                          LOCAL_TMP_DIR, u->tmp.name, strerror(e));
    }
    u->parts++;
    u->size += len;
    u->last_part = len;
    return OBJSTORE_OK;
}

static void local_upload_abort(objstore *s, objstore_upload *u)
{
    if (!u)
        return;
    local_tmp_close((local_store *)s, &u->tmp);
    free(u->key);
    free(u);
}

static int local_upload_complete(objstore *s, objstore_upload *u, char *err, size_t errlen)
{
    local_store *ls = (local_store *)s;
    int rc;
    if (u->broken)
        rc = local_fail(ls, err, errlen, "upload", u->key, "an earlier part failed");
    else if (u->parts == 0)
        rc = local_fail(ls, err, errlen, "upload", u->key, "no part was uploaded");
    else
        rc = local_tmp_publish(ls, &u->tmp, "upload", u->key, u->if_none_match, err, errlen);
    local_upload_abort(s, u);
    return rc;
}

/* ---- the store ---- */

static const char *local_describe(const objstore *s)
{
    return ((const local_store *)s)->desc;
}

static void local_destroy(objstore *s)
{
    local_store *ls = (local_store *)s;
    if (!ls)
        return;
    if (ls->tmp_fd >= 0)
        close(ls->tmp_fd);
    if (ls->root_fd >= 0)
        close(ls->root_fd);
    free(ls->root);
    free(ls->desc);
    free(ls);
}

static const objstore_ops local_ops = {
    .put = local_put,
    .get = local_get,
    .head = local_head,
    .list = local_list,
    .remove = local_remove,
    .upload_begin = local_upload_begin,
    .upload_part = local_upload_part,
    .upload_complete = local_upload_complete,
    .upload_abort = local_upload_abort,
    .destroy = local_destroy,
    .describe = local_describe,
};

/* Open the root and .tmp (made if missing) as directory descriptors. */
static int local_open_dirs(local_store *ls, char *err, size_t errlen)
{
    ls->root_fd = open(ls->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->root_fd < 0)
        return err_setf(err, errlen, "cannot open %s: %s", ls->root, strerror(errno));
    ls->tmp_fd = local_dir_step(ls->root_fd, LOCAL_TMP_DIR, 1);
    if (ls->tmp_fd < 0)
        return err_setf(err, errlen, "cannot create %s/%s: %s", ls->root, LOCAL_TMP_DIR, strerror(errno));
    return 0;
}

objstore *objstore_local_create(const char *dir, char *err, size_t errlen)
{
    local_store *ls = calloc(1, sizeof *ls);
    if (!ls) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    ls->base.ops = &local_ops;
    ls->root_fd = ls->tmp_fd = -1;
    if (!dir || !*dir) {
        err_setf(err, errlen, "local object store: no directory given");
        goto fail;
    }
    if (fs_mkdirs(dir, 0777, err, errlen) < 0)
        goto fail;
    if (!(ls->root = realpath(dir, NULL))) {
        err_setf(err, errlen, "cannot resolve %s: %s", dir, strerror(errno));
        goto fail;
    }
    size_t desclen = strlen("file://") + strlen(ls->root) + 1;
    if (!(ls->desc = malloc(desclen))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(ls->desc, desclen, "file://%s", ls->root);
    if (local_open_dirs(ls, err, errlen) < 0 || local_tmp_sweep(ls, err, errlen) < 0)
        goto fail;
    return &ls->base;
fail:
    local_destroy(&ls->base);
    return NULL;
}
