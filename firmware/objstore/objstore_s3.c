/* objstore_s3: the S3 object store (see objstore_s3.h). One request path, s3_call_run(): address,
 * sign, send over the kept-alive connection (reconnecting once when a reused one turns out
 * closed), retry with backoff; the ops build calls and read the answers. */
#include "objstore/objstore_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/aws_credentials_provider.h"
#include "aws/aws_sigv4.h"
#include "core/errbuf.h"
#include "core/http_client.h"
#include "core/http_tls.h"
#include "core/backoff.h"
#include "objstore/objstore_s3_retry.h"
#include "objstore/objstore_s3_xml.h"

#define S3_DEFAULT_TIMEOUT_MS 30000
#define S3_DEFAULT_RETRIES 5
#define S3_GET_MAX ((size_t)256 * 1024 * 1024)
#define S3_MAX_HEADERS 8

typedef struct s3_store {
    objstore base;
    char *bucket, *region, *prefix, *sse, *kms_key, *ca_file;
    int https, path_style, conditional, max_retries;
    char host[256], port[8];          /* endpoint host as written (IPv6 with brackets) and port */
    char host_header[300];            /* endpoint host[:port] as written */
    char connect_host[256], connect_port[8];
    long timeout_ms, base_ms, cap_ms;
    size_t page_keys;
    aws_credentials_provider *creds;
    http_conn *conn;
    int64_t (*now_unix)(void *);
    void *now_arg;
    objstore_s3_stats stats;
    char describe[400];
} s3_store;

struct objstore_upload {
    char *key;
    char upload_id[1024];
    objstore_put_options opts;
    char **etags;
    size_t nparts, cap;
    uint64_t total;
};

/* One request as the ops describe it. */
typedef struct s3_call {
    const char *op;                      /* "PUT", "GET", "CreateMultipartUpload", ... for messages */
    const char *method;
    const char *key;                     /* relative key; NULL = the bucket */
    const char *query;                   /* unencoded, or NULL */
    http_header headers[S3_MAX_HEADERS]; /* extra headers, all signed */
    size_t nheaders;
    const void *body;
    size_t body_len;
    size_t max_body;
    int body_may_fail;                   /* a 200 whose body is an <Error> is a failure
                                            (CompleteMultipartUpload) */
} s3_call;

static char *s3_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

static void s3_call_header(s3_call *c, const char *name, const char *value)
{
    if (value && c->nheaders < S3_MAX_HEADERS)
        c->headers[c->nheaders++] = (http_header){name, value};
}

/* "bucket/prefix+key" for messages. */
static void s3_where(const s3_store *s, const char *key, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s%.1100s", s->bucket, s->prefix, key ? key : "");
}

/* Is key acceptable to every store (objstore_key_check), and short enough with the prefix? */
static int s3_key_check(const s3_store *s, const char *key, char *err, size_t errlen)
{
    char e[256];
    if (objstore_key_check(key, e, sizeof e) < 0)
        return err_setf(err, errlen, "S3: %s", e);
    if (strlen(key) + strlen(s->prefix) > 1024)
        return err_setf(err, errlen, "S3: key '%.200s' is longer than 1024 bytes with the prefix", key);
    return 0;
}

int objstore_s3_address(const objstore *os, const char *key, char *host, size_t hostlen, char *path, size_t pathlen,
                        char *err, size_t errlen)
{
    const s3_store *s = (const s3_store *)os;
    int n1, n2;
    const char *k = key ? key : "";
    if (s->path_style) {
        n1 = snprintf(host, hostlen, "%s", s->host_header);
        n2 = *k ? snprintf(path, pathlen, "/%s/%s%s", s->bucket, s->prefix, k) : snprintf(path, pathlen, "/%s", s->bucket);
    } else {
        n1 = snprintf(host, hostlen, "%s.%s", s->bucket, s->host_header);
        n2 = *k ? snprintf(path, pathlen, "/%s%s", s->prefix, k) : snprintf(path, pathlen, "/");
    }
    if (n1 < 0 || (size_t)n1 >= hostlen || n2 < 0 || (size_t)n2 >= pathlen)
        return err_setf(err, errlen, "S3: request address too long");
    return 0;
}

static int64_t s3_now(const s3_store *s)
{
    return s->now_unix ? s->now_unix(s->now_arg) : (int64_t)time(NULL);
}

static void s3_conn_drop(s3_store *s)
{
    http_conn_destroy(s->conn);
    s->conn = NULL;
}

