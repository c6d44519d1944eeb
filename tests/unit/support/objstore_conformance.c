/* objstore_conformance: the store-independent checks declared in objstore_conformance.h.
 * Every case names its keys relative to "<prefix><case>/", writes bodies from a seeded
 * generator (or the key's own text), and compares listings with the expected keys sorted by
 * strcmp, which is the byte order objstore.h promises. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objstore_conformance.h"

#define CONF_KEY_MAX 1024

/* One case's view of the store: its keys start with base. */
typedef struct conf_case {
    objstore *s;
    char base[CONF_KEY_MAX + 1];
} conf_case;

/* Keys (relative to the case's base) and sizes a listing reported. */
typedef struct conf_keys {
    char **key;
    uint64_t *size;
    size_t n, cap;
    size_t base_len;
    size_t stop_at;   /* return 7 from the callback at this many keys (0: never) */
} conf_keys;

/* ---- helpers ---- */

/* splitmix64: the same bytes for the same seed on every platform. */
static void conf_fill(uint64_t seed, unsigned char *out, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = (seed += 0x9E3779B97F4A7C15u);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < len; k++)
            out[i + k] = (unsigned char)(z >> (8 * k));
    }
}

static unsigned char *conf_random(uint64_t seed, size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    assert_non_null(p);
    conf_fill(seed, p, len);
    return p;
}

static void conf_key(const conf_case *c, const char *rel, char *out, size_t outlen)
{
    if ((size_t)snprintf(out, outlen, "%s%s", c->base, rel) >= outlen)
        fail_msg("key '%s%s' is too long for the test", c->base, rel);
}

static int conf_collect(void *arg, const char *key, const objstore_info *info)
{
    conf_keys *k = arg;
    if (strlen(key) < k->base_len)
        fail_msg("listed key '%s' is shorter than the listed prefix", key);
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 16;
        k->key = realloc(k->key, k->cap * sizeof *k->key);
        k->size = realloc(k->size, k->cap * sizeof *k->size);
        assert_non_null(k->key);
        assert_non_null(k->size);
    }
    k->key[k->n] = strdup(key + k->base_len);
    assert_non_null(k->key[k->n]);
    k->size[k->n] = info ? info->size : UINT64_MAX;
    k->n++;
    return k->stop_at && k->n == k->stop_at ? 7 : 0;
}

static void conf_keys_free(conf_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->key[i]);
    free(k->key);
    free(k->size);
    memset(k, 0, sizeof *k);
}

/* List "<base><rel_prefix>" into k, keys relative to base; returns list's result. */
static int conf_list(const conf_case *c, const char *rel_prefix, conf_keys *k)
{
    char prefix[CONF_KEY_MAX + 1], err[512] = "";
    conf_key(c, rel_prefix, prefix, sizeof prefix);
    k->base_len = strlen(c->base);
    int rc = objstore_list(c->s, prefix, conf_collect, k, err, sizeof err);
    if (rc < 0)
        fail_msg("list '%s': %d: %s", prefix, rc, err);
    return rc;
}

/* Remove every key below base (what an earlier, failed run left). */
static void conf_clear(const conf_case *c)
{
    conf_keys k = {0};
    char key[CONF_KEY_MAX + 1], err[512] = "";
    conf_list(c, "", &k);
    for (size_t i = 0; i < k.n; i++) {
        conf_key(c, k.key[i], key, sizeof key);
        if (objstore_remove(c->s, key, err, sizeof err) != OBJSTORE_OK)
            fail_msg("remove '%s': %s", key, err);
    }
    conf_keys_free(&k);
}

static void conf_begin(void **state, const char *name, conf_case *c)
{
    objstore_conformance *oc = *state;
    assert_non_null(oc);
    assert_non_null(oc->store);
    c->s = oc->store;
    if ((size_t)snprintf(c->base, sizeof c->base, "%s%s/", oc->prefix ? oc->prefix : "", name) >= sizeof c->base)
        fail_msg("prefix '%s' is too long", oc->prefix);
    conf_clear(c);
}

static void conf_put(const conf_case *c, const char *rel, const void *data, size_t len, int if_none_match,
                     int want)
{
    char key[CONF_KEY_MAX + 1], err[512] = "";
    objstore_put_options o = {.content_type = "application/octet-stream", .if_none_match = if_none_match};
    conf_key(c, rel, key, sizeof key);
    int rc = objstore_put(c->s, key, data, len, &o, err, sizeof err);
    if (rc != want)
        fail_msg("put '%s' (%zu bytes, if_none_match %d): got %d, want %d: %s", key, len, if_none_match, rc, want,
                 err);
}

