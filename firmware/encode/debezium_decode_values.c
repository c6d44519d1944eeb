/* debezium_decode_values: one column value of a Debezium change event back into a Sluice value
 * (see debezium_decode.h). Each Connect value is turned into the text PostgreSQL prints for it
 * under the capture's session settings (DateStyle ISO, IntervalStyle postgres, TimeZone UTC,
 * extra_float_digits 3, bytea_output hex, lc_monetary C) and parsed with pg_value_parse, so the
 * value and its text are the capture's own. Arrays become array_out's literal. */
#include "encode/debezium_decode.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"
#include "core/errbuf.h"
#include "encode/debezium_internal.h"
#include "encode/debezium_json.h"
#include "encode/pg_text.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

/* Debezium's stand-ins for PostgreSQL's infinities (see debezium_values.c). */
#define DBZ_TS_POS_INFINITY_US INT64_C(9223372036825200000)
#define DBZ_TS_NEG_INFINITY_US INT64_C(-9223372036832400000)
#define DBZ_DATE_POS_INFINITY INT64_C(-2147472692)
#define DBZ_DATE_NEG_INFINITY INT64_C(-2147472691)

#define MAX_DECIMAL_BYTES 65536   /* PostgreSQL's numeric has at most 147455 digits: ~61 KB */
#define MAX_ARRAY_DEPTH 6

#define PUT_LIT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

/* ---- scanning -------------------------------------------------------------------------------- */