static int s3_connect(s3_store *s, int64_t deadline, char *err, size_t errlen)
{
    s->stats.connects++;
    s->conn = s->https ? http_conn_tls_create(s->connect_host, s->connect_port, s->ca_file, deadline, err, errlen)
                       : http_conn_tcp_create(s->connect_host, s->connect_port, deadline, err, errlen);
    return s->conn ? 0 : -1;
}

/* May the connection carry another request after this response? */
static int s3_keep_alive(const http_response *r, const char *method)
{
    const char *conn = http_response_header(r, "Connection");
    if (conn && strcasecmp(conn, "close") == 0)
        return 0;
    if (strcmp(method, "HEAD") == 0 || r->status == 204 || r->status == 304)
        return 1;
    return http_response_header(r, "Content-Length") || http_response_header(r, "Transfer-Encoding");
}

/* One signed exchange. 0 with a response, -1 (transport) or -2 (not worth retrying) with err. */
static int s3_attempt(s3_store *s, const s3_call *c, const char *payload_hash, const char *host, const char *path,
                      http_response *resp, char *err, size_t errlen)
{
    aws_credentials cr;
    char e[512];
    if (aws_credentials_provider_get(s->creds, s3_now(s), &cr, e, sizeof e) < 0) {
        err_setf(err, errlen, "no AWS credentials: %s", e);
        return -2;
    }
    aws_sigv4_header sh[S3_MAX_HEADERS];
    for (size_t i = 0; i < c->nheaders; i++)
        sh[i] = (aws_sigv4_header){c->headers[i].name, c->headers[i].value};
    aws_sigv4_request sr = {.method = c->method, .host = host, .path = path, .query = c->query, .headers = sh,
                            .nheaders = c->nheaders, .payload_sha256 = payload_hash, .region = s->region,
                            .service = "s3", .now_unix = s3_now(s), .s3_path_encoding = 1};
    buf auth = BUF_INIT, target = BUF_INIT;
    char amz_date[17];
    int rc = -2;
    if (aws_sigv4_authorization(&sr, &cr, &auth, amz_date, e, sizeof e) < 0) {
        err_setf(err, errlen, "%s", e);
        goto done;
    }
    aws_uri_encode(&target, path, 1);
    if (c->query) {
        buf_append(&target, "?", 1);
        aws_sigv4_query_encode(c->query, &target);
    }
    http_header hs[S3_MAX_HEADERS + 6];
    size_t n = 0;
    for (size_t i = 0; i < c->nheaders; i++)
        hs[n++] = c->headers[i];
    hs[n++] = (http_header){"Authorization", auth.data};
    hs[n++] = (http_header){"x-amz-date", amz_date};
    hs[n++] = (http_header){"x-amz-content-sha256", payload_hash};
    if (cr.session_token[0])
        hs[n++] = (http_header){"x-amz-security-token", cr.session_token};
    hs[n++] = (http_header){"User-Agent", "sluice/" SLUICE_VERSION};
    http_request req = {.method = c->method, .host = host, .target = target.data, .headers = hs, .nheaders = n,
                        .body = c->body, .body_len = c->body_len, .max_body = c->max_body};

    int reused = s->conn != NULL;
    int64_t deadline = http_clock_ms() + s->timeout_ms;
    rc = -1;
    if (!s->conn && s3_connect(s, deadline, err, errlen) < 0)
        goto done;
    s->stats.requests++;
    if (http_client_exchange(s->conn, &req, resp, deadline, err, errlen) < 0) {
        s3_conn_drop(s);
        http_response_free(resp);
        if (!reused || http_clock_ms() >= deadline)   /* fresh, or timed out: a real failure */
            goto done;
        /* A kept-alive connection the server had closed: once more on a fresh one. */
        s->stats.reconnects++;
        deadline = http_clock_ms() + s->timeout_ms;
        if (s3_connect(s, deadline, err, errlen) < 0)
            goto done;
        s->stats.requests++;
        if (http_client_exchange(s->conn, &req, resp, deadline, err, errlen) < 0) {
            s3_conn_drop(s);
            http_response_free(resp);
            goto done;
        }
    }
    if (!s3_keep_alive(resp, c->method))
        s3_conn_drop(s);
    rc = 0;
done:
    memset(&cr, 0, sizeof cr);
    buf_free(&auth);
    buf_free(&target);
    return rc;
}

