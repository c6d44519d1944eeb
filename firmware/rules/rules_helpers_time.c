/* rules_helpers_time: sluice.time_parse / sluice.time_format, integer Unix microseconds in UTC,
 * years 0000-9999, proleptic Gregorian calendar, no leap seconds. Civil-date arithmetic is done
 * here (days_from_civil), not with the C library: no time zone, locale or time_t range involved. */
#include <string.h>

#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"

#define US_PER_SEC 1000000LL
#define SEC_PER_DAY 86400LL

typedef struct tm_fields {
    int year, mon, day, hour, min, sec;
    long usec;
    int offset;   /* seconds east of UTC */
} tm_fields;

typedef struct scan {
    const char *p, *end;
} scan;

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Between min and max digits into *out; 0 when there are fewer than min. */
static int scan_digits(scan *s, int min, int max, int *out)
{
    int v = 0, n = 0;
    while (n < max && s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        v = v * 10 + (*s->p++ - '0');
        n++;
    }
    *out = v;
    return n >= min;
}

static int scan_char(scan *s, char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* 1-9 fraction digits into microseconds (digits past the sixth are dropped). */
static int scan_fraction(scan *s, long *usec)
{
    long v = 0;
    int n = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (n < 6)
            v = v * 10 + (*s->p - '0');
        s->p++;
        if (++n > 9)
            return 0;
    }
    for (int i = n; i < 6; i++)
        v *= 10;
    *usec = v;
    return n > 0;
}

/* "Z", "z", or +HH, +HHMM, +HH:MM (or -) */
static int scan_zone(scan *s, int *offset)
{
    if (scan_char(s, 'Z') || scan_char(s, 'z')) {
        *offset = 0;
        return 1;
    }
    int sign = scan_char(s, '+') ? 1 : scan_char(s, '-') ? -1 : 0;
    int h, m = 0;
    if (!sign || !scan_digits(s, 2, 2, &h))
        return 0;
    if (s->p < s->end && (*s->p == ':' || (*s->p >= '0' && *s->p <= '9'))) {
        scan_char(s, ':');
        if (!scan_digits(s, 2, 2, &m))
            return 0;
    }
    if (h > 23 || m > 59)
        return 0;
    *offset = sign * (h * 3600 + m * 60);
    return 1;
}

/* ISO-8601 / RFC 3339: date, then optionally [T|t|space]HH:MM[:SS[.frac]] and a zone. */
static int parse_iso(scan *s, tm_fields *t)
{
    if (!scan_digits(s, 4, 4, &t->year) || !scan_char(s, '-') || !scan_digits(s, 2, 2, &t->mon) ||
        !scan_char(s, '-') || !scan_digits(s, 2, 2, &t->day))
        return 0;
    if (s->p == s->end)
        return 1;
    if (!scan_char(s, 'T') && !scan_char(s, 't') && !scan_char(s, ' '))
        return 0;
    if (!scan_digits(s, 2, 2, &t->hour) || !scan_char(s, ':') || !scan_digits(s, 2, 2, &t->min))
        return 0;
    if (scan_char(s, ':')) {
        if (!scan_digits(s, 2, 2, &t->sec))
            return 0;
        if ((scan_char(s, '.') || scan_char(s, ',')) && !scan_fraction(s, &t->usec))
            return 0;
    }
    if (s->p == s->end)
        return 1;
    return scan_zone(s, &t->offset) && s->p == s->end;
}

static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The strptime-style subset: %Y %m %d %H %M %S %f (fraction) %z %%; a space matches any run of
 * whitespace; anything else matches itself. */
