/* objstore_key: objstore_key_check(), the one definition of a key every implementation accepts
 * (see objstore.h), and objstore_key_escape() for names that become one key segment. Keys
 * become S3 object names and local file paths alike, so anything that is not a plain relative
 * path of printable UTF-8 is refused before it reaches either. */
#include "objstore/objstore.h"

#include <string.h>

#include "core/errbuf.h"

#define OBJSTORE_KEY_MAX 1024

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), its code point in *cp;
 * 0 when the bytes are not UTF-8 (bad lead or continuation byte, truncated sequence, overlong
 * form, surrogate, or beyond U+10FFFF). */
static size_t key_utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2, c = p[0] & 0x1Fu, min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3, c = p[0] & 0x0Fu, min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4, c = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* C0 controls, DEL and the C1 controls (U+0080..U+009F): Unicode's category Cc. */
static int key_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* The bytes are UTF-8 without control characters. The key itself is not quoted in these
 * messages: it is exactly what cannot be printed safely. */
static int key_check_chars(const char *key, size_t n, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)key;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = key_utf8_next(p + i, n - i, &cp);
        if (len == 0)
            return err_setf(err, errlen, "object key is not valid UTF-8 (byte %zu)", i);
        if (key_is_control(cp))
            return err_setf(err, errlen, "object key has control character U+%04X at byte %zu",
                            (unsigned)cp, i);
        i += len;
    }
    return 0;
}

/* No leading '/', no empty, "." or ".." segment (a trailing '/' is an empty last segment). */
static int key_check_segments(const char *key, char *err, size_t errlen)
{
    if (key[0] == '/')
        return err_setf(err, errlen, "object key '%s' starts with '/'", key);
    for (const char *seg = key;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0)
            return err_setf(err, errlen, "object key '%s' has an empty path segment", key);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return err_setf(err, errlen, "object key '%s' has a '%.*s' path segment", key, (int)len, seg);
        if (!end)
            return 0;
        seg = end + 1;
    }
}

int objstore_key_check(const char *key, char *err, size_t errlen)
{
    if (!key || !*key)
        return err_setf(err, errlen, "object key is empty");
    size_t n = strlen(key);
    if (n > OBJSTORE_KEY_MAX)
        return err_setf(err, errlen, "object key is %zu bytes, more than %d", n, OBJSTORE_KEY_MAX);
    if (key_check_chars(key, n, err, errlen) < 0)
        return -1;
    return key_check_segments(key, err, errlen);
}

void objstore_key_escape(buf *b, const char *segment)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
            *p == '_' || *p == '-' || *p >= 0x80) {
            buf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}
