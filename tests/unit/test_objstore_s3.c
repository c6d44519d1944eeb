/* The S3 store's pieces that need no server: the XML readers (error, UploadId, ListObjectsV2
 * pages, entities, bounds), retry classification and full-jitter backoff, request addressing
 * (path-style, virtual-hosted, AWS's default endpoint per region, custom endpoints) and option
 * checks. The requests themselves are tested against s3rver in tests/runtime/lake_s3_client.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "objstore/objstore_s3.h"
#include "core/backoff.h"
#include "objstore/objstore_s3_retry.h"
#include "objstore/objstore_s3_xml.h"

static void test_xml_error(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                      "<Message>The request signature we calculated does not match &amp; &lt;x&gt; &#233;</Message>"
                      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
    char code[64], msg[256];
    assert_int_equal(s3_xml_error(doc, strlen(doc), code, sizeof code, msg, sizeof msg), 1);
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_string_equal(msg, "The request signature we calculated does not match & <x> \xc3\xa9");
    /* not an error document; a message too long for the buffer comes back empty */
    const char *ok = "<ListBucketResult><Code>x</Code></ListBucketResult>";
    assert_int_equal(s3_xml_error(ok, strlen(ok), code, sizeof code, msg, sizeof msg), 0);
    assert_int_equal(s3_xml_error(doc, strlen(doc), code, sizeof code, msg, 10), 1);
    assert_string_equal(msg, "");
    assert_int_equal(s3_xml_error("", 0, code, sizeof code, msg, sizeof msg), 0);
    /* the length bounds the search: a document cut before </Code> is no error document */
    assert_int_equal(s3_xml_error(doc, (size_t)(strstr(doc, "</Code>") - doc), code, sizeof code, msg, sizeof msg), 0);
    assert_string_equal(code, "");
}

static void test_xml_upload_id(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
                      "2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE+/=</UploadId>"
                      "</InitiateMultipartUploadResult>";
    char id[64];
    assert_int_equal(s3_xml_upload_id(doc, strlen(doc), id, sizeof id), 0);
    assert_string_equal(id, "VXBsb2FkIElE+/=");
    assert_int_equal(s3_xml_upload_id(doc, strlen(doc), id, 5), -1);
    assert_int_equal(s3_xml_upload_id("<UploadId></UploadId>", 21, id, sizeof id), -1);
}

typedef struct seen {
    int n;
    char keys[4][64];
    uint64_t sizes[4];
    int64_t mtimes[4];
    char etags[4][64];
    int stop;
} seen;

static int on_object(void *arg, const s3_xml_object *o)
{
    seen *s = arg;
    snprintf(s->keys[s->n], sizeof s->keys[0], "%.63s", o->key);
    s->sizes[s->n] = o->size;
    s->mtimes[s->n] = o->mtime_unix;
    snprintf(s->etags[s->n], sizeof s->etags[0], "%.63s", o->etag);
    s->n++;
    return s->stop && s->n == s->stop ? 9 : 0;
}

static const char *list_doc =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix>"
    "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a &amp; b+c=d?e &#x1F600;</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/z</Key><LastModified>2024-02-29T00:00:00Z</LastModified><ETag>\"abc-3\"</ETag>"
    "<Size>0</Size></Contents>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