/* The S3 error code and message of a response (from its XML body, else from the status). */
static void s3_error_of(const http_response *r, char *code, size_t codelen, char *msg, size_t msglen)
{
    if (!s3_xml_error(r->body.data, r->body.len, code, codelen, msg, msglen) || !code[0]) {
        const char *c = r->status == 404   ? "NotFound"
                        : r->status == 403 ? "Forbidden"
                        : r->status == 412 ? "PreconditionFailed"
                        : r->status == 501 ? "NotImplemented"
                        : r->status >= 500 ? "ServiceError"
                                           : "Error";
        snprintf(code, codelen, "%s", c);
    }
}

/* Run a call with retries. 0 with the final response in *resp (any status; 2xx unless the
 * retries ran out or the error is not retryable), or -1 with err (transport failures to the
 * end, or no credentials). *attempts: how many were made. */
static int s3_call_run(s3_store *s, const s3_call *c, http_response *resp, int *attempts, char *err, size_t errlen)
{
    char host[600], path[1400], where[1200], e[1024];
    char hash[65];
    memset(resp, 0, sizeof *resp);
    s3_where(s, c->key, where, sizeof where);
    if (objstore_s3_address(&s->base, c->key, host, sizeof host, path, sizeof path, e, sizeof e) < 0)
        return err_setf(err, errlen, "S3 %s %s: %s", c->op, where, e);
    aws_sha256_hex(c->body ? c->body : "", c->body_len, hash);
    for (int attempt = 0;; attempt++) {
        *attempts = attempt + 1;
        if (attempt > 0) {
            s->stats.retries++;
            backoff_sleep_ms(backoff_next_ms(attempt - 1, s->base_ms, s->cap_ms));
        }
        int rc = s3_attempt(s, c, hash, host, path, resp, e, sizeof e);
        if (rc == -2)
            return err_setf(err, errlen, "S3 %s %s: %s", c->op, where, e);
        if (rc < 0) {
            if (attempt >= s->max_retries)
                return err_setf(err, errlen, "S3 %s %s: %s (%d attempt%s)", c->op, where, e, attempt + 1,
                                attempt ? "s" : "");
            continue;
        }
        char code[128] = "", msg[8];
        int failed = resp->status >= 300;
        if (!failed && c->body_may_fail && s3_xml_error(resp->body.data, resp->body.len, code, sizeof code, msg,
                                                        sizeof msg)) {
            failed = 1;
            resp->status = 500;   /* an error inside a 200: S3 says to treat it as a 5xx */
        }
        if (!failed)
            return 0;
        if (!code[0])
            s3_error_of(resp, code, sizeof code, msg, sizeof msg);
        if (!s3_retry_status(resp->status, code) || attempt >= s->max_retries)
            return 0;
        http_response_free(resp);
    }
}

/* Format a failed response into err: "S3 PUT bucket/key: 403 SignatureDoesNotMatch: message". */
static int s3_fail(const s3_store *s, const s3_call *c, const http_response *r, int attempts, char *err,
                   size_t errlen)
{
    char where[1200], code[128], msg[512];
    s3_where(s, c->key, where, sizeof where);
    s3_error_of(r, code, sizeof code, msg, sizeof msg);
    char tries[48] = "";
    if (attempts > 1)
        snprintf(tries, sizeof tries, " (%d attempts)", attempts);
    const char *hint = "";
    if (r->status == 501 && c->nheaders && strcmp(code, "NotImplemented") == 0)
        for (size_t i = 0; i < c->nheaders; i++)
            if (strcasecmp(c->headers[i].name, "If-None-Match") == 0)
                hint = " (this store does not support conditional writes, If-None-Match: *; set "
                       "s3.conditional_writes=false)";
    err_setf(err, errlen, "S3 %s %s: %d %s%s%s%s%s", c->op, where, r->status, code, msg[0] ? ": " : "", msg, tries,
             hint);
    return OBJSTORE_ERR;
}

/* Last-Modified ("Wed, 12 Oct 2009 17:50:00 GMT") to Unix seconds, 0 when unreadable. */
static int64_t s3_http_date(const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int d, y, hh, mm, ss;
    if (!v || sscanf(v, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &hh, &mm, &ss) != 6)
        return 0;
    const char *m = strstr(months, mon);
    if (!m || (m - months) % 3)
        return 0;
    char iso[40];
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)((m - months) / 3 + 1), d, hh, mm, ss);
    int64_t t;
    return s3_xml_time_parse(iso, &t) == 0 ? t : 0;
}

