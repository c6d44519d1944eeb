/* rules_cast: sluice.cast's conversions in C (see rules_cast.h), with Lua 5.4's number syntax
 * (lobject.c: l_str2int, l_str2d) and number formatting (LUAI_NUMFFORMAT "%.14g", ".0" added to
 * integral floats) reproduced, so a cast gives the same value in a transform and in a step. */
#include "rules/rules_cast.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    rules_cast_type t;
} cast_names[] = {
    {"integer", RULES_CAST_INTEGER}, {"int", RULES_CAST_INTEGER},     {"bigint", RULES_CAST_INTEGER},
    {"number", RULES_CAST_NUMBER},   {"float", RULES_CAST_NUMBER},    {"double", RULES_CAST_NUMBER},
    {"string", RULES_CAST_STRING},   {"text", RULES_CAST_STRING},     {"boolean", RULES_CAST_BOOLEAN},
    {"bool", RULES_CAST_BOOLEAN},    {"decimal", RULES_CAST_DECIMAL}, {"numeric", RULES_CAST_DECIMAL},
};

int rules_cast_type_parse(const char *name, rules_cast_type *out)
{
    for (size_t i = 0; i < sizeof cast_names / sizeof cast_names[0]; i++) {
        if (strcmp(name, cast_names[i].name) == 0) {
            *out = cast_names[i].t;
            return 0;
        }
    }
    return -1;
}

const char *rules_cast_type_name(rules_cast_type t)
{
    static const char *const names[] = {"integer", "number", "string", "boolean", "decimal"};
    return names[t];
}

static int cast_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Lua's l_str2int on the NUL-terminated s. */
static int cast_str2int(const char *s, int64_t *out)
{
    uint64_t a = 0;
    int empty = 1, neg = 0;
    while (cast_space((unsigned char)*s))
        s++;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (s += 2; isxdigit((unsigned char)*s); s++, empty = 0)
            a = a * 16 + (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a') + 10);
    } else {
        for (; isdigit((unsigned char)*s); s++, empty = 0) {
            int d = *s - '0';
            if (a >= UINT64_C(922337203685477580) && (a > UINT64_C(922337203685477580) || d > 7 + neg))
                return -1;   /* overflow: not an integer (it may still be a float) */
            a = a * 10 + (uint64_t)d;
        }
    }
    while (cast_space((unsigned char)*s))
        s++;
    if (empty || *s)
        return -1;
    *out = (int64_t)(neg ? 0u - a : a);
    return 0;
}

/* Lua's l_str2d on the NUL-terminated s: strtod, but no inf or nan. */
static int cast_str2d(const char *s, double *out)
{
    const char *special = strpbrk(s, ".xXnN");
    if (special && (*special == 'n' || *special == 'N'))
        return -1;
    char *end;
    *out = strtod(s, &end);
    if (end == s)
        return -1;
    while (cast_space((unsigned char)*end))
        end++;
    return *end ? -1 : 0;
}

int rules_cast_parse_number(const char *s, size_t len, rules_scalar *out)
{
    char small[128], *z = len < sizeof small ? small : malloc(len + 1);
    int rc = -1;
    if (!z || memchr(s, '\0', len))
        goto out;
    memcpy(z, s, len);
    z[len] = '\0';
    memset(out, 0, sizeof *out);
    if (cast_str2int(z, &out->i) == 0) {
        out->type = RULES_SCALAR_INT;
        rc = 0;
    } else if (cast_str2d(z, &out->f) == 0) {
        out->type = RULES_SCALAR_FLOAT;
        rc = 0;
    }
out:
    if (z != small)
        free(z);
    return rc;
}

size_t rules_cast_tostring(const rules_scalar *x, char tmp[RULES_CAST_TMP], const char **s)
{
    int n = 0;
    *s = tmp;
    switch (x->type) {
    case RULES_SCALAR_NIL: n = snprintf(tmp, RULES_CAST_TMP, "nil"); break;
    case RULES_SCALAR_BOOL: n = snprintf(tmp, RULES_CAST_TMP, "%s", x->b ? "true" : "false"); break;
    case RULES_SCALAR_INT: n = snprintf(tmp, RULES_CAST_TMP, "%" PRId64, x->i); break;
    case RULES_SCALAR_FLOAT:
        n = snprintf(tmp, RULES_CAST_TMP, "%.14g", x->f);
        if (tmp[strspn(tmp, "-0123456789")] == '\0')   /* looks like an integer: Lua adds ".0" */
            n += snprintf(tmp + n, RULES_CAST_TMP - (size_t)n, ".0");
        break;
    default: *s = x->s; return x->len;
    }
    return (size_t)n;
}

