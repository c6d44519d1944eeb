/* pg_types: built-in PostgreSQL type OIDs to value kinds, and strict parsers for the server's
 * text output of each kind (see pg_types.h). Parsers never allocate except where the value must
 * be transformed (bytea hex decoding, upper-case uuids, very deep JSON); text kinds point into
 * the caller's input. No sscanf/strtol on the hot path: numbers are scanned by hand. */
#include "capture/pg_types.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char pg_types_session_sql[] =
    "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC'; "
    "SET extra_float_digits = 3; SET bytea_output = hex";

typedef struct pg_type_entry {
    uint32_t oid;
    const char *name;
    value_kind kind;
    value_kind elem_kind;   /* arrays only */
} pg_type_entry;

/* Built-in base, range, multirange and array types of PostgreSQL 15 (pg_type, oid < 10000),
 * sorted by oid for binary search. Types without a dedicated kind are VALUE_TEXT. */
static const pg_type_entry pg_type_table[] = {
    {16, "bool", VALUE_BOOL, VALUE_TEXT},
    {17, "bytea", VALUE_BYTES, VALUE_TEXT},
    {18, "char", VALUE_TEXT, VALUE_TEXT},
    {19, "name", VALUE_TEXT, VALUE_TEXT},
    {20, "int8", VALUE_INT64, VALUE_TEXT},
    {21, "int2", VALUE_INT16, VALUE_TEXT},
    {22, "int2vector", VALUE_TEXT, VALUE_TEXT},
    {23, "int4", VALUE_INT32, VALUE_TEXT},
    {24, "regproc", VALUE_TEXT, VALUE_TEXT},
    {25, "text", VALUE_TEXT, VALUE_TEXT},
    {26, "oid", VALUE_INT32, VALUE_TEXT},
    {27, "tid", VALUE_TEXT, VALUE_TEXT},
    {28, "xid", VALUE_TEXT, VALUE_TEXT},
    {29, "cid", VALUE_TEXT, VALUE_TEXT},
    {30, "oidvector", VALUE_TEXT, VALUE_TEXT},
    {114, "json", VALUE_JSON, VALUE_TEXT},
    {142, "xml", VALUE_TEXT, VALUE_TEXT},
    {143, "_xml", VALUE_ARRAY, VALUE_TEXT},
    {194, "pg_node_tree", VALUE_TEXT, VALUE_TEXT},
    {199, "_json", VALUE_ARRAY, VALUE_JSON},
    {271, "_xid8", VALUE_ARRAY, VALUE_TEXT},
    {600, "point", VALUE_TEXT, VALUE_TEXT},
    {601, "lseg", VALUE_TEXT, VALUE_TEXT},
    {602, "path", VALUE_TEXT, VALUE_TEXT},
    {603, "box", VALUE_TEXT, VALUE_TEXT},
    {604, "polygon", VALUE_TEXT, VALUE_TEXT},
    {628, "line", VALUE_TEXT, VALUE_TEXT},
    {629, "_line", VALUE_ARRAY, VALUE_TEXT},
    {650, "cidr", VALUE_INET, VALUE_TEXT},
    {651, "_cidr", VALUE_ARRAY, VALUE_INET},
    {700, "float4", VALUE_FLOAT32, VALUE_TEXT},
    {701, "float8", VALUE_FLOAT64, VALUE_TEXT},
    {718, "circle", VALUE_TEXT, VALUE_TEXT},
    {719, "_circle", VALUE_ARRAY, VALUE_TEXT},
    {774, "macaddr8", VALUE_INET, VALUE_TEXT},
    {775, "_macaddr8", VALUE_ARRAY, VALUE_INET},
    {790, "money", VALUE_MONEY, VALUE_TEXT},
    {791, "_money", VALUE_ARRAY, VALUE_MONEY},
    {829, "macaddr", VALUE_INET, VALUE_TEXT},
    {869, "inet", VALUE_INET, VALUE_TEXT},
    {1000, "_bool", VALUE_ARRAY, VALUE_BOOL},
    {1001, "_bytea", VALUE_ARRAY, VALUE_BYTES},
    {1002, "_char", VALUE_ARRAY, VALUE_TEXT},
    {1003, "_name", VALUE_ARRAY, VALUE_TEXT},
    {1005, "_int2", VALUE_ARRAY, VALUE_INT16},
    {1006, "_int2vector", VALUE_ARRAY, VALUE_TEXT},
    {1007, "_int4", VALUE_ARRAY, VALUE_INT32},
    {1008, "_regproc", VALUE_ARRAY, VALUE_TEXT},
    {1009, "_text", VALUE_ARRAY, VALUE_TEXT},
    {1010, "_tid", VALUE_ARRAY, VALUE_TEXT},
    {1011, "_xid", VALUE_ARRAY, VALUE_TEXT},
    {1012, "_cid", VALUE_ARRAY, VALUE_TEXT},
    {1013, "_oidvector", VALUE_ARRAY, VALUE_TEXT},
    {1014, "_bpchar", VALUE_ARRAY, VALUE_TEXT},
    {1015, "_varchar", VALUE_ARRAY, VALUE_TEXT},
    {1016, "_int8", VALUE_ARRAY, VALUE_INT64},
    {1017, "_point", VALUE_ARRAY, VALUE_TEXT},
    {1018, "_lseg", VALUE_ARRAY, VALUE_TEXT},
    {1019, "_path", VALUE_ARRAY, VALUE_TEXT},
    {1020, "_box", VALUE_ARRAY, VALUE_TEXT},
    {1021, "_float4", VALUE_ARRAY, VALUE_FLOAT32},
    {1022, "_float8", VALUE_ARRAY, VALUE_FLOAT64},
    {1027, "_polygon", VALUE_ARRAY, VALUE_TEXT},
    {1028, "_oid", VALUE_ARRAY, VALUE_INT32},
    {1033, "aclitem", VALUE_TEXT, VALUE_TEXT},
    {1034, "_aclitem", VALUE_ARRAY, VALUE_TEXT},
    {1040, "_macaddr", VALUE_ARRAY, VALUE_INET},
    {1041, "_inet", VALUE_ARRAY, VALUE_INET},
    {1042, "bpchar", VALUE_TEXT, VALUE_TEXT},
    {1043, "varchar", VALUE_TEXT, VALUE_TEXT},
    {1082, "date", VALUE_DATE, VALUE_TEXT},
    {1083, "time", VALUE_TIME, VALUE_TEXT},
    {1114, "timestamp", VALUE_TIMESTAMP, VALUE_TEXT},
    {1115, "_timestamp", VALUE_ARRAY, VALUE_TIMESTAMP},
    {1182, "_date", VALUE_ARRAY, VALUE_DATE},
    {1183, "_time", VALUE_ARRAY, VALUE_TIME},
    {1184, "timestamptz", VALUE_TIMESTAMPTZ, VALUE_TEXT},
    {1185, "_timestamptz", VALUE_ARRAY, VALUE_TIMESTAMPTZ},
    {1186, "interval", VALUE_INTERVAL, VALUE_TEXT},
    {1187, "_interval", VALUE_ARRAY, VALUE_INTERVAL},
    {1231, "_numeric", VALUE_ARRAY, VALUE_NUMERIC},
    {1266, "timetz", VALUE_TIMETZ, VALUE_TEXT},
    {1270, "_timetz", VALUE_ARRAY, VALUE_TIMETZ},
    {1560, "bit", VALUE_TEXT, VALUE_TEXT},
    {1561, "_bit", VALUE_ARRAY, VALUE_TEXT},
    {1562, "varbit", VALUE_TEXT, VALUE_TEXT},
    {1563, "_varbit", VALUE_ARRAY, VALUE_TEXT},
    {1700, "numeric", VALUE_NUMERIC, VALUE_TEXT},
    {1790, "refcursor", VALUE_TEXT, VALUE_TEXT},
    {2201, "_refcursor", VALUE_ARRAY, VALUE_TEXT},
    {2202, "regprocedure", VALUE_TEXT, VALUE_TEXT},
    {2203, "regoper", VALUE_TEXT, VALUE_TEXT},
    {2204, "regoperator", VALUE_TEXT, VALUE_TEXT},
    {2205, "regclass", VALUE_TEXT, VALUE_TEXT},
    {2206, "regtype", VALUE_TEXT, VALUE_TEXT},
    {2207, "_regprocedure", VALUE_ARRAY, VALUE_TEXT},
    {2208, "_regoper", VALUE_ARRAY, VALUE_TEXT},
    {2209, "_regoperator", VALUE_ARRAY, VALUE_TEXT},
    {2210, "_regclass", VALUE_ARRAY, VALUE_TEXT},
    {2211, "_regtype", VALUE_ARRAY, VALUE_TEXT},
    {2949, "_txid_snapshot", VALUE_ARRAY, VALUE_TEXT},
    {2950, "uuid", VALUE_UUID, VALUE_TEXT},
    {2951, "_uuid", VALUE_ARRAY, VALUE_UUID},
    {2970, "txid_snapshot", VALUE_TEXT, VALUE_TEXT},
    {3220, "pg_lsn", VALUE_TEXT, VALUE_TEXT},
    {3221, "_pg_lsn", VALUE_ARRAY, VALUE_TEXT},
    {3614, "tsvector", VALUE_TEXT, VALUE_TEXT},
    {3615, "tsquery", VALUE_TEXT, VALUE_TEXT},
    {3642, "gtsvector", VALUE_TEXT, VALUE_TEXT},
    {3643, "_tsvector", VALUE_ARRAY, VALUE_TEXT},
    {3644, "_gtsvector", VALUE_ARRAY, VALUE_TEXT},
    {3645, "_tsquery", VALUE_ARRAY, VALUE_TEXT},
    {3734, "regconfig", VALUE_TEXT, VALUE_TEXT},
    {3735, "_regconfig", VALUE_ARRAY, VALUE_TEXT},
    {3769, "regdictionary", VALUE_TEXT, VALUE_TEXT},
    {3770, "_regdictionary", VALUE_ARRAY, VALUE_TEXT},
    {3802, "jsonb", VALUE_JSON, VALUE_TEXT},
    {3807, "_jsonb", VALUE_ARRAY, VALUE_JSON},
    {3904, "int4range", VALUE_TEXT, VALUE_TEXT},
    {3905, "_int4range", VALUE_ARRAY, VALUE_TEXT},
    {3906, "numrange", VALUE_TEXT, VALUE_TEXT},
    {3907, "_numrange", VALUE_ARRAY, VALUE_TEXT},
    {3908, "tsrange", VALUE_TEXT, VALUE_TEXT},
    {3909, "_tsrange", VALUE_ARRAY, VALUE_TEXT},
    {3910, "tstzrange", VALUE_TEXT, VALUE_TEXT},
    {3911, "_tstzrange", VALUE_ARRAY, VALUE_TEXT},
    {3912, "daterange", VALUE_TEXT, VALUE_TEXT},
    {3913, "_daterange", VALUE_ARRAY, VALUE_TEXT},
    {3926, "int8range", VALUE_TEXT, VALUE_TEXT},
    {3927, "_int8range", VALUE_ARRAY, VALUE_TEXT},
    {4072, "jsonpath", VALUE_TEXT, VALUE_TEXT},
    {4073, "_jsonpath", VALUE_ARRAY, VALUE_TEXT},
    {4089, "regnamespace", VALUE_TEXT, VALUE_TEXT},
    {4090, "_regnamespace", VALUE_ARRAY, VALUE_TEXT},
    {4096, "regrole", VALUE_TEXT, VALUE_TEXT},
    {4097, "_regrole", VALUE_ARRAY, VALUE_TEXT},
    {4191, "regcollation", VALUE_TEXT, VALUE_TEXT},
    {4192, "_regcollation", VALUE_ARRAY, VALUE_TEXT},
    {4451, "int4multirange", VALUE_TEXT, VALUE_TEXT},
    {4532, "nummultirange", VALUE_TEXT, VALUE_TEXT},
    {4533, "tsmultirange", VALUE_TEXT, VALUE_TEXT},
    {4534, "tstzmultirange", VALUE_TEXT, VALUE_TEXT},
    {4535, "datemultirange", VALUE_TEXT, VALUE_TEXT},
    {4536, "int8multirange", VALUE_TEXT, VALUE_TEXT},
    {5038, "pg_snapshot", VALUE_TEXT, VALUE_TEXT},
    {5039, "_pg_snapshot", VALUE_ARRAY, VALUE_TEXT},
    {5069, "xid8", VALUE_TEXT, VALUE_TEXT},
    {6150, "_int4multirange", VALUE_ARRAY, VALUE_TEXT},
    {6151, "_nummultirange", VALUE_ARRAY, VALUE_TEXT},
    {6152, "_tsmultirange", VALUE_ARRAY, VALUE_TEXT},
    {6153, "_tstzmultirange", VALUE_ARRAY, VALUE_TEXT},
    {6155, "_datemultirange", VALUE_ARRAY, VALUE_TEXT},
    {6157, "_int8multirange", VALUE_ARRAY, VALUE_TEXT},
};