static int scan_fixed(const char **p, const char *end, int n, unsigned *out)
{
    unsigned v = 0;
    if (end - *p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* ".f{1,9}" as microseconds (digits past the sixth truncated); none: 0. */
static int scan_fraction(const char **p, const char *end, int64_t *us)
{
    const char *q = *p;
    *us = 0;
    if (q >= end || *q != '.')
        return 0;
    q++;
    int n = 0;
    int64_t v = 0;
    for (; q < end && *q >= '0' && *q <= '9'; q++, n++) {
        if (n >= 9)
            return -1;
        if (n < 6)
            v = v * 10 + (*q - '0');
    }
    if (n == 0)
        return -1;
    for (int i = n; i < 6; i++)
        v *= 10;
    *p = q;
    *us = v;
    return 0;
}

/* "HH:MM[:SS[.f]]" (ISO-8601 local time, as Java prints it). */
static int scan_iso_time(const char **p, const char *end, int64_t *us)
{
    unsigned h, mi, se = 0;
    int64_t frac = 0;
    if (scan_fixed(p, end, 2, &h) < 0 || *p >= end || *(*p)++ != ':' || scan_fixed(p, end, 2, &mi) < 0)
        return -1;
    if (*p < end && **p == ':') {
        (*p)++;
        if (scan_fixed(p, end, 2, &se) < 0 || scan_fraction(p, end, &frac) < 0)
            return -1;
    }
    if (h > 23 || mi > 59 || se > 59)
        return -1;
    *us = ((int64_t)h * 3600 + mi * 60 + se) * US_PER_SEC + frac;
    return 0;
}

/* "Z" or "+HH:MM[:SS]" (also +HH and +HHMM) into seconds east of UTC, up to the end. */
static int scan_iso_offset(const char *p, const char *end, int32_t *east)
{
    unsigned h, mi = 0, se = 0;
    if (end - p == 1 && *p == 'Z') {
        *east = 0;
        return 0;
    }
    if (p >= end || (*p != '+' && *p != '-'))
        return -1;
    int neg = *p++ == '-';
    if (scan_fixed(&p, end, 2, &h) < 0)
        return -1;
    if (p < end && *p == ':')
        p++;
    if (p < end && scan_fixed(&p, end, 2, &mi) < 0)
        return -1;
    if (p < end && *p == ':') {
        p++;
        if (scan_fixed(&p, end, 2, &se) < 0)
            return -1;
    }
    if (p != end || h > 18 || mi > 59 || se > 59)
        return -1;
    *east = (int32_t)((h * 3600 + mi * 60 + se) * (neg ? -1 : 1));
    return 0;
}

/* io.debezium.time.ZonedTimestamp: [+-]YYYY-MM-DDTHH:MM[:SS[.f]]<offset>, or PostgreSQL's
 * infinities; into Unix microseconds (INT64_MAX / INT64_MIN for the infinities). */
static int scan_zoned_timestamp(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    if (len == 8 && memcmp(s, "infinity", 8) == 0) {
        *out = INT64_MAX;
        return 0;
    }
    if (len == 9 && memcmp(s, "-infinity", 9) == 0) {
        *out = INT64_MIN;
        return 0;
    }
    int neg = 0, nd = 0;
    int64_t y = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    for (; p < end && *p >= '0' && *p <= '9'; p++, nd++) {
        if (nd >= 9)
            return -1;
        y = y * 10 + (*p - '0');
    }
    unsigned m, d;
    int64_t tod, us;
    int32_t east;
    if (nd < 4 || p >= end || *p++ != '-' || scan_fixed(&p, end, 2, &m) < 0 || p >= end || *p++ != '-' ||
        scan_fixed(&p, end, 2, &d) < 0 || p >= end || *p++ != 'T' || scan_iso_time(&p, end, &tod) < 0 ||
        scan_iso_offset(p, end, &east) < 0)
        return -1;
    if (neg)
        y = -y;
    if (m < 1 || m > 12 || d < 1 || d > pg_text_days_in_month(y, m))
        return -1;
    if (__builtin_mul_overflow(pg_text_days_from_civil(y, m, d), US_PER_DAY, &us) || __builtin_add_overflow(us, tod, &us) ||
        __builtin_sub_overflow(us, (int64_t)east * US_PER_SEC, &us) || us == INT64_MAX || us == INT64_MIN)
        return -1;
    *out = us;
    return 0;
}

/* A signed integer of an ISO-8601 duration part ("-12"), with an optional fraction (seconds). */
static int scan_duration_number(const char **p, const char *end, int64_t *whole, int64_t *frac_us, int *neg)
{
    const char *q = *p;
    *neg = 0;
    if (q < end && (*q == '-' || *q == '+'))
        *neg = *q++ == '-';
    const char *d = q;
    int64_t v = 0;
    for (; q < end && *q >= '0' && *q <= '9'; q++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *q - '0', &v))
            return -1;
    if (q == d)
        return -1;
    *frac_us = 0;
    if (q < end && (*q == '.' || *q == ',')) {
        int n = 0;
        int64_t f = 0;
        for (q++; q < end && *q >= '0' && *q <= '9'; q++, n++) {
            if (n < 7)
                f = f * 10 + (*q - '0');
        }
        if (n == 0)
            return -1;
        for (int i = n; i < 7; i++)
            f *= 10;
        *frac_us = (f + 5) / 10;   /* rounded to the microsecond: Debezium's seconds pass a double */
    }
    *whole = v;
    *p = q;
    return 0;
}

/* io.debezium.time.Interval: P[nY][nM][nW][nD][T[nH][nM][n.fS]], each part signed. */
static int scan_iso_interval(const char *s, size_t len, int64_t *months, int64_t *days, int64_t *us)
{
    const char *p = s, *end = s + len;
    int time = 0, any = 0, neg_all = 0;
    *months = *days = *us = 0;
    if (p < end && *p == '-') {
        neg_all = 1;
        p++;
    }
    if (p >= end || *p++ != 'P')
        return -1;
    while (p < end) {
        if (*p == 'T') {
            if (time)
                return -1;
            time = 1;
            p++;
            continue;
        }
        int64_t v, frac;
        int neg;
        if (scan_duration_number(&p, end, &v, &frac, &neg) < 0 || p >= end)
            return -1;
        char u = *p++;
        if (frac && !(time && u == 'S'))
            return -1;
        int64_t add, mul;
        int64_t *acc;
        if (!time && u == 'Y')
            acc = months, mul = 12;
        else if (!time && u == 'M')
            acc = months, mul = 1;
        else if (!time && u == 'W')
            acc = days, mul = 7;
        else if (!time && u == 'D')
            acc = days, mul = 1;
        else if (time && u == 'H')
            acc = us, mul = 3600 * US_PER_SEC;
        else if (time && u == 'M')
            acc = us, mul = 60 * US_PER_SEC;
        else if (time && u == 'S')
            acc = us, mul = US_PER_SEC;
        else
            return -1;
        if (__builtin_mul_overflow(v, mul, &add) || __builtin_add_overflow(add, frac, &add))
            return -1;
        if (neg)
            add = -add;
        if (__builtin_add_overflow(*acc, add, acc))
            return -1;
        any = 1;
    }
    if (!any)
        return -1;
    if (neg_all) {
        *months = -*months;
        *days = -*days;
        *us = -*us;
    }
    return *months < INT32_MIN || *months > INT32_MAX || *days < INT32_MIN || *days > INT32_MAX ? -1 : 0;
}

/* ---- decimals -------------------------------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 (padding optional) into out (room for len / 4 * 3 + 3); -1 when malformed. */
static int b64_decode(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (unsigned char)(acc >> bits);
        }
    }
    *outlen = k;
    return 0;
}