/* Is s[0..len) a decimal literal ([+-]digits[.digits][e[+-]digits])? */
static int cast_is_decimal(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < len && isdigit((unsigned char)s[i]); i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && isdigit((unsigned char)s[i]); i++)
            digits++;
    if (digits && i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < len && isdigit((unsigned char)s[i]); i++)
            exp++;
        if (!exp)
            return 0;
    }
    return digits > 0 && i == len;
}

static int cast_boolean(const rules_scalar *in, rules_scalar *out)
{
    static const char *const yes[] = {"t", "true", "y", "yes", "on", "1"}, *const no[] = {"f", "false", "n", "no", "off", "0"};
    out->type = RULES_SCALAR_BOOL;
    if (in->type == RULES_SCALAR_BOOL) {
        out->b = in->b;
        return 0;
    }
    if (in->type == RULES_SCALAR_INT && (in->i == 0 || in->i == 1)) {
        out->b = in->i == 1;
        return 0;
    }
    if (in->type != RULES_SCALAR_STRING)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        size_t ny = strlen(yes[i]), nn = strlen(no[i]);
        if ((in->len == ny && strncasecmp(in->s, yes[i], ny) == 0) || (in->len == nn && strncasecmp(in->s, no[i], nn) == 0)) {
            out->b = in->len == ny && strncasecmp(in->s, yes[i], ny) == 0;
            return 0;
        }
    }
    return -1;
}

int rules_cast_apply(const rules_scalar *in, rules_cast_type t, rules_scalar *out, char tmp[RULES_CAST_TMP])
{
    rules_scalar num;
    memset(out, 0, sizeof *out);
    if (in->type == RULES_SCALAR_NIL)
        return 0;
    switch (t) {
    case RULES_CAST_INTEGER:
    case RULES_CAST_NUMBER:
        if (in->type == RULES_SCALAR_INT || in->type == RULES_SCALAR_FLOAT)
            num = *in;
        else if (in->type != RULES_SCALAR_STRING || rules_cast_parse_number(in->s, in->len, &num) < 0)
            return -1;
        if (t == RULES_CAST_NUMBER) {
            out->type = RULES_SCALAR_FLOAT;
            out->f = num.type == RULES_SCALAR_INT ? (double)num.i : num.f;
            return 0;
        }
        out->type = RULES_SCALAR_INT;
        if (num.type == RULES_SCALAR_INT) {
            out->i = num.i;
            return 0;
        }
        /* a float converts when it is integral and in range (3.0 -> 3; 3.5 does not) */
        if (!(num.f >= -9223372036854775808.0 && num.f < 9223372036854775808.0) || floor(num.f) != num.f)
            return -1;
        out->i = (int64_t)num.f;
        return 0;
    case RULES_CAST_STRING:
        if (in->type != RULES_SCALAR_STRING && in->type != RULES_SCALAR_INT && in->type != RULES_SCALAR_FLOAT &&
            in->type != RULES_SCALAR_BOOL)
            return -1;
        out->type = RULES_SCALAR_STRING;
        out->len = rules_cast_tostring(in, tmp, &out->s);
        return 0;
    case RULES_CAST_BOOLEAN: return cast_boolean(in, out);
    case RULES_CAST_DECIMAL:
        out->type = RULES_SCALAR_STRING;
        if (in->type == RULES_SCALAR_INT) {
            out->len = (size_t)snprintf(tmp, RULES_CAST_TMP, "%" PRId64, in->i);
            out->s = tmp;
            return 0;
        }
        if (in->type == RULES_SCALAR_FLOAT) {
            if (!isfinite(in->f))   /* NaN and infinities are no decimal */
                return -1;
            out->len = (size_t)rules_value_format_double(in->f, tmp, RULES_CAST_TMP);
            out->s = tmp;
            return 0;
        }
        if (in->type != RULES_SCALAR_STRING || !cast_is_decimal(in->s, in->len))
            return -1;
        out->s = in->s;
        out->len = in->len;
        return 0;
    }
    return -1;
}