static void s3_info_from(const http_response *r, objstore_info *info)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    const char *cl = http_response_header(r, "Content-Length");
    info->size = cl ? strtoull(cl, NULL, 10) : r->body.len;
    info->mtime_unix = s3_http_date(http_response_header(r, "Last-Modified"));
    const char *et = http_response_header(r, "ETag");
    if (et) {
        size_t n = strlen(et);
        if (n >= 2 && et[0] == '"' && et[n - 1] == '"')
            snprintf(info->etag, sizeof info->etag, "%.*s", (int)(n - 2), et + 1);
        else
            snprintf(info->etag, sizeof info->etag, "%s", et);
    }
}

/* Run a call on one object that must answer 200: 404 is OBJSTORE_NOT_FOUND, another status an
 * error with S3's code and message. *r is for the caller to free in every case. */
static int s3_object_call(s3_store *s, const s3_call *c, http_response *r, char *err, size_t errlen)
{
    int attempts;
    if (s3_call_run(s, c, r, &attempts, err, errlen) < 0)
        return OBJSTORE_ERR;
    if (r->status == 404) {
        char where[1200];
        s3_where(s, c->key, where, sizeof where);
        err_setf(err, errlen, "S3 %s %s: not found", c->op, where);
        return OBJSTORE_NOT_FOUND;
    }
    if (r->status != 200)
        return s3_fail(s, c, r, attempts, err, errlen);
    return OBJSTORE_OK;
}

static int s3_head(objstore *os, const char *key, objstore_info *info, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    if (s3_key_check(s, key, err, errlen) < 0)
        return OBJSTORE_ERR;
    s3_call c = {.op = "HEAD", .method = "HEAD", .key = key};
    http_response r;
    int rc = s3_object_call(s, &c, &r, err, errlen);
    if (rc == OBJSTORE_OK)
        s3_info_from(&r, info);
    http_response_free(&r);
    return rc;
}

/* A create-only write where the store cannot check it: look first (racy; see the options). */
static int s3_exists_precheck(s3_store *s, const char *key, char *err, size_t errlen)
{
    objstore_info info;
    int rc = s3_head(&s->base, key, &info, err, errlen);
    if (rc == OBJSTORE_OK) {
        char where[1200];
        s3_where(s, key, where, sizeof where);
        err_setf(err, errlen, "S3 PUT %s: already exists", where);
        return OBJSTORE_EXISTS;
    }
    return rc == OBJSTORE_NOT_FOUND ? OBJSTORE_OK : rc;
}

/* Content-Type and SSE headers of a new object. */
static void s3_object_headers(const s3_store *s, s3_call *c, const objstore_put_options *o)
{
    s3_call_header(c, "Content-Type", o && o->content_type ? o->content_type : "application/octet-stream");
    if (s->sse) {
        s3_call_header(c, "x-amz-server-side-encryption", s->sse);
        if (s->kms_key && strcmp(s->sse, "aws:kms") == 0)
            s3_call_header(c, "x-amz-server-side-encryption-aws-kms-key-id", s->kms_key);
    }
}

static int s3_put(objstore *os, const char *key, const void *data, size_t len, const objstore_put_options *o,
                  char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    if (s3_key_check(s, key, err, errlen) < 0)
        return OBJSTORE_ERR;
    int create_only = o && o->if_none_match;
    if (create_only && !s->conditional) {
        int rc = s3_exists_precheck(s, key, err, errlen);
        if (rc != OBJSTORE_OK)
            return rc;
    }
    s3_call c = {.op = "PUT", .method = "PUT", .key = key, .body = data, .body_len = len};
    s3_object_headers(s, &c, o);
    if (create_only && s->conditional)
        s3_call_header(&c, "If-None-Match", "*");
    http_response r;
    int attempts, rc = OBJSTORE_OK;
    if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0)
        rc = OBJSTORE_ERR;
    else if (r.status == 412 && create_only) {
        char where[1200];
        s3_where(s, key, where, sizeof where);
        err_setf(err, errlen, "S3 PUT %s: already exists (412 PreconditionFailed)", where);
        rc = OBJSTORE_EXISTS;
    } else if (r.status != 200)
        rc = s3_fail(s, &c, &r, attempts, err, errlen);
    http_response_free(&r);
    return rc;
}

static int s3_get(objstore *os, const char *key, buf *out, size_t max, objstore_info *info, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    if (s3_key_check(s, key, err, errlen) < 0)
        return OBJSTORE_ERR;
    s3_call c = {.op = "GET", .method = "GET", .key = key, .max_body = max ? max : S3_GET_MAX};
    http_response r;
    int rc = s3_object_call(s, &c, &r, err, errlen);
    if (rc == OBJSTORE_OK) {
        s3_info_from(&r, info);
        buf_append(out, r.body.data ? r.body.data : "", r.body.len);
    }
    http_response_free(&r);
    return rc;
}