static void conf_put_str(const conf_case *c, const char *rel, const char *body)
{
    conf_put(c, rel, body, strlen(body), 0, OBJSTORE_OK);
}

/* get rel: the body must be data; it is appended to what out held ("pre:"). */
static void conf_expect_body(const conf_case *c, const char *rel, const void *data, size_t len)
{
    char key[CONF_KEY_MAX + 1], err[512] = "";
    buf out = BUF_INIT;
    objstore_info info;
    memset(&info, 0xA5, sizeof info);
    conf_key(c, rel, key, sizeof key);
    buf_puts(&out, "pre:");
    int rc = objstore_get(c->s, key, &out, 0, &info, err, sizeof err);
    if (rc != OBJSTORE_OK)
        fail_msg("get '%s': %d: %s", key, rc, err);
    if (out.len != 4 + len)
        fail_msg("get '%s': %zu bytes, want %zu", key, out.len - 4, len);
    assert_memory_equal(out.data, "pre:", 4);
    if (len && memcmp(out.data + 4, data, len) != 0)
        fail_msg("get '%s': the body differs from what was put", key);
    assert_int_equal(info.size, len);
    assert_non_null(memchr(info.etag, '\0', sizeof info.etag));
    if (info.mtime_unix != 0 && info.mtime_unix < 1500000000)
        fail_msg("get '%s': mtime_unix %" PRId64 " is not a plausible time", key, info.mtime_unix);
    buf_free(&out);
}

static void conf_expect_str(const conf_case *c, const char *rel, const char *body)
{
    conf_expect_body(c, rel, body, strlen(body));
}

static void conf_expect_head(const conf_case *c, const char *rel, int want, uint64_t size)
{
    char key[CONF_KEY_MAX + 1], err[512] = "";
    objstore_info info = {0};
    conf_key(c, rel, key, sizeof key);
    int rc = objstore_head(c->s, key, &info, err, sizeof err);
    if (rc != want)
        fail_msg("head '%s': got %d, want %d: %s", key, rc, want, err);
    if (want == OBJSTORE_OK && info.size != size)
        fail_msg("head '%s': size %" PRIu64 ", want %" PRIu64, key, info.size, size);
}

static void conf_remove(const conf_case *c, const char *rel)
{
    char key[CONF_KEY_MAX + 1], err[512] = "";
    conf_key(c, rel, key, sizeof key);
    int rc = objstore_remove(c->s, key, err, sizeof err);
    if (rc != OBJSTORE_OK)
        fail_msg("remove '%s': %d: %s", key, rc, err);
}

static int conf_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* List rel_prefix and compare with the keys of all[0..n) that start with it, in byte order. */
static void conf_expect_list(const conf_case *c, const char *rel_prefix, const char *const *all, size_t n)
{
    const char **want = calloc(n ? n : 1, sizeof *want);
    size_t nwant = 0;
    conf_keys got = {0};
    assert_non_null(want);
    for (size_t i = 0; i < n; i++)
        if (strncmp(all[i], rel_prefix, strlen(rel_prefix)) == 0)
            want[nwant++] = all[i];
    qsort(want, nwant, sizeof *want, conf_strcmp);
    assert_int_equal(conf_list(c, rel_prefix, &got), 0);
    for (size_t i = 0; i < got.n || i < nwant; i++) {
        const char *g = i < got.n ? got.key[i] : "(end)", *w = i < nwant ? want[i] : "(end)";
        if (strcmp(g, w) != 0)
            fail_msg("list '%s%s': key %zu is '%s', want '%s'", c->base, rel_prefix, i, g, w);
    }
    conf_keys_free(&got);
    free(want);
}

static objstore_upload *conf_upload_begin(const conf_case *c, const char *rel, int if_none_match)
{
    char key[CONF_KEY_MAX + 1], err[512] = "";
    objstore_put_options o = {.if_none_match = if_none_match};
    conf_key(c, rel, key, sizeof key);
    objstore_upload *u = c->s->ops->upload_begin(c->s, key, &o, err, sizeof err);
    if (!u)
        fail_msg("upload_begin '%s': %s", key, err);
    return u;
}

static void conf_upload_part(const conf_case *c, objstore_upload *u, const void *data, size_t len)
{
    char err[512] = "";
    int rc = c->s->ops->upload_part(c->s, u, data, len, err, sizeof err);
    if (rc != OBJSTORE_OK)
        fail_msg("upload_part below '%s' (%zu bytes): %d: %s", c->base, len, rc, err);
}

