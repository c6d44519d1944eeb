/* rules_value: a Lua value a rule put in a row, as a typed column value: into the column's own
 * type when it fits, or as a value of a type of its own (see rules_value.h). */
#include "rules/rules_value.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"
#include "core/buf.h"
#include "core/errbuf.h"

#define OID_BOOL 16
#define OID_INT8 20
#define OID_TEXT 25
#define OID_JSON 114
#define OID_FLOAT8 701

void rules_value_materialize(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (luaL_getmetafield(L, idx, RULES_MATERIALIZE_FIELD) == LUA_TNIL)
        return;
    lua_pushvalue(L, idx);
    lua_call(L, 1, 0);
}

int rules_value_to_json(lua_State *L, int idx, buf *out, int depth)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: buf_puts(out, "null"); return 0;
    case LUA_TBOOLEAN: buf_puts(out, lua_toboolean(L, idx) ? "true" : "false"); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            buf_put_i64(out, (int64_t)lua_tointeger(L, idx));
        } else {
            double f = lua_tonumber(L, idx);
            if (!isfinite(f))
                return -1;
            char text[32];
            buf_append(out, text, (size_t)rules_value_format_double(f, text, sizeof text));
        }
        return 0;
    case LUA_TSTRING: buf_json_string(out, lua_tostring(L, idx)); return 0;
    case LUA_TTABLE: break;
    default: return -1;
    }
    if (depth > 32)
        return -1;
    rules_value_materialize(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    int packed = lua_getfield(L, idx, "n") == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= n;
    if (packed)   /* table.pack's list: its length counts trailing NULLs (and {n = 0} is []) */
        n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n > 1000000)
        return -1;
    if (n > 0 || packed) {
        buf_puts(out, "[");
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1)
                buf_puts(out, ",");
            lua_rawgeti(L, idx, i);
            int rc = rules_value_to_json(L, -1, out, depth + 1);
            lua_pop(L, 1);
            if (rc < 0)
                return -1;
        }
        buf_puts(out, "]");
        return 0;
    }
    buf_puts(out, "{");
    int first = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return -1;
        }
        if (!first)
            buf_puts(out, ",");
        first = 0;
        buf_json_string(out, lua_tostring(L, -2));
        buf_puts(out, ":");
        if (rules_value_to_json(L, -1, out, depth + 1) < 0) {
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
    }
    buf_puts(out, "}");
    return 0;
}

/* Append a Lua list as a PostgreSQL array literal. -1 on unsupported content. */
static int lua_to_array_literal(lua_State *L, int idx, buf *out, int depth)
{
    idx = lua_absindex(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (lua_getfield(L, idx, "n") == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= n)
        n = lua_tointeger(L, -1);   /* table.pack's length: trailing NULLs kept */
    lua_pop(L, 1);
    if (depth > 6 || n > 1000000)
        return -1;
    buf_puts(out, "{");
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1)
            buf_puts(out, ",");
        lua_rawgeti(L, idx, i);
        int rc = 0;
        switch (lua_type(L, -1)) {
        case LUA_TNIL: buf_puts(out, "NULL"); break;
        case LUA_TBOOLEAN: buf_puts(out, lua_toboolean(L, -1) ? "t" : "f"); break;
        case LUA_TNUMBER: {
            char text[32];
            if (lua_isinteger(L, -1))
                buf_put_i64(out, (int64_t)lua_tointeger(L, -1));
            else
                buf_append(out, text, (size_t)rules_value_format_double(lua_tonumber(L, -1), text, sizeof text));
            break;
        }
        case LUA_TSTRING: {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            buf_puts(out, "\"");
            for (size_t k = 0; k < len; k++) {
                if (s[k] == '"' || s[k] == '\\')
                    buf_append(out, "\\", 1);
                buf_append(out, &s[k], 1);
            }
            buf_puts(out, "\"");
            break;
        }
        case LUA_TTABLE: rc = lua_to_array_literal(L, -1, out, depth + 1); break;
        default: rc = -1; break;
        }
        lua_pop(L, 1);
        if (rc < 0)
            return -1;
    }
    buf_puts(out, "}");
    return 0;
}

