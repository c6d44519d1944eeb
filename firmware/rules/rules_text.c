/* rules_text: the text operations shared by the Lua helpers and the native steps (see
 * rules_text.h): UTF-8 aware masking, e-mail and phone masking, trim, ASCII case, and SHA-256 /
 * HMAC-SHA256 (mbedTLS) as lower-case hex. */
#include "rules/rules_text.h"

#include <string.h>

#include <mbedtls/md.h>

size_t rules_text_u8len(const unsigned char *s, size_t n)
{
    size_t len;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 1;
    if (len > n)
        return 1;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 1;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] > 0x8f))
        return 1;   /* overlong, surrogate or beyond U+10FFFF */
    return len;
}

int rules_text_is_char(const char *ch, size_t chlen)
{
    return chlen > 0 && rules_text_u8len((const unsigned char *)ch, chlen) == chlen;
}

static size_t text_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i += rules_text_u8len((const unsigned char *)s + i, n - i))
        count++;
    return count;
}

/* Byte offset of code point number cp (0-based) in s. */
static size_t text_offset(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (cp-- > 0 && i < n)
        i += rules_text_u8len((const unsigned char *)s + i, n - i);
    return i;
}

size_t rules_text_mask(const char *s, size_t n, size_t keep_start, size_t keep_end, const char *ch, size_t chlen,
                       char *out)
{
    size_t count = text_count(s, n), len = 0;
    if (keep_start >= count || keep_end >= count - keep_start)
        keep_start = keep_end = 0;
    size_t from = text_offset(s, n, keep_start);
    size_t to = text_offset(s, n, count - keep_end);
    memcpy(out, s, from);
    len = from;
    for (size_t i = keep_start; i < count - keep_end; i++, len += chlen)
        memcpy(out + len, ch, chlen);
    memcpy(out + len, s + to, n - to);
    return len + n - to;
}

static int text_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* local@domain with one '@', a non-empty local part, and a domain with an inner dot, no spaces. */
static int text_email_valid(const char *s, size_t n, size_t *at)
{
    const char *a = memchr(s, '@', n);
    if (!a || a == s || memchr(a + 1, '@', n - (size_t)(a - s) - 1))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (text_is_space((unsigned char)s[i]) || s[i] == '\0')
            return 0;
    const char *dom = a + 1;
    size_t dlen = n - (size_t)(dom - s);
    const char *dot = dlen ? memchr(dom + 1, '.', dlen - 1) : NULL;
    if (!dot || dom[dlen - 1] == '.')
        return 0;
    *at = (size_t)(a - s);
    return 1;
}

size_t rules_text_mask_email(const char *s, size_t n, char *out)
{
    size_t at;
    if (!text_email_valid(s, n, &at))
        return rules_text_mask(s, n, 0, 0, "*", 1, out);
    size_t first = rules_text_u8len((const unsigned char *)s, at);
    memcpy(out, s, first);
    memcpy(out + first, "***", 3);
    memcpy(out + first + 3, s + at, n - at);
    return first + 3 + n - at;
}

size_t rules_text_mask_phone(const char *s, size_t n, char *out)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += s[i] >= '0' && s[i] <= '9';
    size_t keep_from = digits > 4 ? digits - 4 : digits, seen = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = s[i];
        if (s[i] >= '0' && s[i] <= '9' && seen++ < keep_from)
            out[i] = '*';
    }
    return n;
}

void rules_text_trim(const char *s, size_t n, size_t *from, size_t *len)
{
    size_t f = 0;
    while (f < n && text_is_space((unsigned char)s[f]))
        f++;
    while (n > f && text_is_space((unsigned char)s[n - 1]))
        n--;
    *from = f;
    *len = n - f;
}

size_t rules_text_case(const char *s, size_t n, int upper, char *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
    return n;
}

static void text_hex(const unsigned char md[32], char out[RULES_TEXT_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
}

int rules_text_sha256_hex(const char *s, size_t n, char out[RULES_TEXT_HEX_LEN])
{
    unsigned char md[32];
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)s, n, md) != 0)
        return -1;
    text_hex(md, out);
    return 0;
}

int rules_text_hmac_sha256_hex(const char *key, size_t klen, const char *s, size_t n, char out[RULES_TEXT_HEX_LEN])
{
    unsigned char md[32];
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)key, klen,
                        (const unsigned char *)s, n, md) != 0)
        return -1;
    text_hex(md, out);
    return 0;
}
