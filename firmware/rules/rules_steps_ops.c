/* rules_steps_ops: one step's operation on one value (cast and the text operations), shared by
 * the native path (rules_steps_apply.c) and the Lua tables of dry runs (rules_steps_lua.c); the
 * work itself is rules_cast.h's and rules_text.h's, as in the sluice helpers. */
#include <stdio.h>
#include <string.h>

#include "core/errbuf.h"
#include "rules/rules_steps_internal.h"
#include "rules/rules_text.h"

int steps_is_value_op(const steps_step *st)
{
    return st->op != STEP_RENAME && st->op != STEP_ADD && st->op != STEP_DROP;
}

const char *steps_scalar_what(const rules_scalar *x)
{
    switch (x->type) {
    case RULES_SCALAR_BOOL: return "a boolean";
    case RULES_SCALAR_INT: return "an integer";
    case RULES_SCALAR_FLOAT: return "a number";
    case RULES_SCALAR_STRING: return "a string";
    default: return "nil";
    }
}

/* The cast of st on x. */
static int value_cast(const steps_step *st, const rules_scalar *x, rules_scalar *out, arena *a, char *err,
                      size_t errlen)
{
    char tmp[RULES_CAST_TMP];
    if (rules_cast_apply(x, st->cast, out, tmp) < 0) {
        const char *s;
        size_t n = rules_cast_tostring(x, tmp, &s);
        return err_setf(err, errlen, "steps[%d] cast %s: '%.*s' is not a valid %s", st->index, st->col,
                        (int)(n > 200 ? 200 : n), s, st->cast_name);
    }
    if (out->type == RULES_SCALAR_STRING && out->s == tmp)
        out->s = arena_strndup(a, tmp, out->len);
    return 0;
}

int steps_value_apply(const steps_step *st, const rules_scalar *x, const char *what, rules_scalar *out, arena *a,
                      char *err, size_t errlen)
{
    if (st->op == STEP_CAST)
        return value_cast(st, x, out, a, err, errlen);
    if (x->type != RULES_SCALAR_STRING)
        return err_setf(err, errlen, "steps[%d] %s %s: %s is not text", st->index, st->name, st->col, what);
    const char *s = x->s;
    size_t n = x->len;
    char *o = NULL;
    *out = *x;
    switch (st->op) {
    case STEP_MASK:
        o = arena_alloc(a, RULES_TEXT_MASK_MAX(n, st->chlen) + 1);
        out->len = rules_text_mask(s, n, st->keep_start, st->keep_end, st->ch, st->chlen, o);
        break;
    case STEP_MASK_EMAIL:
        o = arena_alloc(a, RULES_TEXT_MASK_EMAIL_MAX(n) + 1);
        out->len = rules_text_mask_email(s, n, o);
        break;
    case STEP_MASK_PHONE:
        o = arena_alloc(a, n + 1);
        out->len = rules_text_mask_phone(s, n, o);
        break;
    case STEP_LOWER:
    case STEP_UPPER:
        o = arena_alloc(a, n + 1);
        out->len = rules_text_case(s, n, st->op == STEP_UPPER, o);
        break;
    case STEP_TRIM: {
        size_t from;
        rules_text_trim(s, n, &from, &out->len);
        out->s = s + from;   /* a slice of the input: no copy */
        return 0;
    }
    case STEP_SHA256:
    case STEP_HMAC_SHA256: {
        o = arena_alloc(a, RULES_TEXT_HEX_LEN + 1);
        int rc = st->op == STEP_SHA256 ? rules_text_sha256_hex(s, n, o)
                                       : rules_text_hmac_sha256_hex(st->key, st->keylen, s, n, o);
        if (rc < 0)
            return err_setf(err, errlen, "steps[%d] %s %s: hashing failed", st->index, st->name, st->col);
        out->len = RULES_TEXT_HEX_LEN;
        break;
    }
    default: return err_setf(err, errlen, "steps[%d] %s: not a value operation", st->index, st->name);
    }
    out->s = o;
    return 0;
}
