/* metrics: counters and gauges with Prometheus text rendering (see metrics.h).
 * Families keep registration order; each family holds its labelled series. One mutex guards
 * the registry and the values: updates are rare compared to the work they count. */
#include "core/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef enum { METRIC_COUNTER, METRIC_GAUGE } metric_kind;

struct metric {
    metrics *reg;
    char *labels;          /* NULL or label text without braces */
    double value;
    struct metric *next;   /* next series of the same family */
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
    x->labels = labels ? strdup(labels) : NULL;
    metric **tail = &f->series;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
out:
    pthread_mutex_unlock(&m->lock);
    return x;
}

metric *metrics_counter(metrics *m, const char *name, const char *help, const char *labels)
{
    return metrics_register(m, name, help, labels, METRIC_COUNTER);
}

metric *metrics_gauge(metrics *m, const char *name, const char *help, const char *labels)
{
    return metrics_register(m, name, help, labels, METRIC_GAUGE);
}

void metric_add(metric *x, double v)
{
    if (!x)
        return;
    pthread_mutex_lock(&x->reg->lock);
    x->value += v;
    pthread_mutex_unlock(&x->reg->lock);
}

void metric_set(metric *x, double v)
{
    if (!x)
        return;
    pthread_mutex_lock(&x->reg->lock);
    x->value = v;
    pthread_mutex_unlock(&x->reg->lock);
}

double metric_get(const metric *x)
{
    if (!x)
        return 0;
    pthread_mutex_lock(&x->reg->lock);
    double v = x->value;
    pthread_mutex_unlock(&x->reg->lock);
    return v;
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

void metrics_render(metrics *m, buf *out)
{
    pthread_mutex_lock(&m->lock);
    for (family *f = m->head; f; f = f->next) {
        buf_printf(out, "# HELP %s ", f->name);
        render_help(out, f->help);
        buf_printf(out, "\n# TYPE %s %s\n", f->name, f->kind == METRIC_COUNTER ? "counter" : "gauge");
        for (metric *x = f->series; x; x = x->next) {
            if (x->labels)
                buf_printf(out, "%s{%s} %.17g\n", f->name, x->labels, x->value);
            else
                buf_printf(out, "%s %.17g\n", f->name, x->value);
        }
    }
    pthread_mutex_unlock(&m->lock);
}