/* A JSON string of base64 bytes into arena memory (NUL-terminated). */
static int json_bytes(const json_t *j, arena *a, unsigned char **out, size_t *n)
{
    if (!json_is_string(j))
        return -1;
    size_t len = json_string_length(j);
    *out = arena_alloc(a, len / 4 * 3 + 4);
    if (b64_decode(json_string_value(j), len, *out, n) < 0)
        return -1;
    (*out)[*n] = 0;
    return 0;
}

/* A BigInteger.toByteArray (big-endian two's complement) as sign and decimal digits into
 * digits (reset first). */
static int twos_to_decimal(const unsigned char *b, size_t n, buf *digits, int *neg, const char **why)
{
    buf_reset(digits);
    if (n == 0 || n > MAX_DECIMAL_BYTES) {
        *why = n ? "decimal too large" : "empty decimal";
        return -1;
    }
    *neg = (b[0] & 0x80) != 0;
    /* magnitude_of, big-endian, in 32-bit limbs (most significant first) */
    size_t nl = (n + 3) / 4;
    uint32_t *limbs = calloc(nl, sizeof *limbs);
    if (!limbs)
        abort();
    for (size_t i = 0; i < n; i++) {
        size_t pos = n - 1 - i;   /* byte index from the least significant end */
        unsigned char byte = *neg ? (unsigned char)~b[i] : b[i];
        limbs[nl - 1 - pos / 4] |= (uint32_t)byte << (8 * (pos % 4));
    }
    if (*neg) {   /* -x = ~x + 1; the bytes were complemented above */
        for (size_t i = nl; i-- > 0;)
            if (++limbs[i] != 0)
                break;
        /* the padding above the top byte was 0; a complemented value's sign bits are 1s we left out */
    }
    /* repeated division by 10^9, least significant chunks first */
    char *rev = malloc(nl * 10 + 1);
    if (!rev)
        abort();
    size_t k = 0, first = 0;
    for (;;) {
        while (first < nl && limbs[first] == 0)
            first++;
        if (first == nl)
            break;
        uint64_t rem = 0;
        for (size_t i = first; i < nl; i++) {
            uint64_t cur = (rem << 32) | limbs[i];
            limbs[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        int more = 0;
        for (size_t i = first; i < nl; i++)
            if (limbs[i]) {
                more = 1;
                break;
            }
        for (int i = 0; i < 9 && (more || rem); i++) {
            rev[k++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    }
    if (k == 0)
        rev[k++] = '0';
    while (k)
        buf_append(digits, &rev[--k], 1);
    free(rev);
    free(limbs);
    if (digits->len == 1 && digits->data[0] == '0')
        *neg = 0;
    return 0;
}

static int json_int_param(const json_t *j, int64_t min, int64_t max, int64_t *out)
{
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max)
        return -1;
    *out = json_integer_value(j);
    return 0;
}

/* Connect Decimal bytes into sign and digits. */
static int decimal_read(const json_t *j, dbzd_scratch *s, arena *a, int *neg, const char **why)
{
    unsigned char *b;
    size_t n;
    if (json_bytes(j, a, &b, &n) < 0) {
        *why = "expected a Connect Decimal (base64 string)";
        return -1;
    }
    return twos_to_decimal(b, n, &s->digits, neg, why);
}

/* BigDecimal.toString text ("-1.50", "1E-7", "1.2E+3") into sign, digits (in s->digits), scale:
 * the encoder's own parser (debezium_internal.h). */
static int decimal_text_read(const char *t, size_t len, dbzd_scratch *s, int *neg, int32_t *scale)
{
    dbz_decimal d;
    if (dbz_decimal_parse(t, len, &s->digits, &d) < 0)
        return -1;
    *neg = d.neg;
    *scale = d.scale;
    return 0;
}

/* The decimal (digits in s->elem, scale) as money cents. */
static int decimal_cents(dbzd_scratch *s, int neg, int32_t scale, int64_t *cents)
{
    const char *dg = s->digits.data;
    size_t n = s->digits.len;
    int64_t keep = (int64_t)n - (scale > 2 ? scale - 2 : 0);   /* digits left of the cents */
    for (int64_t i = keep < 0 ? 0 : keep; i < (int64_t)n; i++)
        if (dg[i] != '0')
            return -1;   /* a fraction of a cent */
    uint64_t v = 0;
    for (int64_t i = 0; i < keep; i++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(dg[i] - '0'), &v))
            return -1;
    for (int32_t i = scale; v && i < 2; i++)   /* at most 20 rounds before overflowing */
        if (__builtin_mul_overflow(v, 10, &v))
            return -1;
    if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return -1;
    *cents = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* ---- scalars --------------------------------------------------------------------------------- */

static int json_is_str(const json_t *j, const char *lit)
{
    size_t n = strlen(lit);
    return json_is_string(j) && json_string_length(j) == n && memcmp(json_string_value(j), lit, n) == 0;
}

static int get_int(const json_t *j, int64_t *out)
{
    if (!json_is_integer(j))
        return -1;
    *out = json_integer_value(j);
    return 0;
}

static int time_text(buf *out, int64_t us)
{
    if (us < 0 || us > US_PER_DAY)
        return -1;
    pg_text_time(out, us);
    return 0;
}

/* ms / ns to microseconds (floor), with the infinity stand-ins of the microsecond form. */
static int timestamp_us(dbzd_conv conv, int64_t v, int64_t *us)
{
    if (conv == DBZD_TS_US) {
        *us = v == DBZ_TS_POS_INFINITY_US ? INT64_MAX : v == DBZ_TS_NEG_INFINITY_US ? INT64_MIN : v;
        return 0;
    }
    if (conv == DBZD_TS_NS) {
        *us = pg_text_floor_div(v, 1000);
        return 0;
    }
    if (v == pg_text_floor_div(DBZ_TS_POS_INFINITY_US, 1000)) {
        *us = INT64_MAX;
        return 0;
    }
    if (v == pg_text_floor_div(DBZ_TS_NEG_INFINITY_US, 1000)) {
        *us = INT64_MIN;
        return 0;
    }
    return __builtin_mul_overflow(v, 1000, us) || *us == INT64_MAX || *us == INT64_MIN ? -1 : 0;
}

/* Append PostgreSQL's text of the Connect value j (not null, not bytes-as-bytes) to out. */
static int scalar_text(const dbzd_type *t, const json_t *j, dbzd_scratch *s, arena *a, buf *out, const char **why)
{
    int64_t v, us;
    int neg;
    switch (t->conv) {
    case DBZD_BOOL:
    case DBZD_BIT1:
        if (!json_is_boolean(j)) {
            *why = "expected a boolean";
            return -1;
        }
        if (t->conv == DBZD_BIT1)
            buf_append(out, json_is_true(j) ? "1" : "0", 1);
        else
            buf_append(out, json_is_true(j) ? "t" : "f", 1);
        return 0;
    case DBZD_INT:
        if (get_int(j, &v) < 0 || v < t->min || v > t->max) {
            *why = "expected an integer in range";
            return -1;
        }
        buf_put_i64(out, v);
        return 0;
    case DBZD_FLOAT:
        if (json_is_number(j)) {
            double d = json_number_value(j);
            if (t->kind == VALUE_FLOAT32 && isinf((float)d) && !isinf(d)) {
                *why = "float4 out of range";
                return -1;
            }
            pg_text_float(out, t->kind == VALUE_FLOAT32 ? (double)(float)d : d, t->kind == VALUE_FLOAT32);
            return 0;
        }
        if (json_is_str(j, "NaN") || json_is_str(j, "Infinity") || json_is_str(j, "-Infinity")) {
            buf_append(out, json_string_value(j), json_string_length(j));
            return 0;
        }
        *why = "expected a number";
        return -1;
    case DBZD_DECIMAL:
        if (decimal_read(j, s, a, &neg, why) < 0)
            return -1;
        return pg_text_numeric(out, neg, s->digits.data, s->digits.len, t->scale, why);
    case DBZD_VSD: {
        int64_t scale;
        if (!json_is_object(j) || json_int_param(json_object_get(j, "scale"), INT32_MIN, INT32_MAX, &scale) < 0) {
            *why = "expected a VariableScaleDecimal {scale, value}";
            return -1;
        }
        if (decimal_read(json_object_get(j, "value"), s, a, &neg, why) < 0)
            return -1;
        return pg_text_numeric(out, neg, s->digits.data, s->digits.len, (int32_t)scale, why);
    }
    case DBZD_DECIMAL_TEXT:
    case DBZD_MONEY_TEXT: {
        int32_t scale;
        int64_t cents;
        static const char *const special[][2] = {
            {"NAN", "NaN"}, {"POSITIVE_INFINITY", "Infinity"}, {"NEGATIVE_INFINITY", "-Infinity"},
            {"NaN", "NaN"}, {"Infinity", "Infinity"}, {"-Infinity", "-Infinity"}};
        if (!json_is_string(j)) {
            *why = "expected a decimal string";
            return -1;
        }
        for (size_t i = 0; t->conv == DBZD_DECIMAL_TEXT && i < sizeof special / sizeof special[0]; i++) {
            if (json_is_str(j, special[i][0])) {
                buf_puts(out, special[i][1]);
                return 0;
            }
        }
        if (decimal_text_read(json_string_value(j), json_string_length(j), s, &neg, &scale) < 0) {
            *why = "expected a decimal string";
            return -1;
        }
        if (t->conv == DBZD_DECIMAL_TEXT)
            return pg_text_numeric(out, neg, s->digits.data, s->digits.len, scale, why);
        if (decimal_cents(s, neg, scale, &cents) < 0) {
            *why = "money out of range";
            return -1;
        }
        pg_text_money(out, cents);
        return 0;
    }
    case DBZD_MONEY_DECIMAL: {
        int64_t cents;
        if (decimal_read(j, s, a, &neg, why) < 0)
            return -1;
        if (decimal_cents(s, neg, t->scale, &cents) < 0) {
            *why = "money out of range";
            return -1;
        }
        pg_text_money(out, cents);
        return 0;
    }
    case DBZD_STRING:
        if (!json_is_string(j)) {
            *why = "expected a string";
            return -1;
        }
        buf_append(out, json_string_value(j), json_string_length(j));
        return 0;
    case DBZD_BYTES: {
        static const char hex[] = "0123456789abcdef";
        unsigned char *b;
        size_t n;
        if (json_bytes(j, a, &b, &n) < 0) {
            *why = "expected base64 bytes";
            return -1;
        }
        PUT_LIT(out, "\\x");
        for (size_t i = 0; i < n; i++) {
            char h[2] = {hex[b[i] >> 4], hex[b[i] & 15]};
            buf_append(out, h, 2);
        }
        return 0;
    }
    case DBZD_BITS: {
        unsigned char *b;
        size_t n, top = 0;
        if (json_bytes(j, a, &b, &n) < 0) {
            *why = "expected base64 bits";
            return -1;
        }
        for (size_t i = 0; i < n * 8; i++)
            if (b[i / 8] & (1u << (i % 8)))
                top = i + 1;
        if (top > (size_t)t->bits) {
            *why = "more bits than the column's length";
            return -1;
        }
        size_t width = t->bits == INT32_MAX ? top : (size_t)t->bits;
        for (size_t i = width; i-- > 0;)
            buf_append(out, i / 8 < n && (b[i / 8] & (1u << (i % 8))) ? "1" : "0", 1);
        return 0;
    }
    case DBZD_DATE:
        if (get_int(j, &v) < 0 || v < INT32_MIN || v > INT32_MAX) {
            *why = "expected days (int32)";
            return -1;
        }
        if (v == DBZ_DATE_POS_INFINITY)
            PUT_LIT(out, "infinity");
        else if (v == DBZ_DATE_NEG_INFINITY)
            PUT_LIT(out, "-infinity");
        else
            pg_text_date(out, v);
        return 0;
    case DBZD_TIME_MS:
    case DBZD_TIME_US:
    case DBZD_TIME_NS:
        if (get_int(j, &v) < 0 ||
            time_text(out, t->conv == DBZD_TIME_MS   ? (v > INT64_MAX / 1000 || v < 0 ? -1 : v * 1000)
                           : t->conv == DBZD_TIME_NS ? v / 1000
                                                     : v) < 0) {
            *why = "expected a time of day";
            return -1;
        }
        return 0;
    case DBZD_TS_MS:
    case DBZD_TS_US:
    case DBZD_TS_NS:
        if (get_int(j, &v) < 0 || timestamp_us(t->conv, v, &us) < 0) {
            *why = "expected a timestamp";
            return -1;
        }
        pg_text_timestamp(out, us, 0);
        return 0;
    case DBZD_ZONED_TS:
        if (!json_is_string(j) || scan_zoned_timestamp(json_string_value(j), json_string_length(j), &us) < 0) {
            *why = "expected an ISO-8601 timestamp with offset";
            return -1;
        }
        pg_text_timestamp(out, us, 1);
        return 0;
    case DBZD_ZONED_TIME: {
        const char *p = json_string_value(j), *end;
        int32_t east;
        if (!p || (end = p + json_string_length(j), scan_iso_time(&p, end, &us) < 0) ||
            scan_iso_offset(p, end, &east) < 0) {
            *why = "expected an ISO-8601 time with offset";
            return -1;
        }
        pg_text_time(out, us);
        pg_text_offset(out, east);
        return 0;
    }
    case DBZD_MICRO_DURATION:
        if (get_int(j, &v) < 0) {
            *why = "expected microseconds";
            return -1;
        }
        pg_text_interval(out, 0, 0, v);
        return 0;
    case DBZD_ISO_INTERVAL: {
        int64_t months, days;
        if (!json_is_string(j) ||
            scan_iso_interval(json_string_value(j), json_string_length(j), &months, &days, &us) < 0) {
            *why = "expected an ISO-8601 duration";
            return -1;
        }
        pg_text_interval(out, (int32_t)months, (int32_t)days, us);
        return 0;
    }
    }
    *why = "unsupported type";
    return -1;
}

/* ---- arrays ---------------------------------------------------------------------------------- */

/* array_out's quoting: quote empty strings, NULL, and text with {}",\ or white space. */
static void array_put_element(buf *out, const char *s, size_t n)
{
    int quote = n == 0 || (n == 4 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'u' && (s[2] | 0x20) == 'l' &&
                           (s[3] | 0x20) == 'l');
    for (size_t i = 0; !quote && i < n; i++) {
        char c = s[i];
        quote = c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' || c == '\n' ||
                c == '\r' || c == '\v' || c == '\f';
    }
    if (!quote) {
        buf_append(out, s, n);
        return;
    }
    PUT_LIT(out, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            buf_append(out, s + run, i - run);
            buf_append(out, "\\", 1);
            run = i;
        }
    }
    buf_append(out, s + run, n - run);
    PUT_LIT(out, "\"");
}

static int array_literal(const dbzd_type *t, const json_t *j, int depth, dbzd_scratch *s, arena *a, const char **why)
{
    if (depth > MAX_ARRAY_DEPTH) {
        *why = "array nested too deep";
        return -1;
    }
    size_t n = json_array_size(j);
    int nested = n && json_is_array(json_array_get(j, 0));
    PUT_LIT(&s->text, "{");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(j, i);
        if (i)
            PUT_LIT(&s->text, ",");
        if (nested != json_is_array(e)) {
            *why = "array dimensions mix arrays and elements";
            return -1;
        }
        if (nested) {
            if (array_literal(t, e, depth + 1, s, a, why) < 0)
                return -1;
        } else if (json_is_null(e)) {
            PUT_LIT(&s->text, "NULL");
        } else {
            buf_reset(&s->elem);
            if (scalar_text(t, e, s, a, &s->elem, why) < 0)
                return -1;
            array_put_element(&s->text, s->elem.data ? s->elem.data : "", s->elem.len);
        }
    }
    PUT_LIT(&s->text, "}");
    return 0;
}

/* ---- values ---------------------------------------------------------------------------------- */

/* Debezium's unavailable.value.placeholder in the shape the column has. */
static int is_unavailable(const dbzd_column *c, const json_t *j, arena *a)
{
    static const char ph[] = DEBEZIUM_UNAVAILABLE;
    const size_t phn = sizeof ph - 1;
    if (json_is_str(j, ph))
        return 1;
    if (!c->array && c->t.conv == DBZD_BYTES && json_is_string(j) && json_string_length(j) == (phn + 2) / 3 * 4) {
        unsigned char *b;
        size_t n;
        return json_bytes(j, a, &b, &n) == 0 && n == phn && memcmp(b, ph, phn) == 0;
    }
    if (!c->array || !json_is_array(j))
        return 0;
    if (json_array_size(j) == 1 && json_is_str(json_array_get(j, 0), ph))
        return 1;
    if (c->t.conv != DBZD_INT || json_array_size(j) != phn)
        return 0;
    for (size_t i = 0; i < phn; i++) {
        const json_t *e = json_array_get(j, i);
        if (!json_is_integer(e) || json_integer_value(e) != (unsigned char)ph[i])
            return 0;
    }
    return 1;
}

int dbzd_value_read(const dbzd_column *c, const char *name, const json_t *j, dbzd_scratch *s, arena *a,
                    value *out, char *err, size_t errlen)
{
    const char *why = "invalid value";
    memset(out, 0, sizeof *out);
    if (!j || json_is_null(j)) {
        out->state = VALUE_IS_NULL;
        return 0;
    }
    if (is_unavailable(c, j, a)) {
        out->state = VALUE_UNAVAILABLE;
        return 0;
    }
    value_kind kind = c->array ? VALUE_ARRAY : c->t.kind;
    buf_reset(&s->text);
    if (c->array) {
        if (!json_is_array(j))
            return err_setf(err, errlen, "column %s: expected an array", name);
        if (array_literal(&c->t, j, 1, s, a, &why) < 0)
            return err_setf(err, errlen, "column %s: %s", name, why);
    } else if (c->t.conv == DBZD_BYTES) {
        unsigned char *b;
        size_t n;
        if (json_bytes(j, a, &b, &n) < 0)
            return err_setf(err, errlen, "column %s: expected base64 bytes", name);
        out->state = VALUE_PRESENT;
        out->s = (const char *)b;
        out->len = n;
        return 0;
    } else if (scalar_text(&c->t, j, s, a, &s->text, &why) < 0) {
        return err_setf(err, errlen, "column %s: %s", name, why);
    }
    size_t len = s->text.len;
    char *text = arena_strndup(a, s->text.data ? s->text.data : "", len);
    char perr[256];
    if (pg_value_parse(kind, text, len, out, a, perr, sizeof perr) < 0)
        return err_setf(err, errlen, "column %s: %s", name, perr);
    return 0;
}
