/* pg_text: typed values as the text PostgreSQL prints for them under the capture's session
 * settings (DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3,
 * lc_monetary C), so a value rebuilt from another representation (a Debezium record, a rule's
 * number) can go through pg_value_parse and become the capture's own; and the proleptic
 * Gregorian calendar arithmetic they need. */
#include "encode/pg_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)
#define MAX_NUMERIC_SCALE 16383
#define MAX_NUMERIC_WEIGHT 131072

#define PUT_LIT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

/* ---- numbers --------------------------------------------------------------------------------- */

int64_t pg_text_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void digits_put(buf *out, uint64_t v, int width)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (; n < width; width--)
        buf_append(out, "0", 1);
    while (n)
        buf_append(out, &t[--n], 1);
}

static uint64_t magnitude_of(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* float4out / float8out with extra_float_digits > 0: the shortest digits that read back as the
 * value, fixed notation for decimal exponents -4 .. 5 (float4) / 14 (float8), else d.ddde+XX. */
void pg_text_float(buf *out, double d, int single)
{
    if (isnan(d)) {
        PUT_LIT(out, "NaN");
        return;
    }
    if (isinf(d)) {
        if (d > 0)
            PUT_LIT(out, "Infinity");
        else
            PUT_LIT(out, "-Infinity");
        return;
    }
    if (d == 0) {
        if (signbit(d))
            PUT_LIT(out, "-0");
        else
            PUT_LIT(out, "0");
        return;
    }
    char t[48];
    for (int p = 1; p <= (single ? 9 : 17); p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, d);
        if (single ? strtof(t, NULL) == (float)d : strtod(t, NULL) == d)
            break;
    }
    int neg = t[0] == '-';
    const char *q = t + neg;
    char dig[24];
    int n = 0;
    dig[n++] = *q++;
    if (*q == '.')
        for (q++; *q >= '0' && *q <= '9'; q++)
            dig[n++] = *q;
    int exp10 = atoi(q + 1);
    while (n > 1 && dig[n - 1] == '0')
        n--;
    if (neg)
        PUT_LIT(out, "-");
    if (exp10 >= -4 && exp10 < (single ? 6 : 15)) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                buf_append(out, i < n ? &dig[i] : "0", 1);
            if (n > exp10 + 1) {
                PUT_LIT(out, ".");
                buf_append(out, dig + exp10 + 1, (size_t)(n - exp10 - 1));
            }
        } else {
            PUT_LIT(out, "0.");
            for (int i = 0; i < -exp10 - 1; i++)
                PUT_LIT(out, "0");
            buf_append(out, dig, (size_t)n);
        }
        return;
    }
    buf_append(out, dig, 1);
    if (n > 1) {
        PUT_LIT(out, ".");
        buf_append(out, dig + 1, (size_t)n - 1);
    }
    PUT_LIT(out, "e");
    buf_append(out, exp10 < 0 ? "-" : "+", 1);
    digits_put(out, (uint64_t)(exp10 < 0 ? -exp10 : exp10), 2);
}

/* numeric_out of a decimal: sign, unscaled digits (no leading zeros, "0" for zero), scale. */
int pg_text_numeric(buf *out, int neg, const char *digits, size_t n, int32_t scale, const char **why)
{
    int zero = n == 1 && digits[0] == '0';
    if (scale > MAX_NUMERIC_SCALE || (int64_t)n - scale > MAX_NUMERIC_WEIGHT) {
        *why = "decimal out of PostgreSQL's range";
        return -1;
    }
    if (neg && !zero)
        PUT_LIT(out, "-");
    if (scale <= 0) {
        buf_append(out, digits, n);
        for (int32_t i = 0; !zero && i < -scale; i++)
            PUT_LIT(out, "0");
    } else if ((int64_t)n > scale) {
        buf_append(out, digits, n - (size_t)scale);
        PUT_LIT(out, ".");
        buf_append(out, digits + n - (size_t)scale, (size_t)scale);
    } else {
        PUT_LIT(out, "0.");
        for (int64_t i = 0; i < (int64_t)scale - (int64_t)n; i++)
            PUT_LIT(out, "0");
        buf_append(out, digits, n);
    }
    return 0;
}