int rules_value_format_double(double f, char *out, size_t len)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, len, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            break;
    }
    return n;
}

/* A string into a value of kind through PostgreSQL's text form; ISO-8601 'T' and 'Z' are
 * accepted for the zoned kinds. 0, or -1 when it is not a valid value of that kind. */
static int parse_as(value_kind kind, const char *s, size_t len, value *out, arena *a)
{
    if (kind == VALUE_TIMESTAMPTZ || kind == VALUE_TIMETZ) {
        char *t = arena_alloc(a, len + 3);
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            t[n++] = (s[i] == 'T' && kind == VALUE_TIMESTAMPTZ) ? ' ' : s[i];
        if (n && t[n - 1] == 'Z') {
            memcpy(&t[n - 1], "+00", 3);
            n += 2;
        }
        s = t;
        len = n;
    }
    return pg_value_parse(kind, s, len, out, a, NULL, 0);
}

int rules_value_scalar_of(const column_def *col, const value *v, rules_scalar *out)
{
    memset(out, 0, sizeof *out);
    switch (col->kind) {
    case VALUE_BOOL:
        out->type = RULES_SCALAR_BOOL;
        out->b = v->v.b != 0;
        return 0;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
        out->type = RULES_SCALAR_INT;
        out->i = v->v.i;
        return 0;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        out->type = RULES_SCALAR_FLOAT;
        out->f = v->v.f;
        return 0;
    case VALUE_TEXT:
    case VALUE_NUMERIC:
    case VALUE_BYTES:
    case VALUE_UUID:
    case VALUE_JSON:
    case VALUE_INET:
        out->type = RULES_SCALAR_STRING;
        out->s = v->s;
        out->len = v->len;
        return 0;
    default: return -1;
    }
}

int rules_value_scalar_same(const rules_scalar *a, const rules_scalar *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case RULES_SCALAR_NIL: return 1;
    case RULES_SCALAR_BOOL: return (a->b != 0) == (b->b != 0);
    case RULES_SCALAR_INT: return a->i == b->i;
    case RULES_SCALAR_FLOAT: return a->f == b->f || (isnan(a->f) && isnan(b->f));
    default: return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    }
}

int rules_value_fit_scalar(const rules_scalar *x, const column_def *col, value *out, arena *a)
{
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    switch (col->kind) {
    case VALUE_BOOL:
        if (x->type != RULES_SCALAR_BOOL)
            return 0;
        out->v.b = x->b;
        return 1;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
        if (x->type != RULES_SCALAR_INT || (col->kind == VALUE_INT16 && (x->i < INT16_MIN || x->i > INT16_MAX)) ||
            (col->kind == VALUE_INT32 && (x->i < INT32_MIN || x->i > INT32_MAX)))
            return 0;
        out->v.i = x->i;
        return 1;
    case VALUE_INTERVAL:
        if (x->type != RULES_SCALAR_INT)
            return 0;
        out->v.interval.us = x->i;
        return 1;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        if (x->type != RULES_SCALAR_INT && x->type != RULES_SCALAR_FLOAT)
            return 0;
        out->v.f = x->type == RULES_SCALAR_INT ? (double)x->i : x->f;
        return 1;
    case VALUE_NUMERIC:
        if (x->type == RULES_SCALAR_INT || x->type == RULES_SCALAR_FLOAT) {
            char tmp[64];
            int n = x->type == RULES_SCALAR_INT ? snprintf(tmp, sizeof tmp, "%" PRId64, x->i)
                                                : rules_value_format_double(x->f, tmp, sizeof tmp);
            /* the parsed value points at its text: keep it in the arena */
            return parse_as(VALUE_NUMERIC, arena_strndup(a, tmp, (size_t)n), (size_t)n, out, a) == 0;
        }
        break;
    case VALUE_ARRAY: return 0;   /* only a list fits (rules_value_convert_fitting) */
    default: break;
    }
    if (x->type != RULES_SCALAR_STRING)
        return 0;
    switch (col->kind) {
    case VALUE_NUMERIC:
    case VALUE_MONEY:
    case VALUE_TIMETZ:
    case VALUE_TIMESTAMPTZ:
    case VALUE_UUID: return parse_as(col->kind, x->s, x->len, out, a) == 0;
    default:   /* text, json, inet, bytea: the bytes as they are */
        out->s = arena_strndup(a, x->s, x->len);
        out->len = x->len;
        return 1;
    }
}