static void conf_upload_complete(const conf_case *c, objstore_upload *u, int want)
{
    char err[512] = "";
    int rc = c->s->ops->upload_complete(c->s, u, err, sizeof err);
    if (rc != want)
        fail_msg("upload_complete below '%s': got %d, want %d: %s", c->base, rc, want, err);
}

/* ---- the cases ---- */

void objstore_conformance_round_trip(void **state)
{
    conf_case c;
    conf_begin(state, "round_trip", &c);
    unsigned char *mib = conf_random(1, (size_t)1 << 20);
    conf_put(&c, "empty", "", 0, 0, OBJSTORE_OK);
    conf_put(&c, "one", "x", 1, 0, OBJSTORE_OK);
    conf_put(&c, "mib.bin", mib, (size_t)1 << 20, 0, OBJSTORE_OK);
    conf_expect_body(&c, "empty", "", 0);
    conf_expect_body(&c, "one", "x", 1);
    conf_expect_body(&c, "mib.bin", mib, (size_t)1 << 20);
    conf_expect_head(&c, "empty", OBJSTORE_OK, 0);
    conf_expect_head(&c, "one", OBJSTORE_OK, 1);
    conf_expect_head(&c, "mib.bin", OBJSTORE_OK, (uint64_t)1 << 20);

    /* info may be NULL; out need not start empty. */
    char key[CONF_KEY_MAX + 1], err[512] = "";
    buf out = BUF_INIT;
    conf_key(&c, "one", key, sizeof key);
    assert_int_equal(objstore_get(c.s, key, &out, 0, NULL, err, sizeof err), OBJSTORE_OK);
    assert_int_equal(objstore_head(c.s, key, NULL, err, sizeof err), OBJSTORE_OK);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.data[0], 'x');
    buf_free(&out);
    free(mib);
    conf_clear(&c);
}

void objstore_conformance_odd_keys(void **state)
{
    static const char *const keys[] = {
        "with space.txt",
        "two  spaces/and trailing space ",
        "unicod\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xD1\x84\xD0\xB0\xD0\xB9\xD0\xBB.json",
        "emoji \xF0\x9F\x98\x80.txt",
        "plus+sign+",
        "equals=sign",
        "amp&ersand",
        "question?mark",
        "percent%20not-an-escape%",
        "tilde~x",
        "a b/c+d/e=f/g&h/i?j/k%l/m~n",
        "punct/!$'()*,;:@#",
        "date=2026-11-26/hour=01/0_16B3748-0_16B9000.jsonl.gz",
        "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/leaf",
    };
    const size_t n = sizeof keys / sizeof keys[0];
    conf_case c;
    conf_begin(state, "odd_keys", &c);
    for (size_t i = 0; i < n; i++)
        conf_put_str(&c, keys[i], keys[i]);
    for (size_t i = 0; i < n; i++) {
        conf_expect_str(&c, keys[i], keys[i]);
        conf_expect_head(&c, keys[i], OBJSTORE_OK, strlen(keys[i]));
    }

    /* A key of exactly 1024 bytes, in segments of 100. */
    char rel[CONF_KEY_MAX + 1];
    size_t want = CONF_KEY_MAX - strlen(c.base), i;
    assert_true(want > 10);
    for (i = 0; i < want; i++)
        rel[i] = (i % 101 == 100 && i + 1 < want) ? '/' : (char)('a' + i % 26);
    rel[want] = '\0';
    conf_put_str(&c, rel, "longest");
    conf_expect_str(&c, rel, "longest");

    const char *all[sizeof keys / sizeof keys[0] + 1];
    for (i = 0; i < n; i++)
        all[i] = keys[i];
    all[n] = rel;
    conf_expect_list(&c, "", all, n + 1);
    conf_clear(&c);
}

void objstore_conformance_overwrite(void **state)
{
    conf_case c;
    conf_begin(state, "overwrite", &c);
    conf_put_str(&c, "k", "the first version, the longer one");
    conf_put_str(&c, "k", "second");
    conf_expect_str(&c, "k", "second");
    conf_expect_head(&c, "k", OBJSTORE_OK, 6);
    conf_put(&c, "k", "", 0, 0, OBJSTORE_OK);
    conf_expect_body(&c, "k", "", 0);
    conf_clear(&c);
}

