/* Unit tests for objstore/objstore_local and objstore_key_check: the shared conformance suite
 * against a fresh directory (with .tmp checked empty after every case), then what only a
 * directory store has: the files at the expected paths, the crash sweep of .tmp (orphans
 * removed, a live writer's file kept), pruning of empty directories, concurrent create-only
 * writers (exactly one wins) and concurrent put/remove in one directory, symbolic links and
 * stray files ignored or refused, the store's own limits, and the key rules. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fs.h"
#include "objstore/objstore_local.h"
#include "support/objstore_conformance.h"
#include "support/store_fixture.h"

typedef struct local_fixture {
    objstore_conformance oc;   /* first: the conformance cases read *state as this */
    char dir[512];             /* the temporary directory */
    char root[600];            /* dir/lake/root, made by objstore_local_create */
} local_fixture;

static int setup(void **state)
{
    char err[512] = "";
    local_fixture *f = calloc(1, sizeof *f);
    if (!f || !store_fixture_tmpdir(f->dir, sizeof f->dir, "objstore-local")) {
        free(f);
        return -1;
    }
    snprintf(f->root, sizeof f->root, "%s/lake/root", f->dir);
    f->oc.store = objstore_local_create(f->root, err, sizeof err);
    if (!f->oc.store) {
        fprintf(stderr, "objstore_local_create: %s\n", err);
        fs_remove_tree(f->dir, err, sizeof err);
        free(f);
        return -1;
    }
    f->oc.prefix = "";
    *state = f;
    return 0;
}

/* Entries in dir (not . and ..), or -1 when it cannot be read. */
static int dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Also fails the case when a temporary file was left behind. */
static int teardown(void **state)
{
    local_fixture *f = *state;
    char path[700], err[512] = "";
    int rc = 0;
    if (!f)
        return 0;
    snprintf(path, sizeof path, "%s/.tmp", f->root);
    if (dir_count(path) != 0) {
        fprintf(stderr, "%s holds %d entries after the test, want 0\n", path, dir_count(path));
        rc = -1;
    }
    objstore_destroy(f->oc.store);
    if (fs_remove_tree(f->dir, err, sizeof err) < 0)
        fprintf(stderr, "%s\n", err);
    free(f);
    return rc;
}

static void path_of(const local_fixture *f, const char *rel, char *out, size_t len)
{
    assert_true((size_t)snprintf(out, len, "%s/%s", f->root, rel) < len);
}

static int path_exists(const local_fixture *f, const char *rel)
{
    char path[2048];
    struct stat st;
    path_of(f, rel, path, sizeof path);
    return lstat(path, &st) == 0;
}

static void write_file(const char *path, const char *body)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(body, fp);
    assert_int_equal(fclose(fp), 0);
}

static void put_ok(objstore *s, const char *key, const char *body)
{
    char err[512] = "";
    if (objstore_put(s, key, body, strlen(body), NULL, err, sizeof err) != OBJSTORE_OK)
        fail_msg("put '%s': %s", key, err);
}

/* ---- the conformance suite, once as separate cases and once in one go ---- */

static void test_conformance_run(void **state)
{
    local_fixture *f = *state;
    objstore_conformance_run(f->oc.store, "run/");
}

/* ---- local only ---- */

static void test_create(void **state)
{
    local_fixture *f = *state;
    char real[PATH_MAX], want[PATH_MAX + 8], err[512] = "", path[700];
    assert_non_null(realpath(f->root, real));
    snprintf(want, sizeof want, "file://%s", real);
    assert_string_equal(objstore_describe(f->oc.store), want);

    /* Opening again works (the directory exists); a file or "" is no root. */
    objstore *again = objstore_local_create(f->root, err, sizeof err);
    assert_non_null(again);
    objstore_destroy(again);
    snprintf(path, sizeof path, "%s/plain-file", f->dir);
    write_file(path, "x");
    assert_null(objstore_local_create(path, err, sizeof err));
    assert_non_null(strstr(err, "plain-file"));
    assert_null(objstore_local_create("", err, sizeof err));
    objstore_destroy(NULL);
}