int rules_value_scalar_from_lua(lua_State *L, int idx, rules_scalar *x)
{
    memset(x, 0, sizeof *x);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: x->type = RULES_SCALAR_NIL; return 0;
    case LUA_TBOOLEAN:
        x->type = RULES_SCALAR_BOOL;
        x->b = lua_toboolean(L, idx);
        return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            x->type = RULES_SCALAR_INT;
            x->i = (int64_t)lua_tointeger(L, idx);
        } else {
            x->type = RULES_SCALAR_FLOAT;
            x->f = lua_tonumber(L, idx);
        }
        return 0;
    case LUA_TSTRING:
        x->type = RULES_SCALAR_STRING;
        x->s = lua_tolstring(L, idx, &x->len);
        return 0;
    default: return -1;
    }
}

int rules_value_convert_fitting(lua_State *L, int idx, const column_def *col, value *out, arena *a)
{
    rules_scalar x;
    if (rules_value_scalar_from_lua(L, idx, &x) == 0)
        return x.type != RULES_SCALAR_NIL && rules_value_fit_scalar(&x, col, out, a);
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    if (col->kind != VALUE_ARRAY || lua_type(L, idx) != LUA_TTABLE)
        return 0;
    buf lit = BUF_INIT;
    int ok = lua_to_array_literal(L, idx, &lit, 0) == 0;
    if (ok) {
        out->s = arena_strndup(a, lit.data, lit.len);
        out->len = lit.len;
    }
    buf_free(&lit);
    return ok;
}

/* col's type fields for a column of type oid and kind of its own. */
static void retype_as(column_def *col, uint32_t oid, value_kind kind)
{
    col->typmod = -1;
    col->elem_kind = VALUE_TEXT;
    col->enum_labels = NULL;
    col->type_oid = oid;
    col->kind = kind;
    const char *tn = pg_type_name(oid);
    col->type_name = (char *)(tn ? tn : "text");
}

void rules_value_retype_scalar(const rules_scalar *x, column_def *col, value *out, arena *a)
{
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    switch (x->type) {
    case RULES_SCALAR_BOOL:
        retype_as(col, OID_BOOL, VALUE_BOOL);
        out->v.b = x->b;
        break;
    case RULES_SCALAR_INT:
        retype_as(col, OID_INT8, VALUE_INT64);
        out->v.i = x->i;
        break;
    case RULES_SCALAR_FLOAT:
        retype_as(col, OID_FLOAT8, VALUE_FLOAT64);
        out->v.f = x->f;
        break;
    default:
        retype_as(col, OID_TEXT, VALUE_TEXT);
        out->s = arena_strndup(a, x->s ? x->s : "", x->len);
        out->len = x->len;
        break;
    }
}

int rules_value_convert_retyped(lua_State *L, int idx, column_def *col, value *out, arena *a, const char *where,
                                char *err, size_t errlen)
{
    rules_scalar x;
    if (rules_value_scalar_from_lua(L, idx, &x) == 0 && x.type != RULES_SCALAR_NIL) {
        rules_value_retype_scalar(&x, col, out, a);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    if (lua_type(L, idx) != LUA_TTABLE)
        return err_setf(err, errlen, "%s: a %s cannot be a column value", where, luaL_typename(L, idx));
    buf j = BUF_INIT;
    int rc = rules_value_to_json(L, idx, &j, 0);
    if (rc == 0) {
        retype_as(col, OID_JSON, VALUE_JSON);
        out->s = arena_strndup(a, j.data, j.len);
        out->len = j.len;
    }
    buf_free(&j);
    if (rc < 0)
        return err_setf(err, errlen, "%s: a table that is not JSON (functions, cycles, non-string keys, "
                        "infinite numbers or depth over 32) cannot be a column value", where);
    return 0;
}