void objstore_conformance_missing(void **state)
{
    conf_case c;
    char key[CONF_KEY_MAX + 1], err[512] = "";
    buf out = BUF_INIT;
    conf_begin(state, "missing", &c);
    conf_expect_head(&c, "nope", OBJSTORE_NOT_FOUND, 0);
    conf_expect_head(&c, "no/such/dir/key", OBJSTORE_NOT_FOUND, 0);

    buf_puts(&out, "kept");
    conf_key(&c, "nope", key, sizeof key);
    assert_int_equal(objstore_get(c.s, key, &out, 0, NULL, err, sizeof err), OBJSTORE_NOT_FOUND);
    assert_string_equal(out.data, "kept");
    conf_key(&c, "no/such/key", key, sizeof key);
    assert_int_equal(objstore_get(c.s, key, &out, 0, NULL, err, sizeof err), OBJSTORE_NOT_FOUND);
    assert_string_equal(out.data, "kept");

    /* "dir" is only a prefix of "dir/child", not an object; "dir/chi" is not one either. */
    conf_put_str(&c, "dir/child", "c");
    conf_expect_head(&c, "dir", OBJSTORE_NOT_FOUND, 0);
    conf_expect_head(&c, "dir/chi", OBJSTORE_NOT_FOUND, 0);
    conf_expect_head(&c, "dir/child/x", OBJSTORE_NOT_FOUND, 0);
    conf_key(&c, "dir", key, sizeof key);
    assert_int_equal(objstore_get(c.s, key, &out, 0, NULL, err, sizeof err), OBJSTORE_NOT_FOUND);
    assert_string_equal(out.data, "kept");
    buf_free(&out);
    conf_clear(&c);
}

void objstore_conformance_if_none_match(void **state)
{
    objstore_conformance *oc = *state;
    conf_case c;
    if (oc->skip & OBJSTORE_CONFORMANCE_SKIP_IF_NONE_MATCH)
        skip();
    conf_begin(state, "if_none_match", &c);
    conf_put(&c, "once", "first", 5, 1, OBJSTORE_OK);
    conf_put(&c, "once", "second", 6, 1, OBJSTORE_EXISTS);
    conf_expect_str(&c, "once", "first");
    conf_put(&c, "deep/er/once", "first", 5, 1, OBJSTORE_OK);
    conf_put(&c, "deep/er/once", "second", 6, 1, OBJSTORE_EXISTS);
    conf_expect_str(&c, "deep/er/once", "first");

    /* The same for a multipart upload, at complete (a single part may be small). */
    objstore_upload *u = conf_upload_begin(&c, "once", 1);
    conf_upload_part(&c, u, "third", 5);
    conf_upload_complete(&c, u, OBJSTORE_EXISTS);
    conf_expect_str(&c, "once", "first");
    u = conf_upload_begin(&c, "fresh", 1);
    conf_upload_part(&c, u, "new", 3);
    conf_upload_complete(&c, u, OBJSTORE_OK);
    conf_expect_str(&c, "fresh", "new");

    /* A plain put still overwrites. */
    conf_put(&c, "once", "plain", 5, 0, OBJSTORE_OK);
    conf_expect_str(&c, "once", "plain");
    conf_clear(&c);
}

void objstore_conformance_list(void **state)
{
    /* '-' and '.' sort before '/', '0' after it: a tree walk that visits "a/" first is wrong.
     * No key is also the prefix of another plus '/' ("a" and "a/b"): a directory cannot hold
     * both, and that is no store's job here. */
    static const char *const keys[] = {
        "a-b", "a/b", "a/c/d", "a.b", "a0", "ab", "b", "\xC3\xA9", "z",
        "x/data", "x/date=1/f", "x/date=1/g", "x/db", "x/d/e",
    };
    static const char *const prefixes[] = {
        "", "a", "a/", "a/c", "a/c/", "a/c/d", "a-", "x/", "x/d", "x/da", "x/date=1/", "x/d/",
        "nothing", "nothing/", "a/b/", "z/", "x/dat",
    };
    const size_t n = sizeof keys / sizeof keys[0];
    conf_case c;
    conf_begin(state, "list", &c);
    for (size_t i = 0; i < n; i++)
        conf_put_str(&c, keys[i], keys[i]);
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        conf_expect_list(&c, prefixes[i], keys, n);

    /* The info of a listed key is its size (every body is the key's text). */
    conf_keys got = {0};
    conf_list(&c, "", &got);
    for (size_t i = 0; i < got.n; i++)
        if (got.size[i] != strlen(got.key[i]))
            fail_msg("list: '%s' has size %" PRIu64 ", want %zu", got.key[i], got.size[i], strlen(got.key[i]));
    conf_keys_free(&got);
    conf_clear(&c);
}

