/* rules_diff: unified line diffs by longest common subsequence (see rules_diff.h). */
#include "rules/rules_diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
    const char *p;
    size_t n;
} line;

typedef struct op {
    char t;       /* ' ' kept, '-' removed, '+' added */
    size_t a, b;  /* index of the line in a / b, or the position there for a line of the other */
} op;

/* Split text into lines (without their newlines). NULL when out of memory; *n lines. */
static line *diff_lines(const char *text, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    line *v = calloc(cap, sizeof *v);
    if (!v)
        return NULL;
    *n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        v[(*n)++] = (line){p, len};
        p += len + (nl ? 1 : 0);
    }
    return v;
}

static int line_eq(const line *x, const line *y)
{
    return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

/* The edit script turning la into lb into ops (room for na + nb). The count, or -1 OOM. */
static long diff_script(const line *la, size_t na, const line *lb, size_t nb, op *ops)
{
    size_t head = 0, tail = 0, k = 0;
    while (head < na && head < nb && line_eq(&la[head], &lb[head]))
        head++;
    while (tail < na - head && tail < nb - head && line_eq(&la[na - 1 - tail], &lb[nb - 1 - tail]))
        tail++;
    for (size_t i = 0; i < head; i++)
        ops[k++] = (op){' ', i, i};
    size_t n = na - head - tail, m = nb - head - tail;
    const line *x = la + head, *y = lb + head;
    if (n && m && (uint64_t)(n + 1) * (m + 1) <= RULES_DIFF_CELLS) {
        /* L[i][j]: the LCS length of x[i..] and y[j..]. */
        uint32_t *L = calloc((n + 1) * (m + 1), sizeof *L);
        if (!L)
            return -1;
#define AT(i, j) L[(i) * (m + 1) + (j)]
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                AT(i, j) = line_eq(&x[i], &y[j]) ? AT(i + 1, j + 1) + 1
                           : AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j)
                                                           : AT(i, j + 1);
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && line_eq(&x[i], &y[j])) {
                ops[k++] = (op){' ', head + i, head + j};
                i++;
                j++;
            } else if (j == m || (i < n && AT(i + 1, j) >= AT(i, j + 1))) {
                ops[k++] = (op){'-', head + i, head + j};
                i++;
            } else {
                ops[k++] = (op){'+', head + i, head + j};
                j++;
            }
        }
#undef AT
        free(L);
    } else {   /* one side empty, or too large: removed, then added */
        for (size_t i = 0; i < n; i++)
            ops[k++] = (op){'-', head + i, head};
        for (size_t j = 0; j < m; j++)
            ops[k++] = (op){'+', head + n, head + j};
    }
    for (size_t i = 0; i < tail; i++)
        ops[k++] = (op){' ', na - tail + i, nb - tail + i};
    return (long)k;
}

/* "start,count" as diff -u writes it (start is the line before an empty range). */
static void diff_range(buf *out, size_t pos, size_t count)
{
    if (count == 1)
        buf_printf(out, "%zu", pos + 1);
    else
        buf_printf(out, "%zu,%zu", count ? pos + 1 : pos, count);
}

long rules_diff_unified(const char *a, const char *b, const char *from, const char *to, buf *out)
{
    size_t na = 0, nb = 0;
    line *la = diff_lines(a, &na), *lb = diff_lines(b, &nb);
    op *ops = la && lb ? calloc(na + nb + 1, sizeof *ops) : NULL;
    long nops = ops ? diff_script(la, na, lb, nb, ops) : -1, changes = 0;
    if (nops < 0) {
        changes = -1;
        goto out;
    }
    const size_t C = RULES_DIFF_CONTEXT;
    size_t k = 0, total = (size_t)nops;
    while (k < total) {
        if (ops[k].t == ' ') {
            k++;
            continue;
        }
        if (changes == 0) {
            buf_printf(out, "--- %s\n+++ %s\n", from, to);
        }
        size_t start = k > C ? k - C : 0, last = k, j = k;
        for (; j < total; j++) {
            if (ops[j].t != ' ')
                last = j;
            else if (j - last > 2 * C)
                break;
        }
        size_t end = last + C + 1 < total ? last + C + 1 : total;
        size_t ca = 0, cb = 0;
        for (size_t i = start; i < end; i++) {
            ca += ops[i].t != '+';
            cb += ops[i].t != '-';
        }
        buf_puts(out, "@@ -");
        diff_range(out, ops[start].a, ca);
        buf_puts(out, " +");
        diff_range(out, ops[start].b, cb);
        buf_puts(out, " @@\n");
        for (size_t i = start; i < end; i++) {
            const line *l = ops[i].t == '+' ? &lb[ops[i].b] : &la[ops[i].a];
            buf_append(out, &ops[i].t, 1);
            buf_append(out, l->p, l->n);
            buf_puts(out, "\n");
            changes += ops[i].t != ' ';
        }
        k = end;
    }
out:
    free(la);
    free(lb);
    free(ops);
    return changes;
}
