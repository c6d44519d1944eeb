/* aws_sigv4: AWS Signature Version 4 (see aws_sigv4.h). Built as the AWS documentation describes
 * and as the AWS SDKs' signer (@smithy/signature-v4) does it: canonical request (method, path,
 * sorted encoded query, sorted lower-cased headers, signed header list, payload hash), string to
 * sign, signing key chain, signature. Tested against that signer's output and AWS's examples. */
#include "aws/aws_sigv4.h"

#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/errbuf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_MAX_EXPIRES (7 * 24 * 3600)   /* presigned URLs live at most a week */

/* A name/value pair: a query parameter (both URI-encoded) or a header (canonical form). */
typedef struct sigv4_pair {
    char *name;
    char *value;
} sigv4_pair;

typedef struct sigv4_list {
    sigv4_pair *v;
    size_t n, cap;
} sigv4_list;

static void sigv4_list_add(sigv4_list *l, char *name, char *value)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        sigv4_pair *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            fputs("sluice: out of memory\n", stderr);
            abort();
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].name = name;
    l->v[l->n].value = value;
    l->n++;
}

static void sigv4_list_free(sigv4_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *sigv4_strdup(const char *s, size_t len)
{
    buf b = BUF_INIT;
    buf_append(&b, s, len);
    return buf_take(&b);
}

static int sigv4_pair_cmp(const void *a, const void *b)
{
    const sigv4_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Sort query pairs by name, then value (both already encoded, so byte order is AWS's order). */
static void sigv4_list_sort(sigv4_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, sigv4_pair_cmp);
}

void aws_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len, md);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static void sigv4_hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, keylen, (const unsigned char *)msg,
                    strlen(msg), out);
}

static int sigv4_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.' || ch == '~';
}

static void sigv4_encode_n(buf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + len;
    for (; p < end; p++) {
        if (sigv4_unreserved(*p) || (keep_slash && *p == '/'))
            continue;
        if (p > run)
            buf_append(out, run, (size_t)(p - run));
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        buf_append(out, esc, 3);
        run = p + 1;
    }
    if (p > run)
        buf_append(out, run, (size_t)(p - run));
}

void aws_uri_encode(buf *out, const char *s, int keep_slash)
{
    sigv4_encode_n(out, s, strlen(s), keep_slash);
    if (!out->data)
        buf_append(out, "", 0);
}

/* Split "a=1&b=x y" into encoded pairs (empty pieces skipped; no '=' means the value ""). */
static void sigv4_query_parse(const char *q, sigv4_list *l)
{
    while (q && *q) {
        size_t len = strcspn(q, "&");
        if (len) {
            const char *eq = memchr(q, '=', len);
            size_t nlen = eq ? (size_t)(eq - q) : len;
            buf name = BUF_INIT, value = BUF_INIT;
            sigv4_encode_n(&name, q, nlen, 0);
            if (eq)
                sigv4_encode_n(&value, eq + 1, len - nlen - 1, 0);
            sigv4_list_add(l, buf_take(&name), buf_take(&value));
        }
        q += len;
        if (*q == '&')
            q++;
    }
}

/* name=value&... of a sorted list. */
static void sigv4_query_join(const sigv4_list *l, buf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_append(out, "&", 1);
        buf_puts(out, l->v[i].name);
        buf_append(out, "=", 1);
        buf_puts(out, l->v[i].value);
    }
    if (!out->data)
        buf_append(out, "", 0);
}

void aws_sigv4_query_encode(const char *query, buf *out)
{
    sigv4_list l = {0};
    sigv4_query_parse(query, &l);
    sigv4_list_sort(&l);
    sigv4_query_join(&l, out);
    sigv4_list_free(&l);
}

/* The canonical URI. S3: the path encoded once, as it is. Other services: empty, "." and ".."
 * segments removed, then encoded twice (once for the wire, once more for signing). */