static const pg_type_entry *pg_type_find(uint32_t oid)
{
    size_t lo = 0, hi = sizeof pg_type_table / sizeof pg_type_table[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pg_type_table[mid].oid == oid)
            return &pg_type_table[mid];
        if (pg_type_table[mid].oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

value_kind pg_type_kind(uint32_t type_oid, value_kind *elem_kind)
{
    const pg_type_entry *t = pg_type_find(type_oid);
    if (elem_kind)
        *elem_kind = t && t->kind == VALUE_ARRAY ? t->elem_kind : VALUE_TEXT;
    return t ? t->kind : VALUE_TEXT;
}

const char *pg_type_name(uint32_t type_oid)
{
    const pg_type_entry *t = pg_type_find(type_oid);
    return t ? t->name : NULL;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *const pg_kind_names[] = {
    [VALUE_TEXT] = "text", [VALUE_BOOL] = "bool", [VALUE_INT16] = "int2",
    [VALUE_INT32] = "int4", [VALUE_INT64] = "int8", [VALUE_FLOAT32] = "float4",
    [VALUE_FLOAT64] = "float8", [VALUE_NUMERIC] = "numeric", [VALUE_MONEY] = "money",
    [VALUE_BYTES] = "bytea", [VALUE_DATE] = "date", [VALUE_TIME] = "time",
    [VALUE_TIMETZ] = "timetz", [VALUE_TIMESTAMP] = "timestamp",
    [VALUE_TIMESTAMPTZ] = "timestamptz", [VALUE_INTERVAL] = "interval", [VALUE_UUID] = "uuid",
    [VALUE_JSON] = "json", [VALUE_INET] = "network address", [VALUE_ARRAY] = "array",
};

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int text_equal(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(s, lit, n) == 0;
}

/* Scan 1..maxd decimal digits at *p (< end) into *out; advances *p. 0, or -1 when none. */
static int scan_digits(const char **p, const char *end, int maxd, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    int n = 0;
    while (q < end && is_digit(*q) && n < maxd) {
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
        n++;
    }
    if (n == 0)
        return -1;
    *p = q;
    *out = v;
    return 0;
}

/* Exactly n digits. */
static int scan_fixed(const char **p, const char *end, int n, int *out)
{
    const char *q = *p;
    int v = 0;
    if (end - q < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!is_digit(q[i]))
            return -1;
        v = v * 10 + (q[i] - '0');
    }
    *p = q + n;
    *out = v;
    return 0;
}

/* Optional ".f{1,6}" as microseconds. */
static int scan_fraction(const char **p, const char *end, int64_t *us)
{
    const char *q = *p;
    *us = 0;
    if (q >= end || *q != '.')
        return 0;
    q++;
    int n = 0;
    int64_t v = 0;
    while (q < end && is_digit(*q)) {
        if (++n > 6)
            return -1;
        v = v * 10 + (*q - '0');
        q++;
    }
    if (n == 0)
        return -1;
    while (n++ < 6)
        v *= 10;
    *p = q;
    *us = v;
    return 0;
}

/* Signed integer in [min, max]: -?digits. */
static int parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    const char *p = s, *end = s + len;
    int neg = 0;
    uint64_t v = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == end || end - p > 20)
        return -1;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        int64_t r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        if (r < min)
            return -1;
        *out = r;
    } else {
        if (v > (uint64_t)INT64_MAX || (int64_t)v > max)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

/* Decimal text: -?digits(.digits)? ; with_exp also allows e[+-]digits. */
static int decimal_valid(const char *s, size_t len, int with_exp)
{
    const char *p = s, *end = s + len;
    if (p < end && *p == '-')
        p++;
    const char *d = p;
    while (p < end && is_digit(*p))
        p++;
    if (p == d)
        return 0;
    if (p < end && *p == '.') {
        d = ++p;
        while (p < end && is_digit(*p))
            p++;
        if (p == d)
            return 0;
    }
    if (with_exp && p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        d = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == d)
            return 0;
    }
    return p == end;
}

