/* objstore_s3_check: drives the S3 object store (firmware/objstore/objstore_s3.c) against a real
 * S3 API (the lake tests put s3rver behind tests/e2e/tools/s3_sigcheck.mjs) and checks every
 * answer against an in-memory model. Used by tests/runtime/lake_s3_*.sh.
 *
 *   objstore_s3_check MODE --endpoint URL --bucket B --region R --access-key AK --secret SK [options]
 *   random      randomized puts (keys with spaces, unicode, + = ? & % ..., empty and large bodies),
 *               overwrites, gets, heads, removes, multipart, aborted multipart, create-only puts,
 *               listings over several pages; writes --manifest (sha256 size key-url-encoded per
 *               object left in the store) for an independent check
 *   put         put --key of --size bytes from --seed (multipart with --parts N > 0)
 *   get         get --key and check it is --size bytes from --seed
 *   reuse       put --key, wait --pause-ms, get it again on the same connection
 *   create      create-only put of --key; --expect ok|exists
 *   fail        any request (a HEAD) must fail; prints the error on stdout
 * Options: --prefix P --path-style 0|1 --connect host:port --max-retries N --retry-base-ms N
 *          --timeout-ms N --sse none|AES256|aws:kms --kms-key K --conditional 0|1 --page-keys N
 *          --seed N --count N --manifest FILE --key K --size N --parts N --expect X
 * Exit 0 when every check passed; the last line is "stats requests=.. connects=.. retries=..
 * reconnects=..". Failures print "FAIL: ..." on stderr and exit 1. */
#include <mbedtls/md5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_sigv4.h"
#include "core/buf.h"
#include "objstore/objstore_s3.h"

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    const char *v = def;   /* the last one wins, so a test can override a common option */
    for (int i = 2; i + 1 < argc; i += 2)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            v = argv[i + 1];
    return v;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* xorshift64*: deterministic from the seed. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* len bytes determined by (seed, len). */
static void fill(char *p, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + len + 1;
    for (size_t i = 0; i < len; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        p[i] = (char)((s * 2685821657736338717ULL) >> 56);
    }
}