static void test_xml_list_page(void **state)
{
    (void)state;
    seen s = {0};
    int truncated;
    char token[128], err[128];
    assert_int_equal(s3_xml_list_page(list_doc, strlen(list_doc), on_object, &s, &truncated, token, sizeof token, err,
                                      sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "p/a & b+c=d?e \xf0\x9f\x98\x80");
    assert_int_equal(s.sizes[0], 434234);
    assert_int_equal(s.mtimes[0], 1255369830);
    assert_string_equal(s.etags[0], "fba9dede5f27731c9771645a39863328");
    assert_string_equal(s.keys[1], "p/z");
    assert_int_equal(s.sizes[1], 0);
    assert_int_equal(s.mtimes[1], 1709164800);
    assert_string_equal(s.etags[1], "abc-3");
    assert_true(truncated);
    assert_string_equal(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

    seen stop = {.stop = 1};
    assert_int_equal(s3_xml_list_page(list_doc, strlen(list_doc), on_object, &stop, &truncated, token, sizeof token,
                                      err, sizeof err), 9);
    assert_int_equal(stop.n, 1);

    /* an empty last page */
    const char *empty = "<ListBucketResult><Name>b</Name><Prefix/><KeyCount>0</KeyCount><IsTruncated>false"
                        "</IsTruncated></ListBucketResult>";
    seen none = {0};
    assert_int_equal(s3_xml_list_page(empty, strlen(empty), on_object, &none, &truncated, token, sizeof token, err,
                                      sizeof err), 0);
    assert_int_equal(none.n, 0);
    assert_false(truncated);
    assert_string_equal(token, "");
}

static void test_xml_list_bad(void **state)
{
    (void)state;
    seen s = {0};
    int truncated;
    char token[128], err[128];
    static const char *const bad[] = {
        "<Error><Code>x</Code></Error>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",   /* no token */
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", /* no key */
        "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a<b/></Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1</Size>",   /* cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(s3_xml_list_page(bad[i], strlen(bad[i]), on_object, &s, &truncated, token, sizeof token, err,
                                          sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* a token longer than the buffer is refused, not cut */
    assert_int_equal(s3_xml_list_page(list_doc, strlen(list_doc), on_object, &s, &truncated, token, 8, err,
                                      sizeof err), -1);
}

static void test_xml_decode(void **state)
{
    (void)state;
    char out[16];
    s3_xml_span in = {"a&amp;&#65;&#x42;&apos;&quot;", 29};
    assert_int_equal(s3_xml_decode(in, out, sizeof out), 6);
    assert_string_equal(out, "a&AB'\"");
    static const char *const bad[] = {"&", "&amp", "&#;", "&#x;", "&#0;", "&#xD800;", "&#x110000;", "&#99999999999;",
                                      "&nbsp;", "<"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s3_xml_span b = {bad[i], strlen(bad[i])};
        assert_int_equal(s3_xml_decode(b, out, sizeof out), -1);
    }
    s3_xml_span exact = {"0123456789abcde", 15}, over = {"0123456789abcdef", 16};
    assert_int_equal(s3_xml_decode(exact, out, sizeof out), 15);
    assert_int_equal(s3_xml_decode(over, out, sizeof out), -1);
    /* names are matched whole: <Key> is not <KeyCount>; self-closing elements are empty */
    const char *doc = "<R><KeyCount>3</KeyCount><Key >k</Key ><Prefix/></R>";
    s3_xml_span d = {doc, strlen(doc)};
    assert_int_equal(s3_xml_text(d, "Key", out, sizeof out), 1);
    assert_string_equal(out, "k");
    assert_int_equal(s3_xml_text(d, "Prefix", out, sizeof out), 1);
    assert_string_equal(out, "");
    assert_int_equal(s3_xml_text(d, "Missing", out, sizeof out), 0);
    char root[8];
    s3_xml_span decl = {"<?xml version=\"1.0\"?><!-- c > --><Root a=\"1\">", 44};
    assert_int_equal(s3_xml_root(decl, root, sizeof root), 0);
    assert_string_equal(root, "Root");
    s3_xml_span longroot = {"<VeryLongRootName/>", 19};
    assert_int_equal(s3_xml_root(longroot, root, sizeof root), -1);
}

static void test_xml_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(s3_xml_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(s3_xml_time_parse("2026-11-26T01:02:03.456Z", &t), 0);
    assert_int_equal(t, 1795654923);
    assert_int_equal(s3_xml_time_parse("2026-11-26 01:02:03Z", &t), -1);
    assert_int_equal(s3_xml_time_parse("2026-13-26T01:02:03Z", &t), -1);
    assert_int_equal(s3_xml_time_parse("2026-11-26T01:02:03", &t), -1);
    assert_int_equal(s3_xml_time_parse("", &t), -1);
}

static void test_retry(void **state)
{
    (void)state;
    assert_true(s3_retry_status(500, "InternalError"));
    assert_true(s3_retry_status(503, "SlowDown"));
    assert_true(s3_retry_status(429, ""));
    assert_true(s3_retry_status(400, "RequestTimeout"));
    assert_false(s3_retry_status(501, "NotImplemented"));
    assert_false(s3_retry_status(403, "SignatureDoesNotMatch"));
    assert_false(s3_retry_status(404, "NoSuchKey"));
    assert_false(s3_retry_status(412, "PreconditionFailed"));
    /* full jitter: within [0, min(cap, base * 2^n)], and reaching the top */
    for (int attempt = 0; attempt < 40; attempt++) {
        long ceiling = attempt < 20 ? 100L << attempt : 20000;
        if (ceiling > 20000)
            ceiling = 20000;
        long top = 0;
        for (uint64_t r = 0; r < 2000; r++) {
            long d = backoff_delay_ms(attempt, 100, 20000, r * 0x9E3779B97F4A7C15ULL);
            assert_true(d >= 0 && d <= ceiling);
            if (d > top)
                top = d;
        }
        assert_true(top >= ceiling * 9 / 10);
    }
    assert_int_equal(backoff_delay_ms(3, 100, 20000, 800), 800);
    assert_int_equal(backoff_delay_ms(3, 100, 20000, 801), 0);
}

static void expect_address(const objstore_s3_options *o, const char *key, const char *host, const char *path)
{
    char err[256], h[600], p[1400];
    objstore *s = objstore_s3_create(o, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(objstore_s3_address(s, key, h, sizeof h, p, sizeof p, err, sizeof err), 0);
    assert_string_equal(h, host);
    assert_string_equal(p, path);
    objstore_destroy(s);
}

static void test_address(void **state)
{
    (void)state;
    objstore_s3_options o = {.bucket = "lake", .region = "eu-west-3", .access_key_id = "AK", .secret_access_key = "SK",
                             .max_retries = -1};
    expect_address(&o, "a b/c+d", "lake.s3.eu-west-3.amazonaws.com", "/a b/c+d");
    expect_address(&o, NULL, "lake.s3.eu-west-3.amazonaws.com", "/");
    o.prefix = "/bronze";   /* leading '/' dropped, trailing '/' added */
    expect_address(&o, "x", "lake.s3.eu-west-3.amazonaws.com", "/bronze/x");
    o.path_style = 1;
    expect_address(&o, "x", "s3.eu-west-3.amazonaws.com", "/lake/bronze/x");
    expect_address(&o, NULL, "s3.eu-west-3.amazonaws.com", "/lake");
    o.prefix = NULL;
    o.path_style = 0;
    o.bucket = "my.lake";   /* dots over https: path-style */
    expect_address(&o, "k", "s3.eu-west-3.amazonaws.com", "/my.lake/k");
    o.endpoint = "http://minio:9000";   /* dots over http: virtual-hosted as asked */
    expect_address(&o, "k", "my.lake.minio:9000", "/k");
    o.bucket = "lake";
    o.path_style = 1;
    o.endpoint = "http://[::1]:9000/";
    expect_address(&o, "k", "[::1]:9000", "/lake/k");
    o.endpoint = NULL;
    o.region = NULL;
    expect_address(&o, "k", "s3.us-east-1.amazonaws.com", "/lake/k");

    char err[256];
    objstore *s = objstore_s3_create(&o, err, sizeof err);
    assert_string_equal(objstore_describe(s), "s3://lake");   /* no trailing '/': writers append "/key" */
    objstore_destroy(s);
    o.prefix = "tenant/a/";
    s = objstore_s3_create(&o, err, sizeof err);
    assert_string_equal(objstore_describe(s), "s3://lake/tenant/a");
    objstore_destroy(s);
}

static void test_create_refuses(void **state)
{
    (void)state;
    char err[256];
    objstore_s3_options o = {.bucket = "lake", .max_retries = -1};
    static const char *const endpoints[] = {"ftp://x", "http://", "http://host:port", "http://h/path", "minio:9000",
                                            "http://u@h"};
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        o.endpoint = endpoints[i];
        assert_null(objstore_s3_create(&o, err, sizeof err));
        assert_non_null(strstr(err, "endpoint"));
    }
    o.endpoint = NULL;
    o.sse = "aes";
    assert_null(objstore_s3_create(&o, err, sizeof err));
    assert_non_null(strstr(err, "encryption"));
    o.sse = NULL;
    o.bucket = NULL;
    assert_null(objstore_s3_create(&o, err, sizeof err));
    assert_non_null(strstr(err, "bucket"));
    o.bucket = "a/b";
    assert_null(objstore_s3_create(&o, err, sizeof err));
    /* keys every store refuses never reach the network */
    o.bucket = "lake";
    o.endpoint = "http://127.0.0.1:9";
    objstore *s = objstore_s3_create(&o, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(objstore_put(s, "../x", "", 0, NULL, err, sizeof err), OBJSTORE_ERR);
    assert_int_equal(objstore_put(s, "/x", "", 0, NULL, err, sizeof err), OBJSTORE_ERR);
    objstore_s3_stats st;
    objstore_s3_stats_get(s, &st);
    assert_int_equal(st.requests, 0);
    objstore_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_error),     cmocka_unit_test(test_xml_upload_id), cmocka_unit_test(test_xml_list_page),
        cmocka_unit_test(test_xml_list_bad),  cmocka_unit_test(test_xml_decode),    cmocka_unit_test(test_xml_time),
        cmocka_unit_test(test_retry),         cmocka_unit_test(test_address),       cmocka_unit_test(test_create_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