/* ---- dates and times ---------------------------------------------------------------------- */

/* Days from 1970-01-01 to the proleptic Gregorian y-m-d (astronomical year numbering). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return mdays[m - 1];
}

/* "YYYY-MM-DD" (4..7 year digits) into year (as written), month, day. */
static int scan_date(const char **p, const char *end, int64_t *y, int *m, int *d, const char **why)
{
    const char *q = *p, *start = q;
    uint64_t year;
    if (scan_digits(&q, end, 7, &year) < 0 || q - start < 4 || q >= end || *q != '-') {
        *why = "expected YYYY-MM-DD";
        return -1;
    }
    q++;
    if (scan_fixed(&q, end, 2, m) < 0 || q >= end || *q != '-' || (q++, scan_fixed(&q, end, 2, d) < 0)) {
        *why = "expected YYYY-MM-DD";
        return -1;
    }
    if (year == 0 || *m < 1 || *m > 12 || *d < 1) {
        *why = "date field out of range";
        return -1;
    }
    *y = (int64_t)year;
    *p = q;
    return 0;
}

/* "HH:MM:SS[.ffffff]" into microseconds since midnight (24:00:00 allowed). */
static int scan_time(const char **p, const char *end, int64_t *us, const char **why)
{
    const char *q = *p;
    int h, mi, se;
    int64_t frac;
    if (scan_fixed(&q, end, 2, &h) < 0 || q >= end || *q++ != ':' || scan_fixed(&q, end, 2, &mi) < 0 ||
        q >= end || *q++ != ':' || scan_fixed(&q, end, 2, &se) < 0 || scan_fraction(&q, end, &frac) < 0) {
        *why = "expected HH:MM:SS[.ffffff]";
        return -1;
    }
    if (h > 24 || mi > 59 || se > 59 || (h == 24 && (mi || se || frac))) {
        *why = "time field out of range";
        return -1;
    }
    *us = ((int64_t)h * 3600 + mi * 60 + se) * US_PER_SEC + frac;
    *p = q;
    return 0;
}

