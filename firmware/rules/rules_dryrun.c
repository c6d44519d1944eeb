/* rules_dryrun: a rule on the sample of recent events, per-event before/after (see rules_dryrun.h). */
#include "rules/rules_dryrun.h"

#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "rules/rules_json.h"
#include "rules/rules_steps.h"

/* Load source into a fresh sandbox as the engine does; NULL with err. *has_route when set. */
static rules_vm *dry_load(const char *name, const char *source, const rules_limits *lim,
                          const rules_lookup_ops *lookups, int *has_route, char *err, size_t errlen)
{
    char why[1024];
    rules_vm *vm = rules_vm_create(lim, lookups, why, sizeof why);
    if (!vm || rules_vm_load(vm, name, source, strlen(source), why, sizeof why) < 0) {
        err_setf(err, errlen, "rule %s: %s", name, why);
        rules_vm_destroy(vm);
        return NULL;
    }
    if (rules_steps_check(vm, NULL, NULL, why, sizeof why) < 0) {
        err_setf(err, errlen, "rule %s: %s", name, why);
        rules_vm_destroy(vm);
        return NULL;
    }
    if (has_route)
        *has_route = rules_vm_has_function(vm, "route");
    return vm;
}

int rules_dry_run_compile(const char *name, const char *source, const rules_limits *lim,
                          const rules_lookup_ops *lookups, char *err, size_t errlen)
{
    rules_vm *vm = dry_load(name, source, lim, lookups, NULL, err, errlen);
    rules_vm_destroy(vm);
    return vm ? 0 : -1;
}

/* The event as transform sees it, from its Debezium JSON value (with or without the schema
 * wrapper). NULL when the text is not such a value. */
static json_t *dry_event(const char *text)
{
    static const char *const source_keys[] = {"schema", "table", "db", "lsn", "txId", "ts_ms", "snapshot", NULL};
    json_t *root = json_loads(text, 0, NULL), *env = root, *ev = NULL;
    if (json_is_object(json_object_get(root, "payload")))
        env = json_object_get(root, "payload");
    if (!json_is_object(env) || !json_is_string(json_object_get(env, "op")))
        goto out;
    ev = json_object();
    json_t *source = json_object(), *src = json_object_get(env, "source");
    json_object_set(ev, "op", json_object_get(env, "op"));
    json_object_set(ev, "before", json_object_get(env, "before") ? json_object_get(env, "before") : json_null());
    json_object_set(ev, "after", json_object_get(env, "after") ? json_object_get(env, "after") : json_null());
    for (size_t i = 0; source_keys[i]; i++) {
        json_t *v = json_object_get(src, source_keys[i]);
        if (v)
            json_object_set(source, source_keys[i], v);
    }
    json_object_set_new(ev, "source", source);
out:
    json_decref(root);
    return ev;
}

/* v with the members of like first, in like's order (Lua tables have no order; this keeps the
 * columns of before and after side by side). A new reference. */
static json_t *dry_ordered(json_t *v, json_t *like)
{
    const char *k;
    json_t *x;
    if (!json_is_object(v) || !json_is_object(like))
        return json_incref(v);
    json_t *o = json_object();
    json_object_foreach(like, k, x) {
        json_t *y = json_object_get(v, k);
        if (y)
            json_object_set(o, k, y);
    }
    json_object_foreach(v, k, x) {
        if (!json_object_get(o, k))
            json_object_set(o, k, x);
    }
    return o;
}

/* A resulting event ordered like the input event (its members, and the columns of its rows). */
static json_t *dry_event_ordered(json_t *ev, json_t *input)
{
    static const char *const rows[] = {"before", "after", "source"};
    json_t *o = dry_ordered(ev, input);
    for (size_t i = 0; json_is_object(o) && i < 3; i++) {
        json_t *row = json_object_get(o, rows[i]), *like = json_object_get(input, rows[i]);
        if (!json_is_object(like) && i < 2)
            like = json_object_get(input, rows[1 - i]);
        if (json_is_object(row))
            json_object_set_new(o, rows[i], dry_ordered(row, like));
    }
    return o;
}