static int s3_remove(objstore *os, const char *key, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    if (s3_key_check(s, key, err, errlen) < 0)
        return OBJSTORE_ERR;
    s3_call c = {.op = "DELETE", .method = "DELETE", .key = key};
    http_response r;
    int attempts, rc = OBJSTORE_OK;
    if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0)
        rc = OBJSTORE_ERR;
    else if (r.status != 204 && r.status != 200 && r.status != 404)
        rc = s3_fail(s, &c, &r, attempts, err, errlen);
    http_response_free(&r);
    return rc;
}

typedef struct s3_list_ctx {
    const s3_store *s;
    objstore_list_fn fn;
    void *arg;
    int bad_prefix;
    char last[1100];
} s3_list_ctx;

static int s3_list_entry(void *arg, const s3_xml_object *o)
{
    s3_list_ctx *l = arg;
    size_t pl = strlen(l->s->prefix);
    if (strncmp(o->key, l->s->prefix, pl) != 0) {
        l->bad_prefix = 1;
        return -1;
    }
    snprintf(l->last, sizeof l->last, "%s", o->key);
    objstore_info info = {.size = o->size, .mtime_unix = o->mtime_unix};
    snprintf(info.etag, sizeof info.etag, "%s", o->etag);
    return l->fn(l->arg, o->key + pl, &info);
}

static int s3_list(objstore *os, const char *prefix, objstore_list_fn fn, void *arg, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    char full[1100], token[4096] = "", where[1200];
    if (!prefix)
        prefix = "";
    s3_where(s, prefix, where, sizeof where);
    if ((size_t)snprintf(full, sizeof full, "%s%s", s->prefix, prefix) >= sizeof full)
        return err_setf(err, errlen, "S3 LIST %s: prefix too long", where);
    s3_list_ctx ctx = {.s = s, .fn = fn, .arg = arg};
    for (;;) {
        /* aws_sigv4_query_encode splits on '&': refuse what it cannot carry rather than sign
         * something else. */
        if (strchr(full, '&') || strchr(token, '&'))
            return err_setf(err, errlen, "S3 LIST %s: '&' in a prefix or continuation token is not supported", where);
        buf q = BUF_INIT;
        buf_printf(&q, "list-type=2&max-keys=%zu&prefix=%s", s->page_keys, full);
        if (token[0])
            buf_printf(&q, "&continuation-token=%s", token);
        s3_call c = {.op = "LIST", .method = "GET", .key = NULL, .query = q.data};
        http_response r;
        int attempts, rc = 0, truncated = 0;
        char e[512];
        if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0)
            rc = OBJSTORE_ERR;
        else if (r.status != 200)
            rc = s3_fail(s, &c, &r, attempts, err, errlen);
        else {
            rc = s3_xml_list_page(r.body.data, r.body.len, s3_list_entry, &ctx, &truncated, token, sizeof token, e,
                                  sizeof e);
            if (rc == -1 && ctx.bad_prefix)
                rc = err_setf(err, errlen, "S3 LIST %s: the store listed '%.200s' outside the prefix", where,
                              ctx.last);
            else if (rc == -1)
                rc = err_setf(err, errlen, "S3 LIST %s: %s", where, e);
        }
        http_response_free(&r);
        buf_free(&q);
        if (rc != 0 || !truncated)
            return rc;
    }
}

static void s3_upload_free(objstore_upload *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->nparts; i++)
        free(u->etags[i]);
    free(u->etags);
    free(u->key);
    free(u);
}

static objstore_upload *s3_upload_begin(objstore *os, const char *key, const objstore_put_options *o, char *err,
                                        size_t errlen)
{
    s3_store *s = (s3_store *)os;
    if (s3_key_check(s, key, err, errlen) < 0)
        return NULL;
    if (o && o->if_none_match && !s->conditional && s3_exists_precheck(s, key, err, errlen) != OBJSTORE_OK)
        return NULL;
    s3_call c = {.op = "CreateMultipartUpload", .method = "POST", .key = key, .query = "uploads"};
    s3_object_headers(s, &c, o);
    http_response r;
    int attempts;
    objstore_upload *u = NULL;
    if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0) {
        /* err is set */
    } else if (r.status != 200) {
        s3_fail(s, &c, &r, attempts, err, errlen);
    } else {
        u = calloc(1, sizeof *u);
        if (!u)
            abort();
        if (s3_xml_upload_id(r.body.data, r.body.len, u->upload_id, sizeof u->upload_id) < 0 ||
            strchr(u->upload_id, '&')) {
            char where[1200];
            s3_where(s, key, where, sizeof where);
            err_setf(err, errlen, "S3 CreateMultipartUpload %s: no usable UploadId in the answer", where);
            free(u);
            u = NULL;
        } else {
            u->key = s3_strdup(key);
            if (o)
                u->opts = *o;
            u->opts.content_type = NULL;
        }
    }
    http_response_free(&r);
    return u;
}