static void test_paths(void **state)
{
    local_fixture *f = *state;
    objstore *s = f->oc.store;
    char path[700], body[64] = "", err[512] = "";
    objstore_info info;
    struct stat st;
    put_ok(s, "bronze/shop/public.orders/date=2026-11-26/hour=01/0_16B3748-0_16B9000.jsonl", "{\"a\":1}\n");
    put_ok(s, "top", "t");
    path_of(f, "bronze/shop/public.orders/date=2026-11-26/hour=01/0_16B3748-0_16B9000.jsonl", path, sizeof path);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(body, sizeof body, fp));
    fclose(fp);
    assert_string_equal(body, "{\"a\":1}\n");
    path_of(f, "top", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 1);

    /* etag: size-mtime_ns-inode in hex, new on every rewrite. */
    assert_int_equal(objstore_head(s, "top", &info, err, sizeof err), OBJSTORE_OK);
    char first[80];
    snprintf(first, sizeof first, "%s", info.etag);
    assert_non_null(strchr(first, '-'));
    assert_int_equal(info.mtime_unix, (int64_t)st.st_mtim.tv_sec);
    put_ok(s, "top", "t");
    assert_int_equal(objstore_head(s, "top", &info, err, sizeof err), OBJSTORE_OK);
    assert_string_not_equal(info.etag, first);
}

static void test_tmp_sweep(void **state)
{
    local_fixture *f = *state;
    char path[700], err[512] = "";
    snprintf(path, sizeof path, "%s/.tmp/4242-crashed", f->root);
    write_file(path, "half a put");
    snprintf(path, sizeof path, "%s/.tmp/not-ours", f->root);
    write_file(path, "junk");
    snprintf(path, sizeof path, "%s/.tmp/1-live", f->root);
    write_file(path, "being written");
    int live = open(path, O_RDONLY);
    assert_true(live >= 0);
    assert_int_equal(flock(live, LOCK_EX), 0);

    objstore *s2 = objstore_local_create(f->root, err, sizeof err);
    assert_non_null(s2);
    assert_false(path_exists(f, ".tmp/4242-crashed"));
    assert_false(path_exists(f, ".tmp/not-ours"));
    assert_true(path_exists(f, ".tmp/1-live"));   /* its writer still holds the lock */

    /* The other store kept working, and its writes leave nothing in .tmp. */
    put_ok(f->oc.store, "after/sweep", "ok");
    put_ok(s2, "after/sweep2", "ok");
    objstore_destroy(s2);
    close(live);
    s2 = objstore_local_create(f->root, err, sizeof err);
    assert_non_null(s2);
    assert_false(path_exists(f, ".tmp/1-live"));   /* the writer is gone */
    objstore_destroy(s2);
}

static void test_remove_prunes(void **state)
{
    local_fixture *f = *state;
    objstore *s = f->oc.store;
    char err[512] = "";
    put_ok(s, "a/b/c/d", "1");
    put_ok(s, "a/x", "2");
    assert_int_equal(objstore_remove(s, "a/b/c/d", err, sizeof err), OBJSTORE_OK);
    assert_false(path_exists(f, "a/b"));
    assert_true(path_exists(f, "a/x"));
    assert_int_equal(objstore_remove(s, "a/x", err, sizeof err), OBJSTORE_OK);
    assert_false(path_exists(f, "a"));
    assert_true(path_exists(f, ".tmp"));
    assert_int_equal(dir_count(f->root), 1);   /* only .tmp: the root itself stays */
}

/* ---- concurrency: each thread has its own store on the same directory ---- */

#define RACE_ROUNDS 200

typedef struct racer {
    const char *root;
    int id;
    pthread_barrier_t *barrier;
    int result[RACE_ROUNDS];
    char err[512];
    int failed;
} racer;

static void *race_create(void *arg)
{
    racer *r = arg;
    objstore *s = objstore_local_create(r->root, r->err, sizeof r->err);
    objstore_put_options o = {.if_none_match = 1};
    for (int i = 0; i < RACE_ROUNDS; i++) {
        char key[64], body[16];
        snprintf(key, sizeof key, "race/%d/k%d", i % 7, i);
        snprintf(body, sizeof body, "writer %d", r->id);
        pthread_barrier_wait(r->barrier);
        r->result[i] = s ? objstore_put(s, key, body, strlen(body), &o, r->err, sizeof r->err) : OBJSTORE_ERR;
    }
    objstore_destroy(s);
    return NULL;
}

static void test_concurrent_create(void **state)
{
    local_fixture *f = *state;
    pthread_barrier_t barrier;
    racer r[2];
    pthread_t t[2];
    int wins[2] = {0, 0};
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i] = (racer){.root = f->root, .id = i, .barrier = &barrier};
        assert_int_equal(pthread_create(&t[i], NULL, race_create, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        char key[64], want[16], err[512] = "";
        buf out = BUF_INIT;
        int a = r[0].result[i], b = r[1].result[i];
        if (!((a == OBJSTORE_OK && b == OBJSTORE_EXISTS) || (a == OBJSTORE_EXISTS && b == OBJSTORE_OK)))
            fail_msg("round %d: results %d and %d (%s / %s)", i, a, b, r[0].err, r[1].err);
        wins[a == OBJSTORE_OK ? 0 : 1]++;
        snprintf(key, sizeof key, "race/%d/k%d", i % 7, i);
        snprintf(want, sizeof want, "writer %d", a == OBJSTORE_OK ? 0 : 1);
        assert_int_equal(objstore_get(f->oc.store, key, &out, 0, NULL, err, sizeof err), OBJSTORE_OK);
        assert_string_equal(out.data, want);
        buf_free(&out);
    }
    print_message("create-only race: writer 0 won %d, writer 1 won %d of %d\n", wins[0], wins[1], RACE_ROUNDS);
}