/* "+HH[:MM[:SS]]" / "-..." into seconds east of UTC. */
static int scan_offset(const char **p, const char *end, int32_t *secs, const char **why)
{
    const char *q = *p;
    int h, mi = 0, se = 0, sign;
    if (q >= end || (*q != '+' && *q != '-'))
        goto bad;
    sign = *q++ == '-' ? -1 : 1;
    if (scan_fixed(&q, end, 2, &h) < 0)
        goto bad;
    if (q < end && *q == ':') {
        q++;
        if (scan_fixed(&q, end, 2, &mi) < 0)
            goto bad;
        if (q < end && *q == ':') {
            q++;
            if (scan_fixed(&q, end, 2, &se) < 0)
                goto bad;
        }
    }
    if (h > 15 || mi > 59 || se > 59) {
        *why = "time zone offset out of range";
        return -1;
    }
    *secs = sign * (h * 3600 + mi * 60 + se);
    *p = q;
    return 0;
bad:
    *why = "expected time zone offset +HH[:MM[:SS]]";
    return -1;
}

static int scan_bc(const char **p, const char *end)
{
    if (end - *p >= 3 && memcmp(*p, " BC", 3) == 0) {
        *p += 3;
        return 1;
    }
    return 0;
}

/* Infinity spellings shared by date and timestamps: 1 (set *out), 0 not one of them. */
static int parse_infinity(const char *s, size_t len, int64_t *out)
{
    if (text_equal(s, len, "infinity")) {
        *out = INT64_MAX;
        return 1;
    }
    if (text_equal(s, len, "-infinity")) {
        *out = INT64_MIN;
        return 1;
    }
    return 0;
}