static int parse_fmt(lua_State *L, scan *s, const char *fmt, tm_fields *t)
{
    for (const char *f = fmt; *f; f++) {
        if (is_space(*f)) {
            while (s->p < s->end && is_space(*s->p))
                s->p++;
            continue;
        }
        if (*f != '%') {
            if (!scan_char(s, *f))
                return 0;
            continue;
        }
        int ok;
        switch (*++f) {
        case 'Y': ok = scan_digits(s, 4, 4, &t->year); break;
        case 'm': ok = scan_digits(s, 1, 2, &t->mon); break;
        case 'd': ok = scan_digits(s, 1, 2, &t->day); break;
        case 'H': ok = scan_digits(s, 1, 2, &t->hour); break;
        case 'M': ok = scan_digits(s, 1, 2, &t->min); break;
        case 'S': ok = scan_digits(s, 1, 2, &t->sec); break;
        case 'f': ok = scan_fraction(s, &t->usec); break;
        case 'z': ok = scan_zone(s, &t->offset); break;
        case '%': ok = scan_char(s, '%'); break;
        case '\0': return luaL_error(L, "time_parse: format ends with a lone '%%'");
        default: return luaL_error(L, "time_parse: unsupported conversion '%%%c' in format", *f);
        }
        if (!ok)
            return 0;
    }
    return s->p == s->end;
}

/* sluice.time_parse(s [, fmt]) -> integer Unix microseconds (UTC) */
static int time_parse(lua_State *L)
{
    size_t n;
    const char *str = luaL_checklstring(L, 1, &n);
    const char *fmt = luaL_optstring(L, 2, NULL);
    tm_fields t = {1970, 1, 1, 0, 0, 0, 0, 0};
    scan s = {str, str + n};
    int ok = fmt ? parse_fmt(L, &s, fmt, &t) : parse_iso(&s, &t);
    if (!ok)
        return luaL_error(L, "time_parse: '%s' does not match %s%s%s", str, fmt ? "'" : "ISO-8601",
                          fmt ? fmt : "", fmt ? "'" : "");
    if (t.mon < 1 || t.mon > 12 || t.day < 1 || t.day > days_in_month(t.year, t.mon) || t.hour > 23 ||
        t.min > 59 || t.sec > 59)
        return luaL_error(L, "time_parse: '%s' is not a valid date and time", str);
    long long secs = days_from_civil(t.year, t.mon, t.day) * SEC_PER_DAY + t.hour * 3600LL + t.min * 60LL + t.sec -
                     t.offset;
    lua_pushinteger(L, (lua_Integer)(secs * US_PER_SEC + t.usec));
    return 1;
}

static void add_num(luaL_Buffer *b, long long v, int width)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 || (int)sizeof tmp - i < width);
    luaL_addlstring(b, tmp + i, sizeof tmp - (size_t)i);
}

/* sluice.time_format(us [, fmt]) -> text in UTC; fmt takes %Y %m %d %H %M %S %f (six digits) %z
 * (+0000) %%; the default is "%Y-%m-%dT%H:%M:%S.%fZ". */
static int time_format(lua_State *L)
{
    lua_Integer us = luaL_checkinteger(L, 1);
    const char *fmt = luaL_optstring(L, 2, "%Y-%m-%dT%H:%M:%S.%fZ");
    static const long long min_us = -62167219200LL * US_PER_SEC;       /* 0000-01-01 */
    static const long long max_us = 253402300800LL * US_PER_SEC - 1;  /* 9999-12-31T23:59:59.999999 */
    if (us < min_us || us > max_us)
        return luaL_error(L, "time_format: %I is outside years 0000-9999", us);
    long long secs = us / US_PER_SEC, frac = us % US_PER_SEC;
    if (frac < 0) {
        frac += US_PER_SEC;
        secs--;
    }
    long long days = secs / SEC_PER_DAY, rem = secs % SEC_PER_DAY;
    if (rem < 0) {
        rem += SEC_PER_DAY;
        days--;
    }
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            luaL_addchar(&b, *f);
            continue;
        }
        switch (*++f) {
        case 'Y': add_num(&b, y, 4); break;
        case 'm': add_num(&b, m, 2); break;
        case 'd': add_num(&b, d, 2); break;
        case 'H': add_num(&b, rem / 3600, 2); break;
        case 'M': add_num(&b, rem / 60 % 60, 2); break;
        case 'S': add_num(&b, rem % 60, 2); break;
        case 'f': add_num(&b, frac, 6); break;
        case 'z': luaL_addstring(&b, "+0000"); break;
        case '%': luaL_addchar(&b, '%'); break;
        case '\0': return luaL_error(L, "time_format: format ends with a lone '%%'");
        default: return luaL_error(L, "time_format: unsupported conversion '%%%c' in format", *f);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

void rules_helpers_add_time(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"time_parse", time_parse},
        {"time_format", time_format},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
