/* rules_sample: the last events of each table, as Debezium JSON, for dry runs (see rules_sample.h). */
#include "rules/rules_sample.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

typedef struct sample_entry {
    char *json;
    size_t len;
    uint64_t seq;
} sample_entry;

typedef struct sample_table {
    char *name;                  /* schema.table */
    uint64_t hash;
    sample_entry ring[RULES_SAMPLE_PER_TABLE];
    int head, count;             /* oldest entry at head */
    size_t bytes;
    int64_t window_ms;           /* start of the current one-second rate window */
    int window_n;                /* events recorded in it */
    int64_t last_ms;             /* last recording, for replacing the stalest table */
} sample_table;

struct rules_sample {
    pthread_mutex_t mu;
    sample_table *tables[RULES_SAMPLE_TABLES];
    int ntables;
    size_t bytes, events;
    uint64_t seq;
    const table_def *cache_def;  /* the last event's table and its slot */
    int cache_slot;
    buf scratch;                 /* the event being encoded */
};

rules_sample *rules_sample_create(void)
{
    rules_sample *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->cache_slot = -1;
    return s;
}

static void sample_entry_drop(rules_sample *s, sample_table *t)
{
    sample_entry *e = &t->ring[t->head];
    t->bytes -= e->len;
    s->bytes -= e->len;
    s->events--;
    free(e->json);
    e->json = NULL;
    t->head = (t->head + 1) % RULES_SAMPLE_PER_TABLE;
    t->count--;
}

static void sample_table_free(rules_sample *s, sample_table *t)
{
    if (!t)
        return;
    while (t->count)
        sample_entry_drop(s, t);
    free(t->name);
    free(t);
}

void rules_sample_destroy(rules_sample *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ntables; i++)
        sample_table_free(s, s->tables[i]);
    buf_free(&s->scratch);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static uint64_t sample_hash(const char *schema, const char *name)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a over "schema.name" */
    for (const char *p = schema; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '.') * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* 1 when full is "schema.name". */
static int sample_name_is(const char *full, const char *schema, const char *name)
{
    size_t n = strlen(schema);
    return strncmp(full, schema, n) == 0 && full[n] == '.' && strcmp(full + n + 1, name) == 0;
}

/* The slot of schema.name, made (replacing the stalest table when full) when absent; -1 OOM. */
static int sample_slot(rules_sample *s, const char *schema, const char *name, int64_t now_ms)
{
    uint64_t h = sample_hash(schema, name);
    for (int i = 0; i < s->ntables; i++)
        if (s->tables[i]->hash == h && sample_name_is(s->tables[i]->name, schema, name))
            return i;
    sample_table *t = calloc(1, sizeof *t);
    size_t len = strlen(schema) + strlen(name) + 2;
    if (!t || !(t->name = malloc(len))) {
        free(t);
        return -1;
    }
    memcpy(t->name, schema, strlen(schema));
    t->name[strlen(schema)] = '.';
    memcpy(t->name + strlen(schema) + 1, name, strlen(name) + 1);
    t->hash = h;
    t->window_ms = now_ms;
    t->last_ms = now_ms;
    int slot = s->ntables;
    if (s->ntables == RULES_SAMPLE_TABLES) {
        slot = 0;
        for (int i = 1; i < s->ntables; i++)
            if (s->tables[i]->last_ms < s->tables[slot]->last_ms)
                slot = i;
        sample_table_free(s, s->tables[slot]);
        s->cache_def = NULL;
    } else {
        s->ntables++;
    }
    s->tables[slot] = t;
    return slot;
}

/* May table slot record an event now? Counts it against the rate when so. */
static int sample_rate_ok(sample_table *t, int64_t now_ms)
{
    if (now_ms - t->window_ms >= 1000 || now_ms < t->window_ms) {
        t->window_ms = now_ms;
        t->window_n = 0;
    }
    if (t->window_n >= RULES_SAMPLE_RATE)
        return 0;
    t->window_n++;
    t->last_ms = now_ms;
    return 1;
}