/* Year as written plus era into days since 1970-01-01, validating the day of month. */
static int date_days(int64_t year, int m, int d, int bc, int64_t *days, const char **why)
{
    int64_t y = bc ? 1 - year : year;
    if (d > days_in_month(y, m)) {
        *why = "date field out of range";
        return -1;
    }
    *days = days_from_civil(y, m, d);
    return 0;
}

static int parse_date(const char *s, size_t len, value *out, const char **why)
{
    const char *p = s, *end = s + len;
    int64_t year, days;
    int m, d;
    if (parse_infinity(s, len, &out->v.i))
        return 0;
    if (scan_date(&p, end, &year, &m, &d, why) < 0)
        return -1;
    int bc = scan_bc(&p, end);
    if (p != end) {
        *why = "trailing characters";
        return -1;
    }
    if (date_days(year, m, d, bc, &days, why) < 0)
        return -1;
    out->v.i = days;
    return 0;
}

static int parse_timestamp(const char *s, size_t len, int with_tz, value *out, const char **why)
{
    const char *p = s, *end = s + len;
    int64_t year, days, us, total;
    int32_t off = 0;
    int m, d;
    if (parse_infinity(s, len, &out->v.i))
        return 0;
    if (scan_date(&p, end, &year, &m, &d, why) < 0)
        return -1;
    if (p >= end || *p++ != ' ') {
        *why = "expected a space between date and time";
        return -1;
    }
    if (scan_time(&p, end, &us, why) < 0)
        return -1;
    if (with_tz && scan_offset(&p, end, &off, why) < 0)
        return -1;
    int bc = scan_bc(&p, end);
    if (p != end) {
        *why = "trailing characters";
        return -1;
    }
    if (date_days(year, m, d, bc, &days, why) < 0)
        return -1;
    /* PostgreSQL counts from 2000-01-01, so its last 30 years (294247 to 294276 AD) do not fit
     * Unix microseconds: those legal values saturate just below infinity (the text in s stays
     * exact) rather than stopping the capture. */
    if (__builtin_mul_overflow(days, US_PER_DAY, &total) || __builtin_add_overflow(total, us, &total) ||
        __builtin_sub_overflow(total, (int64_t)off * US_PER_SEC, &total) || total == INT64_MAX) {
        if (days < 0 || year > 294277) {
            *why = "timestamp out of range";
            return -1;
        }
        total = INT64_MAX - 1;
    }
    out->v.i = total;
    return 0;
}