static void sigv4_canonical_path(const char *path, int s3, buf *out)
{
    if (!path || !*path)
        path = "/";
    if (s3) {
        aws_uri_encode(out, path, 1);
        return;
    }
    size_t n = 0, cap = 8;
    const char **seg = malloc(cap * sizeof *seg);
    size_t *seglen = malloc(cap * sizeof *seglen);
    if (!seg || !seglen)
        abort();
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (n)
                n--;
        } else if (len && !(len == 1 && p[0] == '.')) {
            if (n == cap) {
                cap *= 2;
                seg = realloc(seg, cap * sizeof *seg);
                seglen = realloc(seglen, cap * sizeof *seglen);
                if (!seg || !seglen)
                    abort();
            }
            seg[n] = p;
            seglen[n++] = len;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    buf once = BUF_INIT;
    if (path[0] == '/')
        buf_append(&once, "/", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_append(&once, "/", 1);
        sigv4_encode_n(&once, seg[i], seglen[i], 0);
    }
    if (n && path[strlen(path) - 1] == '/')
        buf_append(&once, "/", 1);
    sigv4_encode_n(out, once.data ? once.data : "", once.len, 1);
    if (!out->data)
        buf_append(out, "", 0);
    buf_free(&once);
    free(seg);
    free(seglen);
}

static int sigv4_is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* A header value as signed: trimmed, inner runs of blanks collapsed to one space. */
static char *sigv4_header_value(const char *v)
{
    buf b = BUF_INIT;
    while (sigv4_is_space(*v))
        v++;
    while (*v) {
        size_t len = 0;
        while (v[len] && !sigv4_is_space(v[len]))
            len++;
        buf_append(&b, v, len);
        v += len;
        while (sigv4_is_space(*v))
            v++;
        if (*v)
            buf_append(&b, " ", 1);
    }
    return buf_take(&b);
}

static int sigv4_token_char(unsigned char ch)
{
    return ch > 32 && ch < 127 && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* Add a header in canonical form; the same name twice joins the values with ','. */
static int sigv4_header_add(sigv4_list *l, const char *name, const char *value, char *err, size_t errlen)
{
    size_t nlen = strlen(name);
    while (nlen && sigv4_is_space(name[nlen - 1]))
        nlen--;
    while (nlen && sigv4_is_space(*name)) {
        name++;
        nlen--;
    }
    if (!nlen)
        return err_setf(err, errlen, "sigv4: empty header name");
    for (size_t i = 0; i < nlen; i++)
        if (!sigv4_token_char((unsigned char)name[i]))
            return err_setf(err, errlen, "sigv4: bad character in header name '%.*s'", (int)nlen, name);
    if (strpbrk(value, "\r\n"))
        return err_setf(err, errlen, "sigv4: line break in the value of header '%.*s'", (int)nlen, name);
    char *lname = sigv4_strdup(name, nlen);
    for (char *p = lname; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    char *cvalue = sigv4_header_value(value);
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].name, lname) == 0) {
            buf joined = BUF_INIT;
            buf_printf(&joined, "%s,%s", l->v[i].value, cvalue);
            free(l->v[i].value);
            l->v[i].value = buf_take(&joined);
            free(lname);
            free(cvalue);
            return 0;
        }
    }
    sigv4_list_add(l, lname, cvalue);
    return 0;
}

static const char *sigv4_header_find(const sigv4_list *l, const char *lname)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, lname) == 0)
            return l->v[i].value;
    return NULL;
}

