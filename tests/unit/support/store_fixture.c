/* store_fixture: the shared unit-test fixture declared in store_fixture.h (temporary directory,
 * secrets key and store, and their recursive clean-up). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fs.h"
#include "store_fixture.h"

char *store_fixture_tmpdir(char *dir, size_t len, const char *name_prefix)
{
    const char *base = getenv("SLUICE_TEST_TMP");
    char path[512];
    if (!base || !*base)
        base = "/tmp";
    snprintf(path, sizeof path, "%s", base);
    for (char *p = path + 1; *p; p++)   /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    mkdir(path, 0700);
    if ((size_t)snprintf(dir, len, "%s/%s-XXXXXX", base, name_prefix) >= len) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return mkdtemp(dir);
}

store_fixture *store_fixture_create(const char *name_prefix)
{
    store_fixture *f = calloc(1, sizeof *f);
    char path[600], err[512] = "";
    if (!f) {
        fprintf(stderr, "store_fixture_create: out of memory\n");
        return NULL;
    }
    if (!store_fixture_tmpdir(f->dir, sizeof f->dir, name_prefix)) {
        fprintf(stderr, "mkdtemp %s: %s\n", f->dir, strerror(errno));
        free(f);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/secret.key", f->dir);
    if (!(f->sec = secrets_create(path, err, sizeof err))) {
        fprintf(stderr, "secrets_create: %s\n", err);
        store_fixture_destroy(f);
        return NULL;
    }
    snprintf(f->db_path, sizeof f->db_path, "%s/sluice.db", f->dir);
    if (!(f->st = store_open(f->db_path, f->sec, err, sizeof err))) {
        fprintf(stderr, "store_open: %s\n", err);
        store_fixture_destroy(f);
        return NULL;
    }
    return f;
}

store *store_fixture_open(store_fixture *f, const char *file)
{
    char path[700], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", f->dir, file);
    store *st = store_open(path, f->sec, err, sizeof err);
    if (!st)
        fail_msg("store_open: %s", err);
    return st;
}

void store_fixture_destroy(store_fixture *f)
{
    if (!f)
        return;
    store_close(f->st);
    secrets_destroy(f->sec);
    char err[256];
    if (f->dir[0] && fs_remove_tree(f->dir, err, sizeof err) < 0)
        fprintf(stderr, "store_fixture: %s\n", err);
    free(f);
}

int store_fixture_teardown(void **state)
{
    store_fixture_destroy(*state);
    *state = NULL;
    return 0;
}