static void md5_hex(const void *p, size_t len, char out[33])
{
    unsigned char d[16];
    mbedtls_md5_ret(p, len, d);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

typedef struct obj {
    char *key;
    char *data;
    size_t len;
    int live;
    int multipart;   /* ETag is not the MD5 of the data */
} obj;

static obj *objs;
static size_t nobjs, capobjs;
static objstore *st;
static char err[2048];

static obj *model_find(const char *key)
{
    for (size_t i = 0; i < nobjs; i++)
        if (strcmp(objs[i].key, key) == 0)
            return &objs[i];
    return NULL;
}

static void model_set(const char *key, const char *data, size_t len, int multipart)
{
    obj *o = model_find(key);
    if (!o) {
        if (nobjs == capobjs) {
            capobjs = capobjs ? capobjs * 2 : 64;
            objs = realloc(objs, capobjs * sizeof *objs);
        }
        o = &objs[nobjs++];
        o->key = strdup(key);
        o->data = NULL;
    }
    free(o->data);
    o->data = malloc(len ? len : 1);
    if (len)
        memcpy(o->data, data, len);
    o->len = len;
    o->live = 1;
    o->multipart = multipart;
}

/* Key pieces: spaces, unicode, '+', '=', query-like and other reserved characters. */
static const char *const pieces[] = {"a", "b", "Z", "0", "9", " ", "+", "=", "?", "&", "#", "%", "%20", "!", "'", "(",
                                     ")", "*", ",", ";", ":", "@", "$", "~", "-", "_", ".", "[", "]", "{", "}", "^",
                                     "`", "|", "\\", "\"", "<", ">", "é", "日本", "😀", "ß", "x=1&y=2", "?q=v",
                                     "a+b", "%2F", "..a"};

/* run/[dXX/[dXX/]]f<pieces>·<n>. Directory names ("d" + letters and digits) and leaf names
 * ("f" ... "·" + a unique number) never prefix one another, so s3rver's directory walk lists
 * them in S3's byte order too (it does not otherwise, and then loses keys across pages). */
static void random_key(const char *run, char *out, size_t outlen)
{
    static unsigned serial;
    for (;;) {
        buf k = BUF_INIT;
        buf_printf(&k, "%s/", run);
        size_t dirs = rnd_below(3);
        for (size_t s = 0; s < dirs; s++)
            buf_printf(&k, "d%c%c/", "abc0"[rnd_below(4)], "xy9"[rnd_below(3)]);
        buf_puts(&k, "f");
        size_t n = 1 + rnd_below(6);
        for (size_t i = 0; i < n; i++)
            buf_puts(&k, pieces[rnd_below(sizeof pieces / sizeof pieces[0])]);
        buf_printf(&k, "\u00b7%04u", ++serial);
        snprintf(out, outlen, "%s", k.data);
        buf_free(&k);
        if (objstore_key_check(out, err, sizeof err) == 0 && !model_find(out))
            return;
    }
}

static size_t random_size(void)
{
    size_t r = rnd_below(100);
    if (r < 10)
        return 0;
    if (r < 20)
        return 1 + rnd_below(16);
    if (r < 95)
        return rnd_below(64 * 1024);
    return 1024 * 1024 + rnd_below(2 * 1024 * 1024);   /* large single puts */
}

static void check_get(const obj *o)
{
    buf b = BUF_INIT;
    objstore_info info;
    int rc = objstore_get(st, o->key, &b, 0, &info, err, sizeof err);
    if (rc != OBJSTORE_OK)
        die("get '%s': %d %s", o->key, rc, err);
    if (b.len != o->len || (o->len && memcmp(b.data, o->data, o->len) != 0))
        die("get '%s': %zu bytes differ from the %zu put", o->key, b.len, o->len);
    if (info.size != o->len)
        die("get '%s': info.size %llu, want %zu", o->key, (unsigned long long)info.size, o->len);
    char md5[33];
    md5_hex(o->data, o->len, md5);
    if (!o->multipart && strcmp(info.etag, md5) != 0)
        die("get '%s': ETag %s is not the MD5 %s of the data", o->key, info.etag, md5);
    buf_free(&b);
}

static void check_head(const obj *o)
{
    objstore_info info;
    int rc = objstore_head(st, o->key, &info, err, sizeof err);
    if (!o->live) {
        if (rc != OBJSTORE_NOT_FOUND)
            die("head of removed '%s': %d (%s), want NOT_FOUND", o->key, rc, err);
        return;
    }
    if (rc != OBJSTORE_OK)
        die("head '%s': %d %s", o->key, rc, err);
    if (info.size != o->len || info.mtime_unix <= 0)
        die("head '%s': size %llu mtime %lld, want %zu and a time", o->key, (unsigned long long)info.size,
            (long long)info.mtime_unix, o->len);
}

typedef struct entry {
    char *key;
    uint64_t size;
} entry;

typedef struct listed {
    entry *e;
    size_t n, cap;
    size_t stop_at;
} listed;

static int list_cb(void *arg, const char *key, const objstore_info *info)
{
    listed *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = realloc(l->e, l->cap * sizeof *l->e);
    }
    l->e[l->n].key = strdup(key);
    l->e[l->n++].size = info->size;
    return l->stop_at && l->n == l->stop_at ? 77 : 0;
}

static void listed_free(listed *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].key);
    free(l->e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* List prefix and compare with the model: the same keys, each once, in byte order, with their
 * sizes (random_key() makes keys that s3rver, too, lists in byte order). */
static size_t check_list(const char *prefix)
{
    listed l = {0};
    int rc = objstore_list(st, prefix, list_cb, &l, err, sizeof err);
    if (rc != 0)
        die("list '%s': %d %s", prefix, rc, err);
    char **want = calloc(nobjs + 1, sizeof *want);
    size_t nw = 0;
    for (size_t i = 0; i < nobjs; i++)
        if (objs[i].live && strncmp(objs[i].key, prefix, strlen(prefix)) == 0)
            want[nw++] = objs[i].key;
    qsort(want, nw, sizeof *want, cmp_str);
    for (size_t i = 1; i < l.n; i++)
        if (strcmp(l.e[i - 1].key, l.e[i].key) >= 0)
            die("list '%s': '%s' listed after '%s' (not in byte order, or twice)", prefix, l.e[i].key,
                l.e[i - 1].key);
    for (size_t i = 0; i < l.n; i++)
        if (!model_find(l.e[i].key) || !model_find(l.e[i].key)->live)
            fprintf(stderr, "listed but not expected: '%s'\n", l.e[i].key);
    for (size_t i = 0; nw != l.n && i < nw; i++) {
        entry k = {.key = want[i]};
        if (!bsearch(&k, l.e, l.n, sizeof *l.e, cmp_entry))
            fprintf(stderr, "missing from the listing: '%s'\n", want[i]);
    }
    if (nw != l.n)
        die("list '%s': %zu keys, want %zu", prefix, l.n, nw);
    for (size_t i = 0; i < nw; i++) {
        if (strcmp(want[i], l.e[i].key) != 0)
            die("list '%s': key %zu is '%s', want '%s'", prefix, i, l.e[i].key, want[i]);
        if (l.e[i].size != model_find(want[i])->len)
            die("list '%s': '%s' has size %llu, want %zu", prefix, want[i], (unsigned long long)l.e[i].size,
                model_find(want[i])->len);
    }
    listed_free(&l);
    free(want);
    return nw;
}

static void do_put(const char *key, size_t len, int multipart_parts)
{
    char *data = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)rnd();
    if (multipart_parts > 0) {
        objstore_upload *u = st->ops->upload_begin(st, key, NULL, err, sizeof err);
        if (!u)
            die("upload_begin '%s': %s", key, err);
        size_t off = 0;
        for (int p = 0; p < multipart_parts; p++) {
            size_t n = p == multipart_parts - 1 ? len - off : OBJSTORE_PART_MIN;
            if (st->ops->upload_part(st, u, data + off, n, err, sizeof err) != 0)
                die("upload_part %d of '%s': %s", p + 1, key, err);
            off += n;
        }
        if (st->ops->upload_complete(st, u, err, sizeof err) != 0)
            die("upload_complete '%s': %s", key, err);
    } else {
        objstore_put_options po = {.content_type = rnd_below(2) ? "application/x-ndjson" : NULL};
        if (objstore_put(st, key, data, len, &po, err, sizeof err) != 0)
            die("put '%s' (%zu bytes): %s", key, len, err);
    }
    model_set(key, data, len, multipart_parts > 0);
    free(data);
}

