/* objstore_s3_xml: a bounded element finder and entity decoder for S3's XML responses
 * (see objstore_s3_xml.h). Every scan is a loop over (pointer, length); nothing reads past len,
 * nothing recurses, nothing allocates. */
#include "objstore/objstore_s3_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"

/* First occurrence of needle (nlen bytes) in p[from, len), or len. */
static size_t xml_find(const char *p, size_t len, size_t from, const char *needle, size_t nlen)
{
    if (nlen == 0 || len < nlen)
        return len;
    for (size_t i = from; i + nlen <= len; i++) {
        const char *hit = memchr(p + i, needle[0], len - nlen + 1 - i);
        if (!hit)
            return len;
        i = (size_t)(hit - p);
        if (memcmp(hit, needle, nlen) == 0)
            return i;
    }
    return len;
}

/* Does the tag name at p[i] equal name and end there (at '>', '/', or blank)? */
static int xml_name_at(const char *p, size_t len, size_t i, const char *name, size_t nl)
{
    if (i + nl >= len || memcmp(p + i, name, nl) != 0)
        return 0;
    char c = p[i + nl];
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int s3_xml_next(s3_xml_span in, const char *name, size_t *pos, s3_xml_span *inner)
{
    size_t nl = strlen(name);
    if (!in.p || nl == 0)
        return 0;
    size_t i = *pos;
    while (i < in.len) {
        size_t lt = xml_find(in.p, in.len, i, "<", 1);
        if (lt >= in.len)
            return 0;
        if (!xml_name_at(in.p, in.len, lt + 1, name, nl)) {
            i = lt + 1;
            continue;
        }
        size_t gt = xml_find(in.p, in.len, lt + 1 + nl, ">", 1);
        if (gt >= in.len)
            return 0;
        if (in.p[gt - 1] == '/') {   /* <name/> */
            inner->p = in.p + gt + 1;
            inner->len = 0;
            *pos = gt + 1;
            return 1;
        }
        /* the end tag "</name>", possibly with blanks before '>' */
        size_t j = gt + 1;
        for (;;) {
            size_t c = xml_find(in.p, in.len, j, "</", 2);
            if (c >= in.len)
                return 0;
            size_t k = c + 2;
            if (k + nl <= in.len && memcmp(in.p + k, name, nl) == 0) {
                k += nl;
                while (k < in.len && (in.p[k] == ' ' || in.p[k] == '\t' || in.p[k] == '\r' || in.p[k] == '\n'))
                    k++;
                if (k < in.len && in.p[k] == '>') {
                    inner->p = in.p + gt + 1;
                    inner->len = c - (gt + 1);
                    *pos = k + 1;
                    return 1;
                }
            }
            j = c + 2;
        }
    }
    return 0;
}

int s3_xml_root(s3_xml_span doc, char *out, size_t outlen)
{
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    size_t i = 0;
    while (doc.p && i < doc.len) {
        size_t lt = xml_find(doc.p, doc.len, i, "<", 1);
        if (lt + 1 >= doc.len)
            return 0;
        char c = doc.p[lt + 1];
        if (c == '?' || c == '!') {   /* declaration, comment or doctype: skip to its end */
            size_t end = (c == '!' && lt + 3 < doc.len && doc.p[lt + 2] == '-' && doc.p[lt + 3] == '-')
                             ? xml_find(doc.p, doc.len, lt + 4, "-->", 3)
                             : xml_find(doc.p, doc.len, lt + 2, ">", 1);
            if (end >= doc.len)
                return 0;
            i = end + 1;
            continue;
        }
        size_t n = 0;
        while (lt + 1 + n < doc.len && !strchr(" \t\r\n/>", doc.p[lt + 1 + n]))
            n++;
        if (n + 1 > outlen)
            return -1;
        memcpy(out, doc.p + lt + 1, n);
        out[n] = '\0';
        return 0;
    }
    return 0;
}

/* Append the UTF-8 encoding of code point cp at out[*n]. 0, or -1 when it does not fit or is not
 * a character XML allows. */
static int xml_put_utf8(char *out, size_t outlen, size_t *n, unsigned long cp)
{
    unsigned char b[4];
    size_t k;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*n + k >= outlen)
        return -1;
    memcpy(out + *n, b, k);
    *n += k;
    return 0;
}

long s3_xml_decode(s3_xml_span in, char *out, size_t outlen)
{
    static const struct {
        const char *name;
        char ch;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    size_t n = 0;
    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < in.len;) {
        char c = in.p[i];
        if (c == '<')
            return -1;   /* markup inside a text element: not what S3 sends */
        if (c != '&') {
            if (n + 1 >= outlen)
                return -1;
            out[n++] = c;
            i++;
            continue;
        }
        size_t semi = i + 1;
        while (semi < in.len && semi - i <= 10 && in.p[semi] != ';')
            semi++;
        if (semi >= in.len || in.p[semi] != ';')
            return -1;
        const char *e = in.p + i + 1;
        size_t el = semi - i - 1;
        if (el >= 2 && e[0] == '#') {
            unsigned long cp = 0;
            int hex = e[1] == 'x' || e[1] == 'X';
            size_t d = hex ? 2 : 1;
            if (d >= el)
                return -1;
            for (; d < el; d++) {
                int v;
                char h = e[d];
                if (h >= '0' && h <= '9')
                    v = h - '0';
                else if (hex && h >= 'a' && h <= 'f')
                    v = h - 'a' + 10;
                else if (hex && h >= 'A' && h <= 'F')
                    v = h - 'A' + 10;
                else
                    return -1;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
                if (cp > 0x10FFFF)
                    return -1;
            }
            if (xml_put_utf8(out, outlen, &n, cp) < 0)
                return -1;
        } else {
            size_t k = 0;
            for (; k < sizeof named / sizeof named[0]; k++)
                if (strlen(named[k].name) == el && memcmp(named[k].name, e, el) == 0)
                    break;
            if (k == sizeof named / sizeof named[0] || n + 1 >= outlen)
                return -1;
            out[n++] = named[k].ch;
        }
        i = semi + 1;
    }
    out[n] = '\0';
    return (long)n;
}