/* Two stores put and remove different keys in one directory: a remove pruning the directory
 * while the other store writes into it must not fail the write. */
static void *race_churn(void *arg)
{
    racer *r = arg;
    objstore *s = objstore_local_create(r->root, r->err, sizeof r->err);
    char key[64];
    snprintf(key, sizeof key, "churn/dir/sub/k%d", r->id);
    pthread_barrier_wait(r->barrier);
    for (int i = 0; s && i < 500 && !r->failed; i++) {
        if (objstore_put(s, key, "x", 1, NULL, r->err, sizeof r->err) != OBJSTORE_OK ||
            objstore_remove(s, key, r->err, sizeof r->err) != OBJSTORE_OK)
            r->failed = 1;
    }
    r->failed |= !s;
    objstore_destroy(s);
    return NULL;
}

static void test_concurrent_prune(void **state)
{
    local_fixture *f = *state;
    pthread_barrier_t barrier;
    racer r[2];
    pthread_t t[2];
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i] = (racer){.root = f->root, .id = i, .barrier = &barrier};
        assert_int_equal(pthread_create(&t[i], NULL, race_churn, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++)
        if (r[i].failed)
            fail_msg("writer %d: %s", i, r[i].err);
    assert_false(path_exists(f, "churn"));
}

/* ---- what is on disk but is no key ---- */

static int count(void *arg, const char *key, const objstore_info *info)
{
    (void)key;
    (void)info;
    (*(int *)arg)++;
    return 0;
}

