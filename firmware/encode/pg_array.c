/* pg_array: walks a PostgreSQL array literal as array_out prints it ("{1,2,NULL}",
 * "{{1,2},{3,4}}", "[0:1]={a,b}", "{\"a b\",\"c\\\"d\"}") and writes it as a JSON array, nested
 * per dimension, handing each element's unquoted, unescaped text to a callback. Malformed
 * literals are reported, never read past their end. */
#include "encode/debezium_internal.h"

#include <string.h>

#define PG_ARRAY_MAX_DEPTH 6   /* PostgreSQL's MAXDIM */

typedef struct walker {
    const char *p, *end;
    char delim;
    arena *a;
    buf *out;
    pg_array_element_fn fn;
    void *ctx;
} walker;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void skip_space(walker *w)
{
    while (w->p < w->end && is_space(*w->p))
        w->p++;
}

/* A quoted element: "..." with backslash escapes. */
static int walk_quoted(walker *w)
{
    const char *q = ++w->p;
    size_t n = 0;
    for (; q < w->end && *q != '"'; q++, n++)
        if (*q == '\\' && ++q >= w->end)
            return -1;
    if (q >= w->end)
        return -1;
    char *s = arena_alloc(w->a, n + 1);
    size_t k = 0;
    for (; *w->p != '"'; w->p++) {
        if (*w->p == '\\')
            w->p++;
        s[k++] = *w->p;
    }
    s[k] = '\0';
    w->p++;   /* closing quote */
    return w->fn(w->ctx, w->out, s, k, 0);
}

/* An unquoted element: up to the delimiter or '}', surrounding blanks dropped; NULL (any case,
 * no escapes) is SQL NULL. */
static int walk_plain(walker *w)
{
    const char *q = w->p;
    size_t n = 0;
    int escaped = 0;
    for (; q < w->end && *q != w->delim && *q != '}'; q++, n++) {
        if (*q == '"' || *q == '{')
            return -1;
        if (*q == '\\') {
            escaped = 1;
            if (++q >= w->end)
                return -1;
        }
    }
    if (q >= w->end)
        return -1;
    char *s = arena_alloc(w->a, n + 1);
    size_t k = 0, keep = 0;   /* keep: length up to the last escaped or non-blank byte */
    for (; w->p < q; w->p++) {
        if (*w->p == '\\') {
            w->p++;
            s[k++] = *w->p;
            keep = k;
        } else {
            s[k++] = *w->p;
            if (!is_space(*w->p))
                keep = k;
        }
    }
    k = keep;
    s[k] = '\0';
    if (k == 0)
        return -1;
    int is_null = !escaped && k == 4 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'u' && (s[2] | 0x20) == 'l' &&
                  (s[3] | 0x20) == 'l';
    return w->fn(w->ctx, w->out, s, k, is_null);
}

static int walk_list(walker *w, int depth)
{
    if (depth > PG_ARRAY_MAX_DEPTH || w->p >= w->end || *w->p != '{')
        return -1;
    w->p++;
    PUT_LIT(w->out, "[");
    skip_space(w);
    if (w->p < w->end && *w->p == '}') {
        w->p++;
        PUT_LIT(w->out, "]");
        return 0;
    }
    for (int first = 1;; first = 0) {
        skip_space(w);
        if (w->p >= w->end)
            return -1;
        if (!first)
            PUT_LIT(w->out, ",");
        int rc;
        if (*w->p == '{')
            rc = walk_list(w, depth + 1);
        else if (*w->p == '"')
            rc = walk_quoted(w);
        else
            rc = walk_plain(w);
        if (rc < 0)
            return -1;
        skip_space(w);
        if (w->p >= w->end)
            return -1;
        if (*w->p == w->delim) {
            w->p++;
            continue;
        }
        if (*w->p == '}') {
            w->p++;
            PUT_LIT(w->out, "]");
            return 0;
        }
        return -1;
    }
}

int pg_array_to_json(const char *s, size_t len, char delim, arena *a, buf *out, pg_array_element_fn fn,
                     void *ctx)
{
    walker w = {s, s + len, delim, a, out, fn, ctx};
    skip_space(&w);
    if (w.p < w.end && *w.p == '[') {
        /* dimension decoration: [lb:ub]...= */
        while (w.p < w.end && *w.p != '=')
            w.p++;
        if (w.p >= w.end)
            return -1;
        w.p++;
    }
    if (walk_list(&w, 1) < 0)
        return -1;
    skip_space(&w);
    return w.p == w.end ? 0 : -1;
}
