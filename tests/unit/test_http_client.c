/* Unit tests for core/http_client's HTTP/1.1 framing over a scripted in-memory transport (a test
 * double of the http_conn ops table, handing out a few bytes per read): the request as written,
 * Content-Length, chunked (extensions, trailers), read-to-close, 1xx skipped, header lookup, body
 * limits and malformed responses. The TCP transport is exercised by test_aws_credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/errbuf.h"
#include "core/http_client.h"

typedef struct mem_conn {
    http_conn base;
    const char *in;   /* what the "server" sends */
    size_t len, pos;
    size_t step;      /* bytes per read; 0 = all at once, then silence instead of close */
    buf written;      /* what the client sent */
} mem_conn;

static int mem_write(http_conn *c, const void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    (void)deadline_ms;
    (void)err;
    (void)errlen;
    buf_append(&((mem_conn *)c)->written, data, len);
    return 0;
}

static long mem_read(http_conn *c, void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    mem_conn *m = (mem_conn *)c;
    (void)deadline_ms;
    if (m->pos == m->len) {   /* all sent: the peer closes, or (step 0) goes silent */
        if (m->step == 0)
            return err_setf(err, errlen, "mem: timed out");
        return 0;
    }
    size_t n = m->len - m->pos;
    if (m->step && n > m->step)
        n = m->step;
    if (n > len)
        n = len;
    memcpy(data, m->in + m->pos, n);
    m->pos += n;
    return (long)n;
}

static void mem_destroy(http_conn *c)
{
    buf_free(&((mem_conn *)c)->written);
}

static const http_conn_ops mem_ops = {mem_write, mem_read, mem_destroy};

static mem_conn mem(const char *response, size_t step)
{
    mem_conn m = {.base = {&mem_ops}, .in = response, .len = strlen(response), .step = step};
    return m;
}

static int exchange(mem_conn *m, const char *method, http_response *resp, char *err, size_t errlen)
{
    http_header h[] = {{"X-Test", "1"}};
    http_request req = {.method = method, .host = "example:8080", .target = "/a%20b?x=1", .headers = h,
                        .nheaders = 1, .body = "hello", .body_len = strcmp(method, "PUT") == 0 ? 5 : 0,
                        .max_body = 64};
    return http_client_exchange(&m->base, &req, resp, http_clock_ms() + 1000, err, errlen);
}

static void test_request_written(void **state)
{
    (void)state;
    mem_conn m = mem("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 100);
    http_response r;
    char err[256] = "";
    assert_int_equal(exchange(&m, "PUT", &r, err, sizeof err), 0);
    assert_string_equal(m.written.data, "PUT /a%20b?x=1 HTTP/1.1\r\nHost: example:8080\r\nX-Test: 1\r\n"
                                        "Content-Length: 5\r\n\r\nhello");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    http_response_free(&r);
    mem_destroy(&m.base);
}

static void test_content_length(void **state)
{
    (void)state;
    for (size_t step = 1; step <= 64; step *= 4) {
        mem_conn m = mem("HTTP/1.1 201 Created\r\nServer: x y\r\ncontent-length:  11 \r\nETag: \"e\"\r\n\r\n"
                         "hello worldEXTRA",
                         step);
        http_response r;
        char err[256] = "";
        assert_int_equal(exchange(&m, "GET", &r, err, sizeof err), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body.data, "hello world");
        assert_string_equal(http_response_header(&r, "Content-Length"), "11");
        assert_string_equal(http_response_header(&r, "server"), "x y");
        assert_string_equal(http_response_header(&r, "etag"), "\"e\"");
        assert_null(http_response_header(&r, "missing"));
        http_response_free(&r);
        mem_destroy(&m.base);
    }
}

static void test_chunked(void **state)
{
    (void)state;
    for (size_t step = 1; step <= 64; step *= 4) {
        mem_conn m = mem("HTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
                         step);
        http_response r;
        char err[256] = "";
        assert_int_equal(exchange(&m, "GET", &r, err, sizeof err), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body.data, "hello 0123456789");
        http_response_free(&r);
        mem_destroy(&m.base);
    }
}

static void test_until_close_and_no_body(void **state)
{
    (void)state;
    mem_conn m = mem("HTTP/1.0 200 OK\nContent-Type: text/plain\n\nto the end", 3);
    http_response r;
    char err[256] = "";
    assert_int_equal(exchange(&m, "GET", &r, err, sizeof err), 0);
    assert_string_equal(r.body.data, "to the end");
    http_response_free(&r);
    mem_destroy(&m.base);

    m = mem("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 100);   /* HEAD: no body follows */
    assert_int_equal(exchange(&m, "HEAD", &r, err, sizeof err), 0);
    assert_int_equal(r.body.len, 0);
    assert_non_null(r.body.data);
    http_response_free(&r);
    mem_destroy(&m.base);

    m = mem("HTTP/1.1 204 No Content\r\n\r\n", 100);
    assert_int_equal(exchange(&m, "GET", &r, err, sizeof err), 0);
    assert_int_equal(r.status, 204);
    http_response_free(&r);
    mem_destroy(&m.base);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *response;
        const char *want;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", "larger than 64"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "before the end of the body"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", "larger than 64"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "chunk not followed by CRLF"},
        {"SSH-2.0-OpenSSH\r\n\r\n", "bad status line"},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"},
        {"HTTP/1.1 200 OK\r\nContent-Le", "closed in the response head"},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123"
         "4",
         "larger than 64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mem_conn m = mem(cases[i].response, 7);
        http_response r;
        char err[256] = "";
        assert_int_equal(exchange(&m, "GET", &r, err, sizeof err), -1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: error '%s' does not contain '%s'", i, err, cases[i].want);
        http_response_free(&r);
        mem_destroy(&m.base);
    }

    /* a request that would split into two: refused before anything is written */
    mem_conn m = mem("", 100);
    http_header bad[] = {{"X-A", "1\r\nX-Injected: 2"}};
    http_request req = {.method = "GET", .host = "h", .target = "/", .headers = bad, .nheaders = 1};
    http_response r;
    char err[256] = "";
    assert_int_equal(http_client_exchange(&m.base, &req, &r, http_clock_ms() + 1000, err, sizeof err), -1);
    assert_int_equal(m.written.len, 0);
    req.nheaders = 0;
    req.target = "no-slash";
    assert_int_equal(http_client_exchange(&m.base, &req, &r, http_clock_ms() + 1000, err, sizeof err), -1);
    http_response_free(&r);
    mem_destroy(&m.base);

    /* a silent peer: the transport's timeout comes back as the error */
    m = mem("HTTP/1.1 200 OK\r\n", 0);
    req.target = "/";
    assert_int_equal(http_client_exchange(&m.base, &req, &r, http_clock_ms() + 1000, err, sizeof err), -1);
    assert_non_null(strstr(err, "timed out"));
    http_response_free(&r);
    mem_destroy(&m.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_written),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_until_close_and_no_body),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
