/* debezium_numbers: numbers and strings as the Java side of Debezium writes them, byte for byte:
 * Jackson's string escapes and base64, Double/Float.toString (shortest round-trip digits, as
 * JDK 19+ prints them), BigDecimal.toString, and BigInteger.toByteArray of arbitrarily long
 * decimals (Connect's Decimal and Debezium's VariableScaleDecimal carry those bytes). */
#include "encode/debezium_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings ------------------------------------------------------------------------------ */

/* Bytes Jackson escapes: control characters, '"' and '\\'. 0: copy; else the short escape
 * letter, or 'u' for \u00XX. */
static const unsigned char jackson_escape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"', ['\\'] = '\\',
};

void dbz_json_text(buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    PUT_LIT(out, "\"");
    for (; p < end; p++) {
        unsigned char esc = jackson_escape[*p];
        if (!esc)
            continue;
        if (p > run)
            buf_append(out, run, (size_t)(p - run));
        if (esc == 'u') {
            char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            buf_append(out, u, sizeof u);
        } else {
            char two[2] = {'\\', (char)esc};
            buf_append(out, two, 2);
        }
        run = p + 1;
    }
    if (p > run)
        buf_append(out, run, (size_t)(p - run));
    PUT_LIT(out, "\"");
}

void dbz_json_cstr(buf *out, const char *s)
{
    dbz_json_text(out, s, strlen(s));
}

void dbz_json_base64(buf *out, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4 * 64];
    size_t k = 0;
    PUT_LIT(out, "\"");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[k++] = tbl[(v >> 18) & 63];
        q[k++] = tbl[(v >> 12) & 63];
        q[k++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        q[k++] = i + 2 < n ? tbl[v & 63] : '=';
        if (k == sizeof q) {
            buf_append(out, q, k);
            k = 0;
        }
    }
    buf_append(out, q, k);
    PUT_LIT(out, "\"");
}

/* ---- Double.toString / Float.toString -------------------------------------------------------- */

/* Java's layout of significant digits dig[0..n) times 10^exp10 (exp10: exponent of the first
 * digit): plain for 10^-3 <= |v| < 10^7, else d.dddE[-]n; always a digit after the point. */
static void java_fp_layout(buf *out, int neg, const char *dig, int n, int exp10)
{
    char t[64];
    size_t k = 0;
    if (neg)
        t[k++] = '-';
    if (exp10 >= -3 && exp10 < 7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                t[k++] = i < n ? dig[i] : '0';
            t[k++] = '.';
            if (n > exp10 + 1)
                for (int i = exp10 + 1; i < n; i++)
                    t[k++] = dig[i];
            else
                t[k++] = '0';
        } else {
            t[k++] = '0';
            t[k++] = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                t[k++] = '0';
            for (int i = 0; i < n; i++)
                t[k++] = dig[i];
        }
    } else {
        t[k++] = dig[0];
        t[k++] = '.';
        if (n > 1)
            for (int i = 1; i < n; i++)
                t[k++] = dig[i];
        else
            t[k++] = '0';
        t[k++] = 'E';
        k += (size_t)snprintf(t + k, sizeof t - k, "%d", exp10);
    }
    buf_append(out, t, k);
}

/* Integers of 1 <= |v| < 2^63 take FloatingDecimal's exact path (JDK <= 18, which Debezium 2.x
 * runs on): the integer's digits with floor(log10(2^(e - bits - 1))) low digits rounded off,
 * e.g. 1.43607331844347469E18 and 3.10662738E10 where the shortest digits would be shorter. */
static int java_fp_integer(buf *out, double d, int single)
{
    double a = fabs(d);
    if (!(a >= 1.0 && a < 9223372036854775808.0) || a != floor(a))
        return 0;
    int e2;
    frexp(a, &e2);
    int bin_exp = e2 - 1, nsig = single ? 24 : 53, p2 = bin_exp - nsig - 1;
    uint64_t lv = (uint64_t)a;
    int insig = bin_exp > nsig && p2 > 1 ? (int)(p2 * 0.30102999566398119521) : 0, exp10 = insig - 1;
    if (insig) {
        uint64_t pow10 = 1;
        for (int i = 0; i < insig; i++)
            pow10 *= 10;
        uint64_t residue = lv % pow10;
        lv /= pow10;
        if (residue >= pow10 / 2)
            lv++;
    }
    char tmp[24], dig[24];
    int n = 0;
    for (; lv; lv /= 10)
        tmp[n++] = (char)('0' + lv % 10);
    exp10 += n;
    int first = 0;
    while (first < n - 1 && tmp[first] == '0')
        first++;
    int k = 0;
    for (int i = n - 1; i >= first; i--)
        dig[k++] = tmp[i];
    java_fp_layout(out, d < 0, dig, k, exp10);
    return 1;
}

/* Otherwise the shortest digits that read back as the same value (among equally short ones,
 * the closest: the correctly rounded ones printf gives). With one digit, JDK 19+ prefers a
 * closer two-digit decimal, which only subnormals can have (4.9E-324, 1.4E-45). */
