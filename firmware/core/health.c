/* health: per-component state for /readyz and the console (see health.h). */
#include "core/health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct component {
    char *name;
    char *message;
    health_state state;
    time_t since;           /* when the state last changed */
    struct component *next;
} component;

struct health {
    pthread_mutex_t lock;
    component *head, *tail;
};

static const char *const state_names[] = {"ok", "starting", "degraded", "down", "disabled"};

health *health_create(void)
{
    health *h = calloc(1, sizeof *h);
    if (h)
        pthread_mutex_init(&h->lock, NULL);
    return h;
}

void health_destroy(health *h)
{
    if (!h)
        return;
    for (component *c = h->head; c;) {
        component *n = c->next;
        free(c->name);
        free(c->message);
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

const char *health_state_name(health_state st)
{
    return (unsigned)st < sizeof state_names / sizeof state_names[0] ? state_names[st] : "unknown";
}

void health_set(health *h, const char *name, health_state st, const char *message)
{
    pthread_mutex_lock(&h->lock);
    component *c = h->head;
    while (c && strcmp(c->name, name) != 0)
        c = c->next;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            goto out;
        c->name = strdup(name);
        c->state = st;
        c->since = time(NULL);
        if (h->tail)
            h->tail->next = c;
        else
            h->head = c;
        h->tail = c;
    }
    if (c->state != st) {
        c->state = st;
        c->since = time(NULL);
    }
    free(c->message);
    c->message = message ? strdup(message) : NULL;
out:
    pthread_mutex_unlock(&h->lock);
}

int health_ready(health *h)
{
    int ready = 1;
    pthread_mutex_lock(&h->lock);
    for (component *c = h->head; c; c = c->next)
        if (c->state != HEALTH_OK && c->state != HEALTH_DISABLED)
            ready = 0;
    pthread_mutex_unlock(&h->lock);
    return ready;
}

void health_render_json(health *h, buf *out)
{
    pthread_mutex_lock(&h->lock);
    buf_puts(out, "[");
    for (component *c = h->head; c; c = c->next) {
        buf_puts(out, c == h->head ? "{\"name\":" : ",{\"name\":");
        buf_json_string(out, c->name);
        buf_printf(out, ",\"state\":\"%s\",\"message\":", health_state_name(c->state));
        if (c->message)
            buf_json_string(out, c->message);
        else
            buf_puts(out, "null");
        buf_printf(out, ",\"since\":%lld}", (long long)c->since);
    }
    buf_puts(out, "]");
    pthread_mutex_unlock(&h->lock);
}