static int dry_seq_desc(const void *a, const void *b)
{
    uint64_t x = ((const rules_sample_event *)a)->seq, y = ((const rules_sample_event *)b)->seq;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int dry_table_seq(const void *a, const void *b)
{
    const rules_sample_event *x = a, *y = b;
    int c = strcmp(x->table, y->table);
    return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

int rules_dry_run(const char *name, const char *pattern, const char *source, rules_sample *sample,
                  const rules_limits *lim, const rules_lookup_ops *lookups, size_t max_results, json_t **out,
                  char *err, size_t errlen)
{
    int has_route = 0;
    rules_sample_event *evs = NULL;
    size_t n = 0, errors = 0, dropped = 0;
    *out = NULL;
    rules_vm *vm = dry_load(name, source, lim, lookups, &has_route, err, errlen);
    if (!vm)
        return -1;
    if (sample && rules_sample_collect(sample, pattern, &evs, &n) < 0) {
        rules_vm_destroy(vm);
        err_setf(err, errlen, "out of memory");
        return -2;
    }
    if (n > RULES_DRY_RUN_EVENTS) {   /* the most recent ones, back in table order */
        qsort(evs, n, sizeof *evs, dry_seq_desc);
        for (size_t i = RULES_DRY_RUN_EVENTS; i < n; i++) {
            free(evs[i].table);
            free(evs[i].json);
        }
        n = RULES_DRY_RUN_EVENTS;
        qsort(evs, n, sizeof *evs, dry_table_seq);
    }
    json_t *results = json_array();
    lua_State *L = rules_vm_state(vm);
    for (size_t i = 0; i < n; i++) {
        char why[2048] = "";
        json_t *before = dry_event(evs[i].json), *after = NULL, *route = NULL;
        int failed;
        if (!before) {
            snprintf(why, sizeof why, "the sampled event is not a Debezium JSON value");
            failed = 1;
        } else if (rules_json_push(L, before, why, sizeof why) < 0) {
            failed = 1;
        } else {
            failed = rules_json_transform(vm, has_route, &after, &route, why, sizeof why) < 0;
        }
        for (size_t j = 0; !failed && json_is_array(after) && j < json_array_size(after); j++)
            json_array_set_new(after, j, dry_event_ordered(json_array_get(after, j), before));
        if (!failed && json_is_object(after)) {   /* one event: a list of one */
            json_t *ordered = dry_event_ordered(after, before);
            json_decref(after);
            after = ordered;
            json_t *list = json_array();
            json_array_append_new(list, after);
            after = list;
            if (has_route) {
                json_t *rl = json_array();
                json_array_append_new(rl, route ? route : json_null());
                route = rl;
            }
        }
        if (!failed && (json_is_null(after) || json_array_size(after) == 0)) {
            json_decref(after);
            after = json_null();
            dropped++;
        }
        errors += failed;
        if (json_array_size(results) < max_results) {
            json_t *r = json_object();
            json_object_set_new(r, "table", json_string(evs[i].table));
            json_object_set_new(r, "before", before ? json_incref(before) : json_string(evs[i].json));
            json_object_set_new(r, "after", after ? json_incref(after) : json_null());
            json_t *e = failed ? json_string(why) : json_null();
            json_object_set_new(r, "error", e ? e : json_string("(the error message is not UTF-8)"));
            if (has_route)
                json_object_set_new(r, "route", route ? json_incref(route) : json_null());
            json_array_append_new(results, r);
        }
        json_decref(before);
        json_decref(after);
        json_decref(route);
    }
    rules_sample_events_free(evs, n);
    rules_vm_destroy(vm);
    *out = json_object();
    json_object_set_new(*out, "events", json_integer((json_int_t)n));
    json_object_set_new(*out, "errors", json_integer((json_int_t)errors));
    json_object_set_new(*out, "dropped", json_integer((json_int_t)dropped));
    json_object_set_new(*out, "truncated", json_boolean(json_array_size(results) < n));
    json_object_set_new(*out, "results", results);
    return 0;
}
