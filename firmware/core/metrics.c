/* metrics: counters, gauges and histograms with Prometheus text rendering (see metrics.h).
 * Families keep registration order; each family holds its labelled series. A mutex guards the
 * registry (registration, rendering); values are C11 atomics, so updates, which the capture
 * makes for every change event, never take a lock. A double is kept as its bit pattern in an
 * atomic 64-bit integer: set is a store, add a compare-and-swap loop. */
#include "core/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_kind;

struct metric {
    metrics *reg;
    char *labels;          /* NULL or label text without braces */
    _Atomic uint64_t value;   /* the double's bits (histograms: the sum) */
    struct metric *next;   /* next series of the same family */
    /* histograms only */
    double *bounds;
    size_t nbounds;
    _Atomic uint64_t *buckets; /* nbounds + 1 counts (not cumulative); the last is +Inf */
};

typedef struct family {
    char *name;
    char *help;
    metric_kind kind;
    metric *series;
    struct family *next;
} family;

struct metrics {
    pthread_mutex_t lock;
    family *head, *tail;
};

metrics *metrics_create(void)
{
    metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_destroy(metrics *m)
{
    if (!m)
        return;
    for (family *f = m->head; f;) {
        family *fn = f->next;
        for (metric *x = f->series; x;) {
            metric *xn = x->next;
            free(x->bounds);
            free((void *)x->buckets);
            free(x->labels);
            free(x);
            x = xn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int metric_name_valid(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == ':'))
            return 0;
    }
    return 1;
}

static int labels_equal(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static metric *metrics_register(metrics *m, const char *name, const char *help, const char *labels,
                                metric_kind kind)
{
    metric *x = NULL;
    if (!metric_name_valid(name))
        return NULL;
    pthread_mutex_lock(&m->lock);
    family *f = m->head;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    if (f && f->kind != kind)
        goto out;
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            goto out;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        f->kind = kind;
        if (m->tail)
            m->tail->next = f;
        else
            m->head = f;
        m->tail = f;
    }
    for (x = f->series; x; x = x->next)
        if (labels_equal(x->labels, labels))
            goto out;
    x = calloc(1, sizeof *x);
    if (!x)
        goto out;
    x->reg = m;
    atomic_init(&x->value, 0);   /* the bits of 0.0 */
    x->labels = labels ? strdup(labels) : NULL;
    metric **tail = &f->series;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
out:
    pthread_mutex_unlock(&m->lock);
    return x;
}

metric *metrics_histogram(metrics *m, const char *name, const char *help, const char *labels,
                          const double *bounds, size_t nbounds)
{
    metric *x = metrics_register(m, name, help, labels, METRIC_HISTOGRAM);
    pthread_mutex_lock(&m->lock);
    if (x && !x->buckets) {
        x->bounds = malloc(nbounds * sizeof *x->bounds);
        x->buckets = calloc(nbounds + 1, sizeof *x->buckets);
        if (!x->bounds || !x->buckets) {
            free(x->bounds);
            free((void *)x->buckets);
            x->bounds = NULL;
            x->buckets = NULL;
        } else {
            memcpy(x->bounds, bounds, nbounds * sizeof *bounds);
            x->nbounds = nbounds;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return x && x->buckets ? x : NULL;
}

metric *metrics_counter(metrics *m, const char *name, const char *help, const char *labels)
{
    return metrics_register(m, name, help, labels, METRIC_COUNTER);
}

metric *metrics_gauge(metrics *m, const char *name, const char *help, const char *labels)
{
    return metrics_register(m, name, help, labels, METRIC_GAUGE);
}

static uint64_t metric_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double metric_double(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

void metric_add(metric *x, double v)
{
    if (!x)
        return;
    uint64_t old = atomic_load_explicit(&x->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&x->value, &old, metric_bits(metric_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void metric_observe(metric *x, double v)
{
    if (!x || !x->buckets)
        return;
    size_t i = 0;
    while (i < x->nbounds && v > x->bounds[i])
        i++;
    atomic_fetch_add_explicit(&x->buckets[i], 1, memory_order_relaxed);
    metric_add(x, v);
}

double metric_quantile(const metric *x, double q)
{
    if (!x || !x->buckets)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i <= x->nbounds; i++)
        total += atomic_load_explicit(&x->buckets[i], memory_order_relaxed);
    if (!total)
        return 0;
    double rank = q * (double)total, below = 0;
    for (size_t i = 0; i <= x->nbounds; i++) {
        double n = (double)atomic_load_explicit(&x->buckets[i], memory_order_relaxed);
        if (below + n >= rank && n > 0) {
            if (i == x->nbounds)   /* beyond the last bound: the last bound, as Prometheus does */
                return x->nbounds ? x->bounds[x->nbounds - 1] : 0;
            double lo = i ? x->bounds[i - 1] : 0, hi = x->bounds[i];
            return lo + (hi - lo) * (rank - below) / n;
        }
        below += n;
    }
    return x->nbounds ? x->bounds[x->nbounds - 1] : 0;
}

void metric_set(metric *x, double v)
{
    if (!x)
        return;
    atomic_store_explicit(&x->value, metric_bits(v), memory_order_relaxed);
}

double metric_get(const metric *x)
{
    if (!x)
        return 0;
    return metric_double(atomic_load_explicit(&((metric *)x)->value, memory_order_relaxed));
}

/* HELP text escapes backslash and newline. */
static void render_help(buf *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            buf_puts(out, "\\\\");
        else if (*p == '\n')
            buf_puts(out, "\\n");
        else
            buf_append(out, p, 1);
    }
}

static void render_histogram(buf *out, const char *name, const metric *x)
{
    const char *sep = x->labels ? "," : "";
    const char *labels = x->labels ? x->labels : "";
    uint64_t cum = 0;
    for (size_t i = 0; i <= x->nbounds; i++) {
        cum += atomic_load_explicit(&x->buckets[i], memory_order_relaxed);
        if (i < x->nbounds)
            buf_printf(out, "%s_bucket{%s%sle=\"%.6g\"} %llu\n", name, labels, sep, x->bounds[i],
                       (unsigned long long)cum);
        else
            buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    }
    if (x->labels) {
        buf_printf(out, "%s_sum{%s} %.17g\n", name, labels, metric_get(x));
        buf_printf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    } else {
        buf_printf(out, "%s_sum %.17g\n", name, metric_get(x));
        buf_printf(out, "%s_count %llu\n", name, (unsigned long long)cum);
    }
}

void metrics_render(metrics *m, buf *out)
{
    pthread_mutex_lock(&m->lock);
    for (family *f = m->head; f; f = f->next) {
        buf_printf(out, "# HELP %s ", f->name);
        render_help(out, f->help);
        static const char *const kinds[] = {"counter", "gauge", "histogram"};
        buf_printf(out, "\n# TYPE %s %s\n", f->name, kinds[f->kind]);
        for (metric *x = f->series; x; x = x->next) {
            if (f->kind == METRIC_HISTOGRAM) {
                render_histogram(out, f->name, x);
                continue;
            }
            if (x->labels)
                buf_printf(out, "%s{%s} %.17g\n", f->name, x->labels, metric_get(x));
            else
                buf_printf(out, "%s %.17g\n", f->name, metric_get(x));
        }
    }
    pthread_mutex_unlock(&m->lock);
}