static void java_fp(buf *out, double d, int single)
{
    if (isnan(d)) {
        PUT_LIT(out, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        if (d > 0)
            PUT_LIT(out, "\"Infinity\"");
        else
            PUT_LIT(out, "\"-Infinity\"");
        return;
    }
    if (d == 0) {
        if (signbit(d))
            PUT_LIT(out, "-0.0");
        else
            PUT_LIT(out, "0.0");
        return;
    }
    if (java_fp_integer(out, d, single))
        return;
    char t[40];
    /* For normal numbers the correctly rounded 15 (float: 6) digits are the shortest ones when
     * any that short exist (their spacing exceeds an ulp); subnormals have fewer bits. */
    int subnormal = single ? fabs(d) < FLT_MIN : fabs(d) < DBL_MIN;
    int lo = subnormal ? 1 : single ? 6 : 15, hi = single ? 9 : 17, p;
    for (p = lo; p <= hi; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, d);
        if (single ? strtof(t, NULL) == (float)d : strtod(t, NULL) == d)
            break;
    }
    /* t: [-]d.ddde[+-]xx */
    int neg = t[0] == '-';
    const char *q = t + neg;
    char dig[20];
    int n = 0;
    dig[n++] = *q++;
    if (*q == '.')
        for (q++; *q >= '0' && *q <= '9'; q++)
            dig[n++] = *q;
    int exp10 = atoi(q + 1);
    while (n > 1 && dig[n - 1] == '0')
        n--;
    if (n == 1 && subnormal) {
        char t2[40];
        snprintf(t2, sizeof t2, "%.1e", d);
        if ((single ? strtof(t2, NULL) == (float)d : strtod(t2, NULL) == d) && t2[neg + 2] != '0') {
            dig[0] = t2[neg];
            dig[1] = t2[neg + 2];
            n = 2;
            exp10 = atoi(t2 + neg + 4);
        }
    }
    java_fp_layout(out, neg, dig, n, exp10);
}

void dbz_json_double(buf *out, double d)
{
    java_fp(out, d, 0);
}

void dbz_json_float(buf *out, float f)
{
    java_fp(out, (double)f, 1);
}

/* ---- BigDecimal ------------------------------------------------------------------------------- */

int dbz_decimal_parse(const char *s, size_t len, buf *tmp, dbz_decimal *d)
{
    const char *p = s, *end = s + len;
    int64_t scale = 0;
    int any = 0;
    buf_reset(tmp);
    d->neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        d->neg = *p++ == '-';
    for (; p < end && *p >= '0' && *p <= '9'; p++, any = 1)
        if (tmp->len || *p != '0')
            buf_append(tmp, p, 1);
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, any = 1) {
            if (tmp->len || *p != '0')
                buf_append(tmp, p, 1);
            scale++;
        }
    }
    if (!any)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        int64_t ex = 0;
        p++;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        if (p == end)
            return -1;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if ((ex = ex * 10 + (*p - '0')) > 1000000)
                return -1;
        scale += eneg ? ex : -ex;
    }
    if (p != end || scale > INT32_MAX || scale < INT32_MIN)
        return -1;
    if (!tmp->len) {
        buf_append(tmp, "0", 1);
        d->neg = 0;   /* BigDecimal has no negative zero */
    }
    d->digits = tmp->data;
    d->ndigits = tmp->len;
    d->scale = (int32_t)scale;
    return 0;
}

void dbz_decimal_rescale(buf *tmp, dbz_decimal *d, int32_t scale)
{
    int zero = d->ndigits == 1 && d->digits[0] == '0';
    if (scale > d->scale) {
        if (!zero) {
            size_t add = (size_t)((int64_t)scale - d->scale);
            for (size_t i = 0; i < add; i++)
                buf_append(tmp, "0", 1);
            d->digits = tmp->data;
            d->ndigits = tmp->len;
        }
    } else if (scale < d->scale && !zero) {
        size_t drop = (size_t)((int64_t)d->scale - scale);
        if (drop >= d->ndigits) {
            tmp->len = 1;
            tmp->data[0] = '0';
            tmp->data[1] = '\0';
            d->neg = 0;
        } else {
            tmp->len -= drop;
            tmp->data[tmp->len] = '\0';
        }
        d->digits = tmp->data;
        d->ndigits = tmp->len;
    }
    d->scale = scale;
}

void dbz_decimal_json_string(buf *out, const dbz_decimal *d)
{
    char e[24];
    int64_t n = (int64_t)d->ndigits, adjusted = -(int64_t)d->scale + (n - 1);
    PUT_LIT(out, "\"");
    if (d->neg)
        PUT_LIT(out, "-");
    if (d->scale == 0) {
        buf_append(out, d->digits, d->ndigits);
    } else if (d->scale > 0 && adjusted >= -6) {
        if (n > d->scale) {
            buf_append(out, d->digits, (size_t)(n - d->scale));
            PUT_LIT(out, ".");
            buf_append(out, d->digits + (n - d->scale), (size_t)d->scale);
        } else {
            PUT_LIT(out, "0.");
            for (int64_t i = 0; i < d->scale - n; i++)
                PUT_LIT(out, "0");
            buf_append(out, d->digits, d->ndigits);
        }
    } else {
        buf_append(out, d->digits, 1);
        if (n > 1) {
            PUT_LIT(out, ".");
            buf_append(out, d->digits + 1, d->ndigits - 1);
        }
        int k = snprintf(e, sizeof e, "E%s%lld", adjusted > 0 ? "+" : "", (long long)adjusted);
        buf_append(out, e, (size_t)k);
    }
    PUT_LIT(out, "\"");
}