void objstore_conformance_list_stop(void **state)
{
    conf_case c;
    conf_keys got = {.stop_at = 2};
    conf_begin(state, "list_stop", &c);
    conf_put_str(&c, "k3", "3");
    conf_put_str(&c, "k1", "1");
    conf_put_str(&c, "k2/deep", "2");
    conf_put_str(&c, "k4", "4");
    assert_int_equal(conf_list(&c, "", &got), 7);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.key[0], "k1");
    assert_string_equal(got.key[1], "k2/deep");
    conf_keys_free(&got);
    conf_clear(&c);
}

void objstore_conformance_remove(void **state)
{
    static const char *const after[] = {"r/sib", "r/deep/x/y"};
    conf_case c;
    conf_begin(state, "remove", &c);
    conf_put_str(&c, "r/one", "1");
    conf_put_str(&c, "r/deep/x/y", "2");
    conf_put_str(&c, "r/sib", "3");
    conf_remove(&c, "r/one");
    conf_expect_head(&c, "r/one", OBJSTORE_NOT_FOUND, 0);
    conf_remove(&c, "r/one");
    conf_remove(&c, "never/was/here");
    conf_remove(&c, "r/deep/x");   /* only a prefix: not an object, nothing happens */
    conf_expect_head(&c, "r/deep/x/y", OBJSTORE_OK, 1);
    conf_remove(&c, "r/deep/x/y");
    conf_expect_head(&c, "r/deep/x/y", OBJSTORE_NOT_FOUND, 0);
    conf_expect_list(&c, "r/", after, 1);
    conf_expect_list(&c, "r/deep/", after, 1);
    conf_put_str(&c, "r/deep/x/y", "again");
    conf_expect_str(&c, "r/deep/x/y", "again");
    conf_expect_list(&c, "r/", after, 2);
    conf_clear(&c);
    conf_expect_list(&c, "", after, 0);
}

void objstore_conformance_multipart(void **state)
{
    objstore_conformance *oc = *state;
    conf_case c;
    if (oc->skip & OBJSTORE_CONFORMANCE_SKIP_MULTIPART)
        skip();
    conf_begin(state, "multipart", &c);
    const size_t len = 2 * (size_t)OBJSTORE_PART_MIN + 1234;
    unsigned char *data = conf_random(2, len);
    objstore_upload *u = conf_upload_begin(&c, "big/object.bin", 0);
    conf_upload_part(&c, u, data, OBJSTORE_PART_MIN);
    conf_expect_head(&c, "big/object.bin", OBJSTORE_NOT_FOUND, 0);
    conf_upload_part(&c, u, data + OBJSTORE_PART_MIN, OBJSTORE_PART_MIN);
    conf_upload_part(&c, u, data + 2 * (size_t)OBJSTORE_PART_MIN, 1234);
    conf_expect_head(&c, "big/object.bin", OBJSTORE_NOT_FOUND, 0);
    conf_expect_list(&c, "", NULL, 0);
    conf_upload_complete(&c, u, OBJSTORE_OK);
    conf_expect_head(&c, "big/object.bin", OBJSTORE_OK, len);
    conf_expect_body(&c, "big/object.bin", data, len);

    /* Completing over an existing object replaces it whole. */
    u = conf_upload_begin(&c, "big/object.bin", 0);
    conf_upload_part(&c, u, data + 1, 4321);
    conf_upload_complete(&c, u, OBJSTORE_OK);
    conf_expect_body(&c, "big/object.bin", data + 1, 4321);
    free(data);
    conf_clear(&c);
}

void objstore_conformance_abort(void **state)
{
    conf_case c;
    conf_begin(state, "abort", &c);
    unsigned char *data = conf_random(3, 1000);
    objstore_upload *u = conf_upload_begin(&c, "gone/never.bin", 0);
    conf_upload_part(&c, u, data, 1000);
    c.s->ops->upload_abort(c.s, u);
    conf_expect_head(&c, "gone/never.bin", OBJSTORE_NOT_FOUND, 0);
    u = conf_upload_begin(&c, "empty-abort", 0);
    c.s->ops->upload_abort(c.s, u);
    conf_expect_head(&c, "empty-abort", OBJSTORE_NOT_FOUND, 0);
    conf_expect_list(&c, "", NULL, 0);

    /* An aborted upload leaves an existing object alone. */
    conf_put_str(&c, "kept", "old");
    u = conf_upload_begin(&c, "kept", 0);
    conf_upload_part(&c, u, data, 1000);
    c.s->ops->upload_abort(c.s, u);
    conf_expect_str(&c, "kept", "old");
    free(data);
    conf_clear(&c);
}