static void write_manifest(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write %s", path);
    for (size_t i = 0; i < nobjs; i++) {
        if (!objs[i].live)
            continue;
        char h[65];
        aws_sha256_hex(objs[i].data, objs[i].len, h);
        buf enc = BUF_INIT;
        aws_uri_encode(&enc, objs[i].key, 1);
        fprintf(f, "%s %zu %s\n", h, objs[i].len, enc.data);
        buf_free(&enc);
    }
    fclose(f);
}

static void mode_random(int argc, char **argv, const char *prefix_opt)
{
    int count = atoi(opt(argc, argv, "count", "200"));
    char run[64], key[1200];
    snprintf(run, sizeof run, "run%llu-%ld", (unsigned long long)rng_state % 1000000, (long)getpid());
    int ops[8] = {0};

    /* Enough keys for several list pages first. */
    for (int i = 0; i < count; i++) {
        size_t r = rnd_below(100);
        obj *o = nobjs ? &objs[rnd_below(nobjs)] : NULL;
        if (!o || r < 50) {
            random_key(run, key, sizeof key);
            do_put(key, random_size(), 0);
            ops[0]++;
        } else if (r < 58) {
            do_put(o->key, random_size(), 0);   /* overwrite, or bring a removed key back */
            ops[1]++;
        } else if (r < 75) {
            if (o->live)
                check_get(o);
            else {
                buf b = BUF_INIT;
                int rc = objstore_get(st, o->key, &b, 0, NULL, err, sizeof err);
                if (rc != OBJSTORE_NOT_FOUND)
                    die("get of removed '%s': %d, want NOT_FOUND", o->key, rc);
                buf_free(&b);
            }
            ops[2]++;
        } else if (r < 88) {
            check_head(o);
            ops[3]++;
        } else {
            if (objstore_remove(st, o->key, err, sizeof err) != 0)   /* removing twice succeeds */
                die("remove '%s': %s", o->key, err);
            o->live = 0;
            check_head(o);
            ops[4]++;
        }
    }
    /* Missing keys. */
    objstore_info info;
    snprintf(key, sizeof key, "%s/never written é+=?", run);
    if (objstore_head(st, key, &info, err, sizeof err) != OBJSTORE_NOT_FOUND)
        die("head of a missing key is not NOT_FOUND: %s", err);
    if (objstore_remove(st, key, err, sizeof err) != OBJSTORE_OK)
        die("remove of a missing key failed: %s", err);

    /* Multipart: two full parts and a short last one; an aborted upload leaves nothing. */
    snprintf(key, sizeof key, "%s/multi part/日本 + = ?x=1&y=2.bin", run);
    do_put(key, 2 * OBJSTORE_PART_MIN + 12345, 3);
    check_get(model_find(key));
    check_head(model_find(key));
    buf b = BUF_INIT;
    char md5[33];   /* S3 answers "<md5 of part md5s>-3"; s3rver the MD5 of the whole object */
    md5_hex(model_find(key)->data, model_find(key)->len, md5);
    if (objstore_get(st, key, &b, 0, &info, err, sizeof err) != 0 ||
        (!strstr(info.etag, "-3") && strcmp(info.etag, md5) != 0))
        die("multipart ETag '%s' is neither S3's form (...-3) nor the MD5 of the object", info.etag);
    buf_free(&b);
    snprintf(key, sizeof key, "%s/aborted upload", run);
    objstore_upload *u = st->ops->upload_begin(st, key, NULL, err, sizeof err);
    if (!u)
        die("upload_begin: %s", err);
    char part[1000];
    fill(part, sizeof part, 1);
    if (st->ops->upload_part(st, u, part, sizeof part, err, sizeof err) != 0)
        die("upload_part: %s", err);
    st->ops->upload_abort(st, u);
    if (objstore_head(st, key, &info, err, sizeof err) != OBJSTORE_NOT_FOUND)
        die("an aborted upload left '%s' behind", key);
    /* A one-part multipart upload smaller than the minimum (the last part may be short). */
    snprintf(key, sizeof key, "%s/multi small", run);
    do_put(key, 777, 1);
    check_get(model_find(key));

    /* Create-only puts. */
    snprintf(key, sizeof key, "%s/create only =+ é", run);
    objstore_put_options co = {.if_none_match = 1};
    if (objstore_put(st, key, "first", 5, &co, err, sizeof err) != OBJSTORE_OK)
        die("create-only put of a new key: %s", err);
    model_set(key, "first", 5, 0);
    int rc = objstore_put(st, key, "second", 6, &co, err, sizeof err);
    if (rc != OBJSTORE_EXISTS)
        die("create-only put of an existing key: %d (%s), want EXISTS", rc, err);
    check_get(model_find(key));

    /* Every object once more, then listings: all (several pages), a sub-prefix, an early stop. */
    for (size_t i = 0; i < nobjs; i++) {
        if (objs[i].live)
            check_get(&objs[i]);
        check_head(&objs[i]);
    }
    char runp[80];
    snprintf(runp, sizeof runp, "%s/", run);
    size_t n = check_list(runp);
    size_t page = (size_t)atol(opt(argc, argv, "page-keys", "1000"));
    if (n <= 2 * page)
        die("only %zu keys for pages of %zu: the listing did not span three pages", n, page);
    check_list(prefix_opt ? "" : runp);
    static const char *const subs[] = {"d", "da", "f", "f+", "f日", "f ", "dbx/", "multi"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(key, sizeof key, "%s/%s", run, subs[i]);
        check_list(key);
    }
    listed l = {.stop_at = 3};
    rc = objstore_list(st, runp, list_cb, &l, err, sizeof err);
    if (rc != 77 || l.n != 3)
        die("list stopped by the callback returned %d after %zu keys, want 77 after 3", rc, l.n);
    listed_free(&l);
    printf("random: %d puts, %d overwrites, %d gets, %d heads, %d removes; %zu objects, %zu listed\n", ops[0], ops[1],
           ops[2], ops[3], ops[4], nobjs, n);
    const char *manifest = opt(argc, argv, "manifest", NULL);
    if (manifest)
        write_manifest(manifest);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argc % 2) != 0)
        die("usage: objstore_s3_check MODE --option value ... (see the comment at the top)");
    const char *mode = argv[1];
    objstore_s3_options o = {
        .endpoint = opt(argc, argv, "endpoint", NULL),
        .bucket = opt(argc, argv, "bucket", NULL),
        .region = opt(argc, argv, "region", NULL),
        .access_key_id = opt(argc, argv, "access-key", NULL),
        .secret_access_key = opt(argc, argv, "secret", NULL),
        .prefix = opt(argc, argv, "prefix", NULL),
        .path_style = atoi(opt(argc, argv, "path-style", "1")),
        .connect_address = opt(argc, argv, "connect", NULL),
        .max_retries = atoi(opt(argc, argv, "max-retries", "3")),
        .retry_base_ms = atol(opt(argc, argv, "retry-base-ms", "10")),
        .request_timeout_ms = atol(opt(argc, argv, "timeout-ms", "20000")),
        .sse = opt(argc, argv, "sse", NULL),
        .sse_kms_key_id = opt(argc, argv, "kms-key", NULL),
        .conditional_writes = atoi(opt(argc, argv, "conditional", "1")),
        .list_page_keys = (size_t)atol(opt(argc, argv, "page-keys", "1000")),
        .ca_file = opt(argc, argv, "ca-file", NULL),
    };
    rng_state = strtoull(opt(argc, argv, "seed", "1"), NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
    st = objstore_s3_create(&o, err, sizeof err);
    if (!st)
        die("objstore_s3_create: %s", err);
    const char *key = opt(argc, argv, "key", "check/key");
    size_t size = (size_t)atol(opt(argc, argv, "size", "100"));
    uint64_t seed = strtoull(opt(argc, argv, "seed", "1"), NULL, 10);
    int rc = 0;
    if (strcmp(mode, "random") == 0) {
        mode_random(argc, argv, o.prefix);
    } else if (strcmp(mode, "put") == 0) {
        int parts = atoi(opt(argc, argv, "parts", "0"));
        char *data = malloc(size ? size : 1);
        fill(data, size, seed);
        if (parts > 0) {
            objstore_upload *u = st->ops->upload_begin(st, key, NULL, err, sizeof err);
            size_t off = 0;
            for (int p = 0; u && p < parts && rc == 0; p++) {
                size_t n = p == parts - 1 ? size - off : OBJSTORE_PART_MIN;
                rc = st->ops->upload_part(st, u, data + off, n, err, sizeof err);
                off += n;
            }
            if (!u)
                rc = -1;
            else if (rc == 0)
                rc = st->ops->upload_complete(st, u, err, sizeof err);
            else
                st->ops->upload_abort(st, u);
        } else {
            rc = objstore_put(st, key, data, size, NULL, err, sizeof err);
        }
        free(data);
        if (rc != 0)
            printf("error: %s\n", err);
    } else if (strcmp(mode, "get") == 0) {
        buf b = BUF_INIT;
        objstore_info info;
        rc = objstore_get(st, key, &b, 0, &info, err, sizeof err);
        if (rc != 0) {
            printf("error: %s\n", err);
        } else {
            char *want = malloc(size ? size : 1);
            fill(want, size, seed);
            if (b.len != size || (size && memcmp(b.data, want, size) != 0))
                die("get '%s': %zu bytes, not the %zu of seed %llu", key, b.len, size, (unsigned long long)seed);
            free(want);
        }
        buf_free(&b);
    } else if (strcmp(mode, "reuse") == 0) {
        /* put, wait (the test closes idle connections meanwhile), get on the kept-alive one */
        char *data = malloc(size ? size : 1);
        fill(data, size, seed);
        rc = objstore_put(st, key, data, size, NULL, err, sizeof err);
        if (rc != 0)
            die("put '%s': %s", key, err);
        long ms = atol(opt(argc, argv, "pause-ms", "1000"));
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        buf b = BUF_INIT;
        rc = objstore_get(st, key, &b, 0, NULL, err, sizeof err);
        if (rc != 0)
            die("get '%s' after the pause: %s", key, err);
        if (b.len != size || (size && memcmp(b.data, data, size) != 0))
            die("get '%s' after the pause: wrong bytes", key);
        buf_free(&b);
        free(data);
    } else if (strcmp(mode, "create") == 0) {
        objstore_put_options co = {.if_none_match = 1};
        rc = objstore_put(st, key, "x", 1, &co, err, sizeof err);
        const char *expect = opt(argc, argv, "expect", "ok");
        const char *got = rc == OBJSTORE_OK ? "ok" : rc == OBJSTORE_EXISTS ? "exists" : "error";
        printf("create: %s%s%s\n", got, rc ? ": " : "", rc ? err : "");
        if (strcmp(got, expect) != 0)
            die("create-only put of '%s': %s, want %s", key, got, expect);
        rc = 0;
    } else if (strcmp(mode, "fail") == 0) {
        objstore_info info;
        rc = objstore_put(st, key, "x", 1, NULL, err, sizeof err);
        if (rc == 0)
            die("put '%s' succeeded; it must fail", key);
        printf("error: %s\n", err);
        rc = objstore_head(st, key, &info, err, sizeof err);
        printf("head error: %s\n", rc ? err : "(none)");
        rc = 0;
    } else {
        die("unknown mode '%s'", mode);
    }
    objstore_s3_stats stats;
    objstore_s3_stats_get(st, &stats);
    printf("stats requests=%llu connects=%llu retries=%llu reconnects=%llu\n", (unsigned long long)stats.requests,
           (unsigned long long)stats.connects, (unsigned long long)stats.retries,
           (unsigned long long)stats.reconnects);
    objstore_destroy(st);
    for (size_t i = 0; i < nobjs; i++) {
        free(objs[i].key);
        free(objs[i].data);
    }
    free(objs);
    return rc == 0 ? 0 : 1;
}