static int s3_upload_part(objstore *os, objstore_upload *u, const void *data, size_t len, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    char q[1200];
    snprintf(q, sizeof q, "partNumber=%zu&uploadId=%s", u->nparts + 1, u->upload_id);
    if (u->nparts >= 10000)
        return err_setf(err, errlen, "S3 UploadPart: more than 10000 parts");
    s3_call c = {.op = "UploadPart", .method = "PUT", .key = u->key, .query = q, .body = data, .body_len = len};
    http_response r;
    int attempts, rc = OBJSTORE_OK;
    if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0)
        rc = OBJSTORE_ERR;
    else if (r.status != 200)
        rc = s3_fail(s, &c, &r, attempts, err, errlen);
    else {
        const char *et = http_response_header(&r, "ETag");
        if (!et || !*et) {
            char where[1200];
            s3_where(s, u->key, where, sizeof where);
            rc = err_setf(err, errlen, "S3 UploadPart %s: part %zu: no ETag in the answer", where, u->nparts + 1);
        } else {
            if (u->nparts == u->cap) {
                u->cap = u->cap ? u->cap * 2 : 8;
                u->etags = realloc(u->etags, u->cap * sizeof *u->etags);
                if (!u->etags)
                    abort();
            }
            u->etags[u->nparts++] = s3_strdup(et);
            u->total += len;
        }
    }
    http_response_free(&r);
    return rc;
}

static void s3_upload_abort(objstore *os, objstore_upload *u)
{
    s3_store *s = (s3_store *)os;
    if (!u)
        return;
    char q[1100], err[256];
    snprintf(q, sizeof q, "uploadId=%s", u->upload_id);
    s3_call c = {.op = "AbortMultipartUpload", .method = "DELETE", .key = u->key, .query = q};
    http_response r;
    int attempts;
    if (s3_call_run(s, &c, &r, &attempts, err, sizeof err) == 0)
        http_response_free(&r);
    s3_upload_free(u);
}