/* Every call refuses key with OBJSTORE_ERR and says why. */
static void conf_expect_refused(objstore *s, const char *key, const char *shown)
{
    char err[512];
    buf out = BUF_INIT;
    objstore_info info;
    int rc;

    err[0] = '\0';
    rc = objstore_put(s, key, "x", 1, NULL, err, sizeof err);
    if (rc != OBJSTORE_ERR || !err[0])
        fail_msg("put of invalid key %s: got %d, err '%s'", shown, rc, err);
    err[0] = '\0';
    rc = objstore_get(s, key, &out, 0, &info, err, sizeof err);
    if (rc != OBJSTORE_ERR || !err[0] || out.len != 0)
        fail_msg("get of invalid key %s: got %d, err '%s'", shown, rc, err);
    err[0] = '\0';
    rc = objstore_head(s, key, &info, err, sizeof err);
    if (rc != OBJSTORE_ERR || !err[0])
        fail_msg("head of invalid key %s: got %d, err '%s'", shown, rc, err);
    err[0] = '\0';
    rc = objstore_remove(s, key, err, sizeof err);
    if (rc != OBJSTORE_ERR || !err[0])
        fail_msg("remove of invalid key %s: got %d, err '%s'", shown, rc, err);
    err[0] = '\0';
    objstore_upload *u = s->ops->upload_begin(s, key, NULL, err, sizeof err);
    if (u || !err[0]) {
        if (u)
            s->ops->upload_abort(s, u);
        fail_msg("upload_begin of invalid key %s accepted, err '%s'", shown, err);
    }
    buf_free(&out);
}

void objstore_conformance_invalid_keys(void **state)
{
    static const struct {
        const char *rel;
        const char *shown;
    } bad[] = {
        {"trail/", "ending in '/'"},
        {"a//b", "with an empty segment"},
        {"./a", "with a '.' segment"},
        {"a/./b", "with a '.' segment"},
        {"a/../b", "with a '..' segment"},
        {"..", "with a '..' segment"},
        {"ctl\x01x", "with U+0001"},
        {"nl\nx", "with a newline"},
        {"del\x7fx", "with DEL"},
        {"c1\xC2\x85x", "with U+0085"},
        {"bad\xFFx", "with byte 0xFF"},
        {"cut\xE6\x97", "with a truncated sequence"},
        {"overlong\xC0\xAF", "with an overlong '/'"},
        {"surrogate\xED\xA0\x80", "with a surrogate"},
        {"big\xF4\x90\x80\x80", "beyond U+10FFFF"},
    };
    conf_case c;
    char key[CONF_KEY_MAX + 2], shown[128];
    conf_begin(state, "invalid_keys", &c);
    conf_expect_refused(c.s, "", "''");
    snprintf(key, sizeof key, "/%s", c.base);
    conf_expect_refused(c.s, key, "with a leading '/'");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        conf_key(&c, bad[i].rel, key, sizeof key);
        snprintf(shown, sizeof shown, "%s (case %zu)", bad[i].shown, i);
        conf_expect_refused(c.s, key, shown);
    }
    /* 1025 bytes, in short segments. */
    size_t n = strlen(c.base);
    for (size_t i = n; i < CONF_KEY_MAX + 1; i++)
        key[i] = (i - n) % 50 == 49 && i + 1 < CONF_KEY_MAX + 1 ? '/' : 'k';
    key[CONF_KEY_MAX + 1] = '\0';
    memcpy(key, c.base, n);
    conf_expect_refused(c.s, key, "of 1025 bytes");
    conf_expect_list(&c, "", NULL, 0);
}

void objstore_conformance_run(objstore *s, const char *prefix)
{
    objstore_conformance oc = {.store = s, .prefix = prefix};
    void *state = &oc;
    objstore_conformance_round_trip(&state);
    objstore_conformance_odd_keys(&state);
    objstore_conformance_overwrite(&state);
    objstore_conformance_missing(&state);
    objstore_conformance_if_none_match(&state);
    objstore_conformance_list(&state);
    objstore_conformance_list_stop(&state);
    objstore_conformance_remove(&state);
    objstore_conformance_multipart(&state);
    objstore_conformance_abort(&state);
    objstore_conformance_invalid_keys(&state);
}