/* Store a copy of json in table slot; 1, 0 when it does not fit, -1 OOM. Locked. */
static int sample_store(rules_sample *s, int slot, const char *json, size_t len)
{
    sample_table *t = s->tables[slot];
    if (len > RULES_SAMPLE_EVENT_MAX)
        return 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, json, len);
    copy[len] = '\0';
    if (t->count == RULES_SAMPLE_PER_TABLE)
        sample_entry_drop(s, t);
    while (s->bytes + len > RULES_SAMPLE_BYTES) {   /* the largest table gives up its oldest */
        sample_table *big = NULL;
        for (int i = 0; i < s->ntables; i++)
            if (s->tables[i]->count && (!big || s->tables[i]->bytes > big->bytes))
                big = s->tables[i];
        if (!big)
            break;
        sample_entry_drop(s, big);
    }
    sample_entry *e = &t->ring[(t->head + t->count) % RULES_SAMPLE_PER_TABLE];
    e->json = copy;
    e->len = len;
    e->seq = ++s->seq;
    t->count++;
    t->bytes += len;
    s->bytes += len;
    s->events++;
    return 1;
}

void rules_sample_record(rules_sample *s, const event *ev, debezium_encoder *enc, int64_t now_ms)
{
    if (!s || !ev->table)
        return;
    pthread_mutex_lock(&s->mu);
    int slot = s->cache_def == ev->table ? s->cache_slot : -1;
    if (slot >= 0 && !sample_name_is(s->tables[slot]->name, ev->table->schema, ev->table->name))
        slot = -1;   /* a definition freed and its address reused */
    if (slot < 0 && (slot = sample_slot(s, ev->table->schema, ev->table->name, now_ms)) >= 0) {
        s->cache_def = ev->table;
        s->cache_slot = slot;
    }
    if (slot >= 0 && sample_rate_ok(s->tables[slot], now_ms)) {
        buf_reset(&s->scratch);
        debezium_encode_value(enc, &s->scratch, ev, 0, NULL);
        if (s->scratch.data)
            sample_store(s, slot, s->scratch.data, s->scratch.len);
    }
    pthread_mutex_unlock(&s->mu);
}

int rules_sample_add(rules_sample *s, const char *table, const char *json, size_t len, int64_t now_ms)
{
    const char *dot = strchr(table, '.');
    if (!dot)
        return 0;
    char *schema = strndup(table, (size_t)(dot - table));
    if (!schema)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    s->cache_def = NULL;
    int slot = sample_slot(s, schema, dot + 1, now_ms);
    if (slot < 0)
        rc = -1;
    else if (sample_rate_ok(s->tables[slot], now_ms))
        rc = sample_store(s, slot, json, len);
    pthread_mutex_unlock(&s->mu);
    free(schema);
    return rc;
}

void rules_sample_events_free(rules_sample_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].table);
        free(v[i].json);
    }
    free(v);
}

static int sample_table_cmp(const void *a, const void *b)
{
    return strcmp((*(sample_table *const *)a)->name, (*(sample_table *const *)b)->name);
}

int rules_sample_collect(rules_sample *s, const char *pattern, rules_sample_event **out, size_t *n)
{
    sample_table *match[RULES_SAMPLE_TABLES];
    size_t nmatch = 0, total = 0, k = 0;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->ntables; i++) {
        if (s->tables[i]->count && (!pattern || fnmatch(pattern, s->tables[i]->name, 0) == 0)) {
            match[nmatch++] = s->tables[i];
            total += (size_t)s->tables[i]->count;
        }
    }
    qsort(match, nmatch, sizeof *match, sample_table_cmp);
    rules_sample_event *v = total ? calloc(total, sizeof *v) : NULL;
    if (total && !v)
        goto oom;
    for (size_t i = 0; i < nmatch; i++) {
        sample_table *t = match[i];
        for (int j = 0; j < t->count; j++, k++) {
            const sample_entry *e = &t->ring[(t->head + j) % RULES_SAMPLE_PER_TABLE];
            v[k].seq = e->seq;
            if (!(v[k].table = strdup(t->name)) || !(v[k].json = strdup(e->json))) {
                k++;
                goto oom;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    *out = v;
    *n = total;
    return 0;
oom:
    pthread_mutex_unlock(&s->mu);
    rules_sample_events_free(v, k);
    return -1;
}

void rules_sample_stats(rules_sample *s, size_t *events, size_t *tables, size_t *bytes)
{
    pthread_mutex_lock(&s->mu);
    *events = s->events;
    *tables = (size_t)s->ntables;
    *bytes = s->bytes;
    pthread_mutex_unlock(&s->mu);
}