static int s3_upload_complete(objstore *os, objstore_upload *u, char *err, size_t errlen)
{
    s3_store *s = (s3_store *)os;
    int create_only = u->opts.if_none_match;
    if (u->nparts == 0 && s3_upload_part(os, u, "", 0, err, errlen) < 0) {   /* S3 needs one part */
        s3_upload_abort(os, u);
        return OBJSTORE_ERR;
    }
    if (create_only && !s->conditional) {
        int rc = s3_exists_precheck(s, u->key, err, errlen);
        if (rc != OBJSTORE_OK) {
            s3_upload_abort(os, u);
            return rc;
        }
    }
    buf body = BUF_INIT;
    buf_puts(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < u->nparts; i++) {
        buf_printf(&body, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        for (const char *p = u->etags[i]; *p; p++)   /* an ETag is quoted: escape for XML */
            buf_puts(&body, *p == '"' ? "&quot;" : *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : (char[2]){*p, 0});
        buf_puts(&body, "</ETag></Part>");
    }
    buf_puts(&body, "</CompleteMultipartUpload>");
    char q[1100];
    snprintf(q, sizeof q, "uploadId=%s", u->upload_id);
    s3_call c = {.op = "CompleteMultipartUpload", .method = "POST", .key = u->key, .query = q, .body = body.data,
                 .body_len = body.len, .body_may_fail = 1};
    s3_call_header(&c, "Content-Type", "application/xml");
    if (create_only && s->conditional)
        s3_call_header(&c, "If-None-Match", "*");
    uint64_t before = s->stats.retries + s->stats.reconnects;
    http_response r;
    int attempts, rc = OBJSTORE_OK;
    if (s3_call_run(s, &c, &r, &attempts, err, errlen) < 0)
        rc = OBJSTORE_ERR;
    else if (r.status == 412 && create_only) {
        char where[1200];
        s3_where(s, u->key, where, sizeof where);
        err_setf(err, errlen, "S3 CompleteMultipartUpload %s: already exists (412 PreconditionFailed)", where);
        rc = OBJSTORE_EXISTS;
    } else if (r.status == 404 && s->stats.retries + s->stats.reconnects > before) {
        /* A repeated complete finds the upload gone: the first one may have succeeded with its
         * answer lost. The object of exactly our size means it did. */
        objstore_info info;
        char e2[256];
        if (s3_head(os, u->key, &info, e2, sizeof e2) != OBJSTORE_OK || info.size != u->total)
            rc = s3_fail(s, &c, &r, attempts, err, errlen);
    } else if (r.status != 200)
        rc = s3_fail(s, &c, &r, attempts, err, errlen);
    http_response_free(&r);
    buf_free(&body);
    if (rc == OBJSTORE_OK)
        s3_upload_free(u);
    else
        s3_upload_abort(os, u);
    return rc;
}

static void s3_destroy(objstore *os)
{
    s3_store *s = (s3_store *)os;
    s3_conn_drop(s);
    aws_credentials_provider_destroy(s->creds);
    free(s->bucket);
    free(s->region);
    free(s->prefix);
    free(s->sse);
    free(s->kms_key);
    free(s->ca_file);
    free(s);
}

static const char *s3_describe(const objstore *os)
{
    return ((const s3_store *)os)->describe;
}

static const objstore_ops s3_ops = {s3_put, s3_get, s3_head, s3_list, s3_remove, s3_upload_begin, s3_upload_part,
                                    s3_upload_complete, s3_upload_abort, s3_destroy, s3_describe};

/* "host:port" (IPv6 in brackets) into host and port; port defaults to def. 0, or -1. */
static int s3_split_hostport(const char *hp, size_t len, const char *def, char *host, size_t hostlen, char *port,
                             size_t portlen)
{
    size_t hl = len;
    const char *colon = NULL;
    if (len && hp[0] == '[') {
        const char *rb = memchr(hp, ']', len);
        if (!rb)
            return -1;
        hl = (size_t)(rb - hp) + 1;
        if (hl < len) {
            if (hp[hl] != ':')
                return -1;
            colon = hp + hl;
        }
    } else {
        colon = memchr(hp, ':', len);
        if (colon)
            hl = (size_t)(colon - hp);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, hp, hl);
    host[hl] = '\0';
    const char *p = colon ? colon + 1 : def;
    size_t pl = colon ? len - hl - 1 : strlen(def);
    if (pl == 0 || pl >= portlen || strspn(p, "0123456789") < pl)
        return -1;
    memcpy(port, p, pl);
    port[pl] = '\0';
    return 0;
}

objstore *objstore_s3_create(const objstore_s3_options *o, char *err, size_t errlen)
{
    if (!o || !o->bucket || !*o->bucket) {
        err_setf(err, errlen, "S3: no bucket (set s3.bucket)");
        return NULL;
    }
    if (strpbrk(o->bucket, "/?#& ") || strlen(o->bucket) > 63) {
        err_setf(err, errlen, "S3: '%s' is not a bucket name", o->bucket);
        return NULL;
    }
    const char *region = o->region && *o->region ? o->region : "us-east-1";
    char endpoint[400];
    if (o->endpoint && *o->endpoint)
        snprintf(endpoint, sizeof endpoint, "%s", o->endpoint);
    else
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", region);
    if (o->sse && *o->sse && strcmp(o->sse, "none") != 0 && strcmp(o->sse, "AES256") != 0 &&
        strcmp(o->sse, "aws:kms") != 0) {
        err_setf(err, errlen, "S3: server-side encryption '%s' is not none, AES256 or aws:kms", o->sse);
        return NULL;
    }
    s3_store *s = calloc(1, sizeof *s);
    if (!s) {
        err_setf(err, errlen, "S3: out of memory");
        return NULL;
    }
    s->base.ops = &s3_ops;
    const char *rest;
    if (strncmp(endpoint, "https://", 8) == 0) {
        s->https = 1;
        rest = endpoint + 8;
    } else if (strncmp(endpoint, "http://", 7) == 0) {
        rest = endpoint + 7;
    } else {
        err_setf(err, errlen, "S3: endpoint '%s' does not start with http:// or https://", endpoint);
        free(s);
        return NULL;
    }
    size_t hl = strcspn(rest, "/?#");
    if ((rest[hl] && strcmp(rest + hl, "/") != 0) ||
        s3_split_hostport(rest, hl, s->https ? "443" : "80", s->host, sizeof s->host, s->port, sizeof s->port) < 0 ||
        strchr(s->host, '@')) {
        err_setf(err, errlen, "S3: endpoint '%s' is not scheme://host[:port]", endpoint);
        free(s);
        return NULL;
    }
    snprintf(s->host_header, sizeof s->host_header, "%.*s", (int)hl, rest);
    const char *ch = s->host;
    char connect_host[256], connect_port[8];
    if (o->connect_address && *o->connect_address) {
        if (s3_split_hostport(o->connect_address, strlen(o->connect_address), s->port, connect_host,
                              sizeof connect_host, connect_port, sizeof connect_port) < 0) {
            err_setf(err, errlen, "S3: connect address '%s' is not host:port", o->connect_address);
            free(s);
            return NULL;
        }
        ch = connect_host;
    } else {
        snprintf(connect_port, sizeof connect_port, "%s", s->port);
    }
    snprintf(s->connect_host, sizeof s->connect_host, "%s", ch);
    snprintf(s->connect_port, sizeof s->connect_port, "%s", connect_port);

    /* Virtual-hosted names with dots do not match S3's wildcard certificate: path-style then,
     * as the AWS SDKs do. */
    s->path_style = o->path_style || (s->https && strchr(o->bucket, '.'));
    s->bucket = s3_strdup(o->bucket);
    s->region = s3_strdup(region);
    const char *pfx = o->prefix ? o->prefix : "";
    while (*pfx == '/')
        pfx++;
    size_t pl = strlen(pfx);
    s->prefix = malloc(pl + 2);
    if (!s->prefix)
        abort();
    memcpy(s->prefix, pfx, pl + 1);
    if (pl && pfx[pl - 1] != '/')
        memcpy(s->prefix + pl, "/", 2);
    s->sse = o->sse && *o->sse && strcmp(o->sse, "none") != 0 ? s3_strdup(o->sse) : NULL;
    s->kms_key = o->sse_kms_key_id && *o->sse_kms_key_id ? s3_strdup(o->sse_kms_key_id) : NULL;
    s->ca_file = o->ca_file && *o->ca_file ? s3_strdup(o->ca_file) : NULL;
    s->conditional = o->conditional_writes;
    s->timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : S3_DEFAULT_TIMEOUT_MS;
    s->max_retries = o->max_retries >= 0 ? o->max_retries : S3_DEFAULT_RETRIES;
    s->base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : S3_RETRY_BASE_MS;
    s->cap_ms = o->retry_cap_ms > 0 ? o->retry_cap_ms : S3_RETRY_CAP_MS;
    s->page_keys = o->list_page_keys ? o->list_page_keys : 1000;
    s->now_unix = o->now_unix;
    s->now_arg = o->now_arg;
    aws_credential_source src = {.access_key_id = o->access_key_id, .secret_access_key = o->secret_access_key,
                                 .session_token = o->session_token};
    if (src.access_key_id && !*src.access_key_id)
        src.access_key_id = src.secret_access_key = src.session_token = NULL;
    s->creds = aws_credentials_provider_create(&src);
    if (!s->creds) {
        err_setf(err, errlen, "S3: out of memory");
        s3_destroy(&s->base);
        return NULL;
    }
    /* "s3://bucket/prefix" without a trailing '/' (writers append "/<key>") */
    snprintf(s->describe, sizeof s->describe, "s3://%s/%s", s->bucket, s->prefix);
    for (size_t n = strlen(s->describe); n > 5 + strlen(s->bucket) && s->describe[n - 1] == '/'; n--)
        s->describe[n - 1] = '\0';
    return &s->base;
}

void objstore_s3_stats_get(const objstore *os, objstore_s3_stats *out)
{
    *out = ((const s3_store *)os)->stats;
}

void objstore_s3_options_from_config(const config *cfg, objstore_s3_options *o)
{
    memset(o, 0, sizeof *o);
    o->bucket = config_get(cfg, "s3.bucket");
    o->region = config_get(cfg, "s3.region");
    o->endpoint = config_get(cfg, "s3.endpoint");
    o->prefix = config_get(cfg, "s3.prefix");
    o->path_style = config_bool(cfg, "s3.path_style");
    o->access_key_id = config_get(cfg, "s3.access_key_id");
    o->secret_access_key = config_get(cfg, "s3.secret_access_key");
    o->sse = config_get(cfg, "s3.sse");
    o->sse_kms_key_id = config_get(cfg, "s3.sse_kms_key_id");
    o->ca_file = config_get(cfg, "s3.ca_file");
    o->conditional_writes = config_bool(cfg, "s3.conditional_writes");
    o->request_timeout_ms = (long)config_duration_ms(cfg, "s3.request_timeout");
    o->max_retries = (int)config_int(cfg, "s3.max_retries");
}