/* Magnitude bytes (big-endian, minimal, at least one) into out; returns their count. */
static size_t magnitude_bytes(const char *digits, size_t n, unsigned char **outp, unsigned char *small,
                              size_t smallcap)
{
    /* Base 2^32 limbs, least significant first, fed 9 decimal digits at a time. */
    size_t maxlimbs = n / 9 + 2;
    uint32_t limbs_small[64];
    uint32_t *limbs = maxlimbs <= 64 ? limbs_small : malloc(maxlimbs * sizeof *limbs);
    size_t nl = 0;
    if (!limbs)
        abort();
    size_t i = 0, first = n % 9 ? n % 9 : 9;
    while (i < n) {
        size_t take = i == 0 ? first : 9;
        uint32_t chunk = 0, mul = 1;
        for (size_t j = 0; j < take; j++) {
            chunk = chunk * 10 + (uint32_t)(digits[i + j] - '0');
            mul *= 10;
        }
        i += take;
        uint64_t carry = chunk;
        for (size_t k = 0; k < nl; k++) {
            uint64_t x = (uint64_t)limbs[k] * mul + carry;
            limbs[k] = (uint32_t)x;
            carry = x >> 32;
        }
        if (carry)
            limbs[nl++] = (uint32_t)carry;
    }
    size_t nbytes = nl ? nl * 4 : 1;
    unsigned char *b = nbytes <= smallcap ? small : malloc(nbytes);
    if (!b)
        abort();
    size_t k = 0;
    for (size_t l = nl; l-- > 0;) {
        b[k++] = (unsigned char)(limbs[l] >> 24);
        b[k++] = (unsigned char)(limbs[l] >> 16);
        b[k++] = (unsigned char)(limbs[l] >> 8);
        b[k++] = (unsigned char)limbs[l];
    }
    if (k == 0)
        b[k++] = 0;
    size_t skip = 0;
    while (skip + 1 < k && b[skip] == 0)
        skip++;
    if (skip)
        memmove(b, b + skip, k - skip);
    if (limbs != limbs_small)
        free(limbs);
    *outp = b;
    return k - skip;
}

/* BigInteger.toByteArray of (neg ? -M : M) from M's magnitude bytes, base64 to out. */
static void twos_complement_base64(buf *out, int neg, unsigned char *m, size_t k, unsigned char *spare)
{
    int zero = k == 1 && m[0] == 0;
    if (zero || !neg) {
        if (m[0] & 0x80) {
            /* a leading 0x00 keeps it positive */
            spare[0] = 0;
            memcpy(spare + 1, m, k);
            dbz_json_base64(out, spare, k + 1);
        } else {
            dbz_json_base64(out, m, k);
        }
        return;
    }
    /* -M fits in k bytes when M <= 2^(8k-1): top bit clear, or exactly 0x80 00 .. 00. */
    int exact = m[0] == 0x80;
    for (size_t i = 1; exact && i < k; i++)
        exact = m[i] == 0;
    size_t n = (m[0] & 0x80) && !exact ? k + 1 : k;
    unsigned char *r = spare;
    size_t off = n - k;
    for (size_t i = 0; i < off; i++)
        r[i] = 0xff;   /* ~0 */
    for (size_t i = 0; i < k; i++)
        r[off + i] = (unsigned char)~m[i];
    for (size_t i = n; i-- > 0;) {   /* + 1 */
        if (++r[i] != 0)
            break;
    }
    dbz_json_base64(out, r, n);
}

void dbz_decimal_json_bytes(buf *out, const dbz_decimal *d)
{
    if (d->ndigits <= 18) {   /* fits an int64: no big arithmetic */
        int64_t v = 0;
        for (size_t i = 0; i < d->ndigits; i++)
            v = v * 10 + (d->digits[i] - '0');
        dbz_i64_json_bytes(out, d->neg ? -v : v);
        return;
    }
    unsigned char small[160], spare_small[161];
    unsigned char *m;
    size_t k = magnitude_bytes(d->digits, d->ndigits, &m, small, sizeof small);
    unsigned char *spare = k + 1 <= sizeof spare_small ? spare_small : malloc(k + 1);
    if (!spare)
        abort();
    twos_complement_base64(out, d->neg, m, k, spare);
    if (spare != spare_small)
        free(spare);
    if (m != small)
        free(m);
}

void dbz_i64_json_bytes(buf *out, int64_t v)
{
    unsigned char m[9], spare[10];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t k = 0;
    for (int sh = 56; sh >= 0; sh -= 8) {
        unsigned char byte = (unsigned char)(mag >> sh);
        if (k || byte || sh == 0)
            m[k++] = byte;
    }
    twos_complement_base64(out, v < 0, m, k, spare);
}