static int parse_time(const char *s, size_t len, int with_tz, value *out, const char **why)
{
    const char *p = s, *end = s + len;
    int64_t us;
    int32_t off = 0;
    if (scan_time(&p, end, &us, why) < 0)
        return -1;
    if (with_tz && scan_offset(&p, end, &off, why) < 0)
        return -1;
    if (p != end) {
        *why = "trailing characters";
        return -1;
    }
    out->v.i = us;
    out->tz_offset = off;
    return 0;
}

/* Interval in IntervalStyle postgres: "[N year[s]] [N mon[s]] [N day[s]] [[+-]H:MM:SS[.f]]". */
static int parse_interval(const char *s, size_t len, value *out, const char **why)
{
    static const char *const units[] = {"year", "mon", "day"};
    const char *p = s, *end = s + len;
    int64_t months = 0, days = 0;
    int next_unit = 0, parts = 0;
    *why = "expected interval in postgres style";
    while (p < end) {
        if (parts++ > 0 && *p++ != ' ')
            return -1;
        int neg = 0;
        if (p < end && (*p == '+' || *p == '-'))
            neg = *p++ == '-';
        uint64_t n;
        if (scan_digits(&p, end, 19, &n) < 0)
            return -1;
        if (p < end && *p == ':') {
            /* the time part, always last */
            int mi, se;
            int64_t frac;
            uint64_t mag;
            p++;
            if (scan_fixed(&p, end, 2, &mi) < 0 || p >= end || *p++ != ':' ||
                scan_fixed(&p, end, 2, &se) < 0 || scan_fraction(&p, end, &frac) < 0 || p != end ||
                mi > 59 || se > 59)
                return -1;
            if (__builtin_mul_overflow(n, (uint64_t)3600 * US_PER_SEC, &mag) ||
                __builtin_add_overflow(mag, (uint64_t)((mi * 60 + se) * US_PER_SEC + frac), &mag) ||
                mag > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
                *why = "interval out of range";
                return -1;
            }
            out->v.interval.us = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                                     : (int64_t)mag;
            break;
        }
        if (p >= end || *p++ != ' ')
            return -1;
        int u = next_unit;
        for (; u < 3; u++) {
            size_t ul = strlen(units[u]);
            if ((size_t)(end - p) >= ul && memcmp(p, units[u], ul) == 0) {
                p += ul;
                if (p < end && *p == 's')
                    p++;
                break;
            }
        }
        if (u == 3 || (p < end && *p != ' '))
            return -1;
        next_unit = u + 1;
        if (n > (uint64_t)INT32_MAX + 1) {
            *why = "interval out of range";
            return -1;
        }
        int64_t v = neg ? -(int64_t)n : (int64_t)n;
        if (u == 0)
            months += v * 12;
        else if (u == 1)
            months += v;
        else
            days = v;
        if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX) {
            *why = "interval out of range";
            return -1;
        }
    }
    if (parts == 0)
        return -1;
    out->v.interval.months = (int32_t)months;
    out->v.interval.days = (int32_t)days;
    return 0;
}

/* ---- other kinds -------------------------------------------------------------------------- */