static void test_strays(void **state)
{
    local_fixture *f = *state;
    objstore *s = f->oc.store;
    char path[700], target[700], err[512] = "";
    buf out = BUF_INIT;

    /* A directory outside the root with a file, linked in twice. */
    snprintf(target, sizeof target, "%s/outside", f->dir);
    assert_int_equal(mkdir(target, 0700), 0);
    snprintf(path, sizeof path, "%s/outside/secret", f->dir);
    write_file(path, "secret");
    path_of(f, "linkdir", path, sizeof path);
    assert_int_equal(symlink(target, path), 0);
    snprintf(target, sizeof target, "%s/outside/secret", f->dir);
    path_of(f, "linkfile", path, sizeof path);
    assert_int_equal(symlink(target, path), 0);
    path_of(f, "bad\xff", path, sizeof path);
    write_file(path, "not a key");
    path_of(f, "fifo", path, sizeof path);
    assert_int_equal(mkfifo(path, 0600), 0);
    put_ok(s, "real", "1");

    /* list shows the one key; reads through the links are refused; writes do not follow. */
    int n = 0;
    assert_int_equal(objstore_list(s, "", count, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(objstore_get(s, "linkfile", &out, 0, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "linkfile"));
    assert_int_not_equal(objstore_get(s, "linkdir/secret", &out, 0, NULL, err, sizeof err), OBJSTORE_OK);
    assert_int_equal(objstore_get(s, "fifo", &out, 0, NULL, err, sizeof err), OBJSTORE_NOT_FOUND);
    assert_int_equal(objstore_put(s, "linkdir/planted", "x", 1, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "linkdir/planted"));
    snprintf(path, sizeof path, "%s/outside/planted", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

/* ---- the directory store's own limits and messages ---- */

static void test_limits(void **state)
{
    local_fixture *f = *state;
    objstore *s = f->oc.store;
    char err[512] = "", key[400];
    buf out = BUF_INIT;
    objstore_put_options create_only = {.if_none_match = 1};

    /* get beyond max fails and leaves out alone. */
    put_ok(s, "ten", "0123456789");
    buf_puts(&out, "kept");
    assert_int_equal(objstore_get(s, "ten", &out, 9, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "ten"));
    assert_string_equal(out.data, "kept");
    assert_int_equal(objstore_get(s, "ten", &out, 10, NULL, err, sizeof err), OBJSTORE_OK);
    assert_string_equal(out.data, "kept0123456789");

    /* A file cannot also be a directory, and the other way round; errno text and key shown. */
    assert_int_equal(objstore_put(s, "ten/under", "x", 1, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "ten/under"));
    assert_non_null(strstr(err, strerror(ENOTDIR)));
    put_ok(s, "dir/child", "c");
    assert_int_equal(objstore_put(s, "dir", "x", 1, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_int_equal(objstore_put(s, "dir", "x", 1, &create_only, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "directory"));

    /* .tmp is reserved; a segment longer than NAME_MAX is the file system's limit. */
    assert_int_equal(objstore_put(s, ".tmp/x", "x", 1, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "reserved"));
    assert_int_equal(objstore_head(s, ".tmp", NULL, err, sizeof err), OBJSTORE_ERR);
    put_ok(s, ".tmpx/ok", "not reserved");
    memset(key, 'n', 300);
    key[300] = '\0';
    assert_int_equal(objstore_put(s, key, "x", 1, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, strerror(ENAMETOOLONG)));

    /* Multipart rules as S3 has them. */
    objstore_upload *u = s->ops->upload_begin(s, "mp", NULL, err, sizeof err);
    assert_non_null(u);
    assert_int_equal(s->ops->upload_part(s, u, "small", 5, err, sizeof err), OBJSTORE_OK);
    assert_int_equal(s->ops->upload_part(s, u, "again", 5, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "at least"));
    s->ops->upload_abort(s, u);
    u = s->ops->upload_begin(s, "mp", NULL, err, sizeof err);
    assert_non_null(u);
    assert_int_equal(s->ops->upload_complete(s, u, err, sizeof err), OBJSTORE_ERR);
    assert_non_null(strstr(err, "no part"));
    s->ops->upload_abort(s, NULL);
    assert_int_equal(objstore_head(s, "mp", NULL, err, sizeof err), OBJSTORE_NOT_FOUND);
    buf_free(&out);
}

/* ---- objstore_key_check ---- */

static void test_key_check(void **state)
{
    (void)state;
    static const char *const good[] = {
        "a", "a/b", "a b", "...", ".a", "a.", "a/.../b", "..a/b..", "a+b=c&d?e%f~g",
        "\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF", "\xC2\xA0",
    };
    static const struct {
        const char *key;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {"/a", "starts with '/'"},
        {"a/", "empty path segment"},
        {"a//b", "empty path segment"},
        {".", "'.'"},
        {"..", "'..'"},
        {"a/./b", "'.'"},
        {"a/../b", "'..'"},
        {"../a", "'..'"},
        {"a\x01", "control character U+0001"},
        {"a\tb", "control character U+0009"},
        {"a\x1f", "control"},
        {"a\x7f", "control character U+007F"},
        {"a\xC2\x80", "control character U+0080"},
        {"a\xC2\x9F", "control character U+009F"},
        {"\x80", "not valid UTF-8 (byte 0)"},
        {"ab\xFF", "not valid UTF-8 (byte 2)"},
        {"\xC0\xAF", "UTF-8"},
        {"\xC1\xBF", "UTF-8"},
        {"\xE0\x80\xAF", "UTF-8"},
        {"\xF0\x80\x80\xAF", "UTF-8"},
        {"\xED\xA0\x80", "UTF-8"},
        {"\xED\xBF\xBF", "UTF-8"},
        {"\xF4\x90\x80\x80", "UTF-8"},
        {"\xF5\x80\x80\x80", "UTF-8"},
        {"\xE6\x97", "UTF-8"},
        {"\xE6\x97x", "UTF-8"},
        {"\xC3", "UTF-8"},
    };
    char err[256], key[1100];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        err[0] = '\0';
        if (objstore_key_check(good[i], err, sizeof err) != 0)
            fail_msg("good key %zu refused: %s", i, err);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (objstore_key_check(bad[i].key, err, sizeof err) != -1)
            fail_msg("bad key %zu accepted", i);
        if (!strstr(err, bad[i].why))
            fail_msg("bad key %zu: '%s' does not say '%s'", i, err, bad[i].why);
    }
    assert_int_equal(objstore_key_check(NULL, err, sizeof err), -1);
    assert_int_equal(objstore_key_check("x\x01", NULL, 0), -1);   /* no err buffer is fine */

    /* 1024 bytes is the most; the limit counts bytes, not characters. */
    memset(key, 'k', 1024);
    key[1024] = '\0';
    assert_int_equal(objstore_key_check(key, err, sizeof err), 0);
    key[1024] = 'k';
    key[1025] = '\0';
    assert_int_equal(objstore_key_check(key, err, sizeof err), -1);
    assert_non_null(strstr(err, "1025 bytes"));
    for (int i = 0; i < 342; i++)
        memcpy(key + 3 * i, "\xE6\x97\xA5", 3);   /* 342 characters, 1026 bytes */
    key[1026] = '\0';
    assert_int_equal(objstore_key_check(key, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        OBJSTORE_CONFORMANCE_TESTS(setup, teardown),
        cmocka_unit_test_setup_teardown(test_conformance_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_prunes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test(test_key_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