/* The caller's headers; the ones the signer sets itself are refused rather than signed twice. */
static int sigv4_headers_caller(const aws_sigv4_request *r, sigv4_list *l, char *err, size_t errlen)
{
    static const char *const own[] = {"host", "x-amz-date", "x-amz-security-token", "authorization"};
    for (size_t i = 0; i < r->nheaders; i++) {
        const aws_sigv4_header *h = &r->headers[i];
        if (!h->name || !h->value)
            return err_setf(err, errlen, "sigv4: header %zu has no name or value", i);
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
            if (strcasecmp(h->name, own[k]) == 0)
                return err_setf(err, errlen, "sigv4: header '%s' is set by the signer", own[k]);
        if (sigv4_header_add(l, h->name, h->value, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Stable sort by name (insertion sort: a request has a handful of headers). */
static void sigv4_headers_sort(sigv4_list *l)
{
    for (size_t i = 1; i < l->n; i++) {
        sigv4_pair t = l->v[i];
        size_t j = i;
        while (j && strcmp(l->v[j - 1].name, t.name) > 0) {
            l->v[j] = l->v[j - 1];
            j--;
        }
        l->v[j] = t;
    }
}

static void sigv4_signed_headers(const sigv4_list *h, buf *out)
{
    for (size_t i = 0; i < h->n; i++) {
        if (i)
            buf_append(out, ";", 1);
        buf_puts(out, h->v[i].name);
    }
}

static int sigv4_scope_part_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!(sigv4_unreserved(*p)))
            return 0;
    return 1;
}

static int sigv4_check(const aws_sigv4_request *r, const aws_credentials *c, char amz_date[17], char *err,
                       size_t errlen)
{
    if (!r || !c)
        return err_setf(err, errlen, "sigv4: no request or credentials");
    if (!r->method || !*r->method || strpbrk(r->method, " \t\r\n"))
        return err_setf(err, errlen, "sigv4: bad method");
    if (!r->host || !*r->host || strpbrk(r->host, " \t\r\n/"))
        return err_setf(err, errlen, "sigv4: bad host");
    if (!sigv4_scope_part_ok(r->region))
        return err_setf(err, errlen, "sigv4: bad region '%s'", r->region ? r->region : "");
    if (!sigv4_scope_part_ok(r->service))
        return err_setf(err, errlen, "sigv4: bad service '%s'", r->service ? r->service : "");
    if (!c->access_key_id[0] || !c->secret_access_key[0])
        return err_setf(err, errlen, "sigv4: credentials without access key id or secret access key");
    if (strchr(c->access_key_id, '/'))
        return err_setf(err, errlen, "sigv4: bad access key id");
    if (r->payload_sha256 && (!*r->payload_sha256 || strpbrk(r->payload_sha256, " \t\r\n")))
        return err_setf(err, errlen, "sigv4: bad payload hash");
    time_t t = (time_t)r->now_unix;
    struct tm tm;
    if (r->now_unix < 0 || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return err_setf(err, errlen, "sigv4: time %lld out of range", (long long)r->now_unix);
    strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm);
    return 0;
}

/* Canonical request -> string to sign -> signature (hex) with the key chain of the secret. */
static void sigv4_sign(const aws_sigv4_request *r, const aws_credentials *c, const char *amz_date,
                       const char *canonical_query, const sigv4_list *headers, const char *payload,
                       char signature[65])
{
    buf cr = BUF_INIT;
    buf_puts(&cr, r->method);
    buf_append(&cr, "\n", 1);
    sigv4_canonical_path(r->path, r->s3_path_encoding, &cr);
    buf_append(&cr, "\n", 1);
    buf_puts(&cr, canonical_query);
    buf_append(&cr, "\n", 1);
    for (size_t i = 0; i < headers->n; i++)
        buf_printf(&cr, "%s:%s\n", headers->v[i].name, headers->v[i].value);
    buf_append(&cr, "\n", 1);
    sigv4_signed_headers(headers, &cr);
    buf_append(&cr, "\n", 1);
    buf_puts(&cr, payload);

    char cr_hash[65];
    aws_sha256_hex(cr.data, cr.len, cr_hash);
    buf sts = BUF_INIT;
    buf_printf(&sts, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date, amz_date, r->region, r->service,
               cr_hash);

    buf k = BUF_INIT;
    buf_printf(&k, "AWS4%s", c->secret_access_key);
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    unsigned char kdate[32], kregion[32], kservice[32], key[32], mac[32];
    sigv4_hmac((const unsigned char *)k.data, k.len, date8, kdate);
    sigv4_hmac(kdate, sizeof kdate, r->region, kregion);
    sigv4_hmac(kregion, sizeof kregion, r->service, kservice);
    sigv4_hmac(kservice, sizeof kservice, "aws4_request", key);
    sigv4_hmac(key, sizeof key, sts.data, mac);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        signature[2 * i] = hex[mac[i] >> 4];
        signature[2 * i + 1] = hex[mac[i] & 15];
    }
    signature[64] = '\0';

    memset(kdate, 0, sizeof kdate);
    memset(kregion, 0, sizeof kregion);
    memset(kservice, 0, sizeof kservice);
    memset(key, 0, sizeof key);
    memset(k.data, 0, k.len);
    buf_free(&k);
    buf_free(&sts);
    buf_free(&cr);
}

int aws_sigv4_authorization(const aws_sigv4_request *r, const aws_credentials *c, buf *out, char amz_date[17],
                            char *err, size_t errlen)
{
    if (sigv4_check(r, c, amz_date, err, errlen) < 0)
        return -1;
    sigv4_list headers = {0}, query = {0};
    buf cq = BUF_INIT, sh = BUF_INIT;
    int rc = -1;
    if (sigv4_headers_caller(r, &headers, err, errlen) < 0)
        goto done;
    /* The payload hash: the request's, or a caller's x-amz-content-sha256 header, or that of "". */
    const char *payload = r->payload_sha256;
    const char *given = sigv4_header_find(&headers, "x-amz-content-sha256");
    if (given && payload && strcmp(given, payload) != 0) {
        err_setf(err, errlen, "sigv4: x-amz-content-sha256 header differs from the payload hash");
        goto done;
    }
    if (!payload)
        payload = given ? given : SIGV4_EMPTY_SHA256;
    sigv4_header_add(&headers, "host", r->host, NULL, 0);
    sigv4_header_add(&headers, "x-amz-date", amz_date, NULL, 0);
    if (c->session_token[0] &&
        sigv4_header_add(&headers, "x-amz-security-token", c->session_token, err, errlen) < 0)
        goto done;
    if (r->s3_path_encoding && !given)
        sigv4_header_add(&headers, "x-amz-content-sha256", payload, NULL, 0);
    sigv4_headers_sort(&headers);

    sigv4_query_parse(r->query, &query);
    sigv4_list_sort(&query);
    sigv4_query_join(&query, &cq);

    char signature[65];
    sigv4_sign(r, c, amz_date, cq.data, &headers, payload, signature);
    sigv4_signed_headers(&headers, &sh);
    buf_printf(out, SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
               c->access_key_id, amz_date, r->region, r->service, sh.data, signature);
    rc = 0;
done:
    sigv4_list_free(&headers);
    sigv4_list_free(&query);
    buf_free(&cq);
    buf_free(&sh);
    return rc;
}

static void sigv4_query_add(sigv4_list *l, const char *name, const char *value)
{
    buf v = BUF_INIT;
    aws_uri_encode(&v, value, 0);
    sigv4_list_add(l, sigv4_strdup(name, strlen(name)), buf_take(&v));
}

int aws_sigv4_presign(const aws_sigv4_request *r, const aws_credentials *c, int expires_s, buf *out, char *err,
                      size_t errlen)
{
    char amz_date[17];
    if (sigv4_check(r, c, amz_date, err, errlen) < 0)
        return -1;
    if (expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES)
        return err_setf(err, errlen, "sigv4: presigned URL expiry %d s is not within 1 s to 7 days", expires_s);
    sigv4_list headers = {0}, query = {0};
    buf cq = BUF_INIT, sh = BUF_INIT, cred = BUF_INIT;
    int rc = -1;
    if (sigv4_headers_caller(r, &headers, err, errlen) < 0)
        goto done;
    sigv4_header_add(&headers, "host", r->host, NULL, 0);
    sigv4_headers_sort(&headers);
    sigv4_signed_headers(&headers, &sh);

    char expires[16];
    snprintf(expires, sizeof expires, "%d", expires_s);
    buf_printf(&cred, "%s/%.8s/%s/%s/aws4_request", c->access_key_id, amz_date, r->region, r->service);
    sigv4_query_parse(r->query, &query);
    sigv4_query_add(&query, "X-Amz-Algorithm", SIGV4_ALGORITHM);
    sigv4_query_add(&query, "X-Amz-Credential", cred.data);
    sigv4_query_add(&query, "X-Amz-Date", amz_date);
    sigv4_query_add(&query, "X-Amz-Expires", expires);
    sigv4_query_add(&query, "X-Amz-SignedHeaders", sh.data);
    if (c->session_token[0])
        sigv4_query_add(&query, "X-Amz-Security-Token", c->session_token);
    sigv4_list_sort(&query);
    sigv4_query_join(&query, &cq);

    char signature[65];
    sigv4_sign(r, c, amz_date, cq.data, &headers, r->payload_sha256 ? r->payload_sha256 : SIGV4_EMPTY_SHA256,
               signature);
    sigv4_query_add(&query, "X-Amz-Signature", signature);
    sigv4_list_sort(&query);
    sigv4_query_join(&query, out);
    rc = 0;
done:
    sigv4_list_free(&headers);
    sigv4_list_free(&query);
    buf_free(&cq);
    buf_free(&sh);
    buf_free(&cred);
    return rc;
}