static int parse_float(const char *s, size_t len, int single, value *out, const char **why)
{
    char tmp[64];
    if (text_equal(s, len, "NaN")) {
        out->v.f = __builtin_nan("");
        return 0;
    }
    if (text_equal(s, len, "Infinity")) {
        out->v.f = __builtin_inf();
        return 0;
    }
    if (text_equal(s, len, "-Infinity")) {
        out->v.f = -__builtin_inf();
        return 0;
    }
    if (!decimal_valid(s, len, 1) || len >= sizeof tmp) {
        *why = "expected a decimal number";
        return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double f = single ? (double)strtof(tmp, NULL) : strtod(tmp, NULL);
    if (f == __builtin_inf() || f == -__builtin_inf()) {
        *why = "value out of range";
        return -1;
    }
    out->v.f = f;
    return 0;
}

/* money in the C locale: -?$d{1,3}(,ddd)*(.dd)? into cents. */
static int parse_money(const char *s, size_t len, value *out, const char **why)
{
    const char *p = s, *end = s + len;
    int neg = 0, group = 0, grouped = 0;
    uint64_t v = 0;
    *why = "expected money like $1,234.56";
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p < end && *p == '$')
        p++;
    if (p == end || !is_digit(*p))
        return -1;
    for (; p < end && (is_digit(*p) || *p == ','); p++) {
        if (*p == ',') {
            if (group == 0 || (grouped && group != 3) || (!grouped && group > 3))
                return -1;
            grouped = 1;
            group = 0;
            continue;
        }
        if (v > UINT64_MAX / 10 - 9)
            goto range;
        v = v * 10 + (uint64_t)(*p - '0');
        group++;
    }
    if (grouped && group != 3)
        return -1;
    int fd = 0;
    if (p < end && *p == '.') {
        p++;
        for (; p < end && is_digit(*p); p++) {
            if (++fd > 2)
                return -1;
            if (v > UINT64_MAX / 10 - 9)
                goto range;
            v = v * 10 + (uint64_t)(*p - '0');
        }
        if (fd == 0)
            return -1;
    }
    if (p != end)
        return -1;
    for (; fd < 2; fd++) {
        if (v > UINT64_MAX / 10)
            goto range;
        v *= 10;
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        goto range;
    out->v.i = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
range:
    *why = "money out of range";
    return -1;
}

static int parse_numeric(const char *s, size_t len, const char **why)
{
    if (text_equal(s, len, "NaN") || text_equal(s, len, "Infinity") || text_equal(s, len, "-Infinity") ||
        decimal_valid(s, len, 0))
        return 0;
    *why = "expected a decimal number";
    return -1;
}

static int parse_bytea(const char *s, size_t len, value *out, arena *a, const char **why)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len & 1)) {
        *why = "expected hex format \\x...";
        return -1;
    }
    size_t n = (len - 2) / 2;
    uint8_t *b = arena_alloc(a, n + 1);
    const unsigned char *h = (const unsigned char *)s + 2;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(h[2 * i]), lo = hex_value(h[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "invalid hex digit";
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    b[n] = 0;
    out->s = (const char *)b;
    out->len = n;
    return 0;
}

static int parse_uuid(const char *s, size_t len, value *out, arena *a, const char **why)
{
    int upper = 0, k = 0;
    if (len != 36) {
        *why = "expected 8-4-4-4-12 hex digits";
        return -1;
    }
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                *why = "expected 8-4-4-4-12 hex digits";
                return -1;
            }
            continue;
        }
        int hi = hex_value((unsigned char)s[i]);
        if (hi < 0) {
            *why = "invalid hex digit";
            return -1;
        }
        upper |= s[i] >= 'A' && s[i] <= 'F';
        if (k & 1)
            out->v.uuid[k / 2] |= (uint8_t)hi;
        else
            out->v.uuid[k / 2] = (uint8_t)(hi << 4);
        k++;
    }
    if (upper) {
        char *c = arena_strndup(a, s, 36);
        for (int i = 0; i < 36; i++)
            if (c[i] >= 'A' && c[i] <= 'F')
                c[i] = (char)(c[i] | 0x20);
        out->s = c;
    }
    return 0;
}

static int parse_inet(const char *s, size_t len, const char **why)
{
    if (len == 0) {
        *why = "empty address";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':' ||
              c == '/' || c == '-')) {
            *why = "unexpected character";
            return -1;
        }
    }
    return 0;
}

/* Array literal as array_out prints it: optional "[lo:hi]...=" dimensions, then one balanced
 * {...} with quoted elements (backslash escapes) and nothing after it. */
static int parse_array(const char *s, size_t len, const char **why)
{
    const char *p = s, *end = s + len;
    int depth = 0;
    *why = "malformed array literal";
    if (p < end && *p == '[') {
        while (p < end && *p == '[') {
            const char *q = p + 1;
            if (q < end && *q == '-')
                q++;
            while (q < end && is_digit(*q))
                q++;
            if (q >= end || *q++ != ':')
                return -1;
            if (q < end && *q == '-')
                q++;
            while (q < end && is_digit(*q))
                q++;
            if (q >= end || *q++ != ']')
                return -1;
            p = q;
        }
        if (p >= end || *p++ != '=')
            return -1;
    }
    if (p >= end || *p != '{')
        return -1;
    for (; p < end; p++) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\' && ++p >= end)
                    return -1;
            if (p >= end)
                return -1;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}') {
            if (--depth == 0)
                return p + 1 == end ? 0 : -1;
        }
    }
    return -1;
}

/* ---- JSON validation (iterative; depth bounded only by the input) ------------------------- */