/* cash_out in the C locale: -$1,234.56 */
void pg_text_money(buf *out, int64_t cents)
{
    uint64_t m = magnitude_of(cents), whole = m / 100;
    char t[32];
    int n = 0, group = 0;
    do {
        if (group++ == 3) {
            t[n++] = ',';
            group = 1;
        }
        t[n++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (cents < 0)
        PUT_LIT(out, "-");
    PUT_LIT(out, "$");
    while (n)
        buf_append(out, &t[--n], 1);
    PUT_LIT(out, ".");
    digits_put(out, m % 100, 2);
}

/* ---- dates and times ------------------------------------------------------------------------- */

void pg_text_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t pg_text_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

unsigned pg_text_days_in_month(int64_t y, unsigned m)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return mdays[m - 1];
}

/* "YYYY-MM-DD" of a day count; returns 1 when the year is BC (the caller appends " BC"). */
static int date_part_put(buf *out, int64_t days)
{
    int64_t y;
    unsigned m, d;
    pg_text_civil_from_days(days, &y, &m, &d);
    int bc = y <= 0;
    digits_put(out, (uint64_t)(bc ? 1 - y : y), 4);
    PUT_LIT(out, "-");
    digits_put(out, m, 2);
    PUT_LIT(out, "-");
    digits_put(out, d, 2);
    return bc;
}

/* ".ffffff" without trailing zeros (nothing for a whole second). */
static void fraction_put(buf *out, uint64_t frac)
{
    if (!frac)
        return;
    char f[7];
    for (int i = 5; i >= 0; i--) {
        f[i + 1] = (char)('0' + frac % 10);
        frac /= 10;
    }
    f[0] = '.';
    size_t n = 7;
    while (f[n - 1] == '0')
        n--;
    buf_append(out, f, n);
}

void pg_text_time(buf *out, int64_t us)
{
    digits_put(out, (uint64_t)(us / 3600000000LL), 2);
    PUT_LIT(out, ":");
    digits_put(out, (uint64_t)(us / 60000000LL % 60), 2);
    PUT_LIT(out, ":");
    digits_put(out, (uint64_t)(us / US_PER_SEC % 60), 2);
    fraction_put(out, (uint64_t)(us % US_PER_SEC));
}

/* EncodeTimezone: +HH[:MM[:SS]] of seconds east of UTC. */
void pg_text_offset(buf *out, int32_t east)
{
    uint32_t a = east < 0 ? (uint32_t)0 - (uint32_t)east : (uint32_t)east;
    buf_append(out, east < 0 ? "-" : "+", 1);
    digits_put(out, a / 3600, 2);
    if (a % 3600) {
        PUT_LIT(out, ":");
        digits_put(out, a / 60 % 60, 2);
        if (a % 60) {
            PUT_LIT(out, ":");
            digits_put(out, a % 60, 2);
        }
    }
}

void pg_text_date(buf *out, int64_t days)
{
    if (date_part_put(out, days))
        PUT_LIT(out, " BC");
}

void pg_text_timestamp(buf *out, int64_t us, int tz)
{
    if (us == INT64_MAX) {
        PUT_LIT(out, "infinity");
        return;
    }
    if (us == INT64_MIN) {
        PUT_LIT(out, "-infinity");
        return;
    }
    int64_t days = pg_text_floor_div(us, US_PER_DAY);
    int bc = date_part_put(out, days);
    PUT_LIT(out, " ");
    pg_text_time(out, us - days * US_PER_DAY);
    if (tz)
        PUT_LIT(out, "+00");
    if (bc)
        PUT_LIT(out, " BC");
}

/* AddPostgresIntPart */
static void interval_part_put(buf *out, int64_t v, const char *unit, int *is_zero, int *is_before)
{
    if (v == 0)
        return;
    if (!*is_zero)
        PUT_LIT(out, " ");
    if (*is_before && v > 0)
        PUT_LIT(out, "+");
    buf_put_i64(out, v);
    PUT_LIT(out, " ");
    buf_puts(out, unit);
    if (v != 1)
        PUT_LIT(out, "s");
    *is_before = v < 0;
    *is_zero = 0;
}

/* EncodeInterval, IntervalStyle postgres: "1 year 2 mons -3 days +04:05:06.78". */
void pg_text_interval(buf *out, int32_t months, int32_t days, int64_t us)
{
    int is_zero = 1, is_before = 0;
    interval_part_put(out, months / 12, "year", &is_zero, &is_before);
    interval_part_put(out, months % 12, "mon", &is_zero, &is_before);
    interval_part_put(out, days, "day", &is_zero, &is_before);
    if (!is_zero && us == 0)
        return;
    uint64_t a = magnitude_of(us);
    if (!is_zero)
        PUT_LIT(out, " ");
    if (us < 0)
        PUT_LIT(out, "-");
    else if (is_before)
        PUT_LIT(out, "+");
    digits_put(out, a / 3600000000ULL, 2);
    PUT_LIT(out, ":");
    digits_put(out, a / 60000000ULL % 60, 2);
    PUT_LIT(out, ":");
    digits_put(out, a / 1000000ULL % 60, 2);
    fraction_put(out, a % 1000000ULL);
}