int s3_xml_text(s3_xml_span in, const char *name, char *out, size_t outlen)
{
    size_t pos = 0;
    s3_xml_span inner;
    if (outlen)
        out[0] = '\0';
    if (!s3_xml_next(in, name, &pos, &inner))
        return 0;
    return s3_xml_decode(inner, out, outlen) < 0 ? -1 : 1;
}

int s3_xml_error(const char *doc, size_t len, char *code, size_t codelen, char *message, size_t messagelen)
{
    s3_xml_span d = {doc, len}, inner;
    char root[32];
    size_t pos = 0;
    if (codelen)
        code[0] = '\0';
    if (messagelen)
        message[0] = '\0';
    if (s3_xml_root(d, root, sizeof root) < 0 || strcmp(root, "Error") != 0 || !s3_xml_next(d, "Error", &pos, &inner))
        return 0;
    if (s3_xml_text(inner, "Code", code, codelen) < 0 && codelen)
        code[0] = '\0';
    if (s3_xml_text(inner, "Message", message, messagelen) < 0 && messagelen)
        message[0] = '\0';
    return 1;
}

int s3_xml_upload_id(const char *doc, size_t len, char *out, size_t outlen)
{
    s3_xml_span d = {doc, len};
    return s3_xml_text(d, "UploadId", out, outlen) == 1 && out[0] ? 0 : -1;
}

static int xml_days_from_civil(int y, int m, int d, int64_t *out)
{
    /* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *out = (int64_t)era * 146097 + doe - 719468;
    return 0;
}

int s3_xml_time_parse(const char *s, int64_t *out)
{
    int f[6] = {0};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[6] = {'-', '-', 'T', ':', ':', 0};
    const char *p = s;
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < width[k]; i++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            f[k] = f[k] * 10 + (*p - '0');
        }
        if (sep[k]) {
            if (*p != sep[k])
                return -1;
            p++;
        }
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return -1;
    int64_t days;
    xml_days_from_civil(f[0], f[1], f[2], &days);
    *out = days * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    return 0;
}

/* ETag text without its quotes. */
static void xml_etag_unquote(char *e)
{
    size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
        memmove(e, e + 1, n - 2);
        e[n - 2] = '\0';
    }
}

int s3_xml_list_page(const char *doc, size_t len, s3_xml_object_fn fn, void *arg, int *truncated, char *token,
                     size_t tokenlen, char *err, size_t errlen)
{
    s3_xml_span d = {doc, len}, body, c;
    char root[32], tmp[64];
    size_t pos = 0;
    *truncated = 0;
    if (tokenlen)
        token[0] = '\0';
    if (s3_xml_root(d, root, sizeof root) < 0 || strcmp(root, "ListBucketResult") != 0 ||
        !s3_xml_next(d, "ListBucketResult", &pos, &body))
        return err_setf(err, errlen, "not a ListBucketResult document");
    /* IsTruncated and the token sit at the top level; search outside the Contents entries by
     * taking the first match (S3 puts them before or after, never inside, a Contents). */
    if (s3_xml_text(body, "IsTruncated", tmp, sizeof tmp) == 1)
        *truncated = strcmp(tmp, "true") == 0;
    if (s3_xml_text(body, "NextContinuationToken", token, tokenlen) < 0)
        return err_setf(err, errlen, "bad NextContinuationToken");
    if (*truncated && !token[0])
        return err_setf(err, errlen, "truncated listing without a NextContinuationToken");
    size_t cpos = 0;
    while (s3_xml_next(body, "Contents", &cpos, &c)) {
        s3_xml_object o;
        memset(&o, 0, sizeof o);
        if (s3_xml_text(c, "Key", o.key, sizeof o.key) != 1 || !o.key[0])
            return err_setf(err, errlen, "listing entry without a valid Key");
        if (s3_xml_text(c, "Size", tmp, sizeof tmp) != 1 || !tmp[0] || strspn(tmp, "0123456789") != strlen(tmp) ||
            strlen(tmp) > 19)
            return err_setf(err, errlen, "listing entry %.200s: bad Size", o.key);
        o.size = strtoull(tmp, NULL, 10);
        if (s3_xml_text(c, "LastModified", tmp, sizeof tmp) == 1 && s3_xml_time_parse(tmp, &o.mtime_unix) < 0)
            o.mtime_unix = 0;
        if (s3_xml_text(c, "ETag", o.etag, sizeof o.etag) < 0)
            o.etag[0] = '\0';
        xml_etag_unquote(o.etag);
        int rc = fn(arg, &o);
        if (rc)
            return rc;
    }
    return 0;
}