static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *json_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                break;
            case 'u':
                if (end - p < 5)
                    return NULL;
                for (int i = 1; i <= 4; i++)
                    if (hex_value((unsigned char)p[i]) < 0)
                        return NULL;
                p += 4;
                break;
            default:
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *json_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && is_digit(*p))
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        const char *d = ++p;
        while (p < end && is_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static const char *json_literal(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

static int json_validate(const char *s, size_t len, arena *a)
{
    uint8_t local[512];   /* one bit per open container: 1 object, 0 array */
    uint8_t *stack = local;
    size_t cap = sizeof local * 8, depth = 0;
    const char *p = json_ws(s, s + len), *end = s + len;
    for (;;) {
        /* a value at p */
        if (p >= end)
            return -1;
        switch (*p) {
        case '{':
        case '[': {
            int obj = *p == '{';
            if (depth == cap) {
                size_t ncap = len + 8;   /* depth never exceeds the input length */
                uint8_t *ns = arena_alloc(a, ncap / 8 + 1);
                memcpy(ns, stack, cap / 8);
                stack = ns;
                cap = (ncap / 8 + 1) * 8;
            }
            if (obj)
                stack[depth / 8] |= (uint8_t)(1u << (depth % 8));
            else
                stack[depth / 8] &= (uint8_t)~(1u << (depth % 8));
            depth++;
            p = json_ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) {
                depth--;
                p++;
                break;
            }
            if (obj) {
                if (p >= end || *p != '"' || !(p = json_string(p, end)))
                    return -1;
                p = json_ws(p, end);
                if (p >= end || *p != ':')
                    return -1;
                p = json_ws(p + 1, end);
            }
            continue;
        }
        case '"':
            p = json_string(p, end);
            break;
        case 't':
            p = json_literal(p, end, "true", 4);
            break;
        case 'f':
            p = json_literal(p, end, "false", 5);
            break;
        case 'n':
            p = json_literal(p, end, "null", 4);
            break;
        default:
            p = json_number(p, end);
            break;
        }
        if (!p)
            return -1;
        /* after a value: close containers, or a separator and the next value */
        for (;;) {
            p = json_ws(p, end);
            if (depth == 0)
                return p == end ? 0 : -1;
            int obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
            if (p >= end)
                return -1;
            if (*p == (obj ? '}' : ']')) {
                depth--;
                p++;
                continue;
            }
            if (*p != ',')
                return -1;
            p = json_ws(p + 1, end);
            if (obj) {
                if (p >= end || *p != '"' || !(p = json_string(p, end)))
                    return -1;
                p = json_ws(p, end);
                if (p >= end || *p != ':')
                    return -1;
                p = json_ws(p + 1, end);
            }
            break;
        }
    }
}

/* ---- entry point -------------------------------------------------------------------------- */

int pg_value_parse(value_kind kind, const char *text, size_t len, value *out, arena *a, char *err,
                   size_t errlen)
{
    const char *why = "invalid value";
    int64_t n;
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    out->s = text;
    out->len = len;
    switch (kind) {
    case VALUE_TEXT:
        break;
    case VALUE_BOOL:
        if (text_equal(text, len, "t") || text_equal(text, len, "true"))
            out->v.b = 1;
        else if (text_equal(text, len, "f") || text_equal(text, len, "false"))
            out->v.b = 0;
        else
            rc = -1, why = "expected t or f";
        break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
        /* int4 also carries oid (unsigned 32-bit), hence the wider upper bound */
        if (parse_int(text, len, kind == VALUE_INT16 ? INT16_MIN : kind == VALUE_INT32 ? INT32_MIN : INT64_MIN,
                      kind == VALUE_INT16 ? INT16_MAX : kind == VALUE_INT32 ? (int64_t)UINT32_MAX : INT64_MAX,
                      &n) < 0)
            rc = -1, why = "expected an integer in range";
        else
            out->v.i = n;
        break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        rc = parse_float(text, len, kind == VALUE_FLOAT32, out, &why);
        break;
    case VALUE_NUMERIC:
        rc = parse_numeric(text, len, &why);
        break;
    case VALUE_MONEY:
        rc = parse_money(text, len, out, &why);
        break;
    case VALUE_BYTES:
        rc = parse_bytea(text, len, out, a, &why);
        break;
    case VALUE_DATE:
        rc = parse_date(text, len, out, &why);
        break;
    case VALUE_TIME:
    case VALUE_TIMETZ:
        rc = parse_time(text, len, kind == VALUE_TIMETZ, out, &why);
        break;
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ:
        rc = parse_timestamp(text, len, kind == VALUE_TIMESTAMPTZ, out, &why);
        break;
    case VALUE_INTERVAL:
        rc = parse_interval(text, len, out, &why);
        break;
    case VALUE_UUID:
        rc = parse_uuid(text, len, out, a, &why);
        break;
    case VALUE_JSON:
        if (json_validate(text, len, a) < 0)
            rc = -1, why = "malformed JSON";
        break;
    case VALUE_INET:
        rc = parse_inet(text, len, &why);
        break;
    case VALUE_ARRAY:
        rc = parse_array(text, len, &why);
        break;
    default:
        rc = -1, why = "unknown value kind";
        break;
    }
    if (rc < 0 && err && errlen) {
        const char *kn = (unsigned)kind < sizeof pg_kind_names / sizeof pg_kind_names[0] ? pg_kind_names[kind]
                                                                                          : "unknown";
        snprintf(err, errlen, "invalid %s value (%zu bytes): %s", kn, len, why);
    }
    return rc;
}
