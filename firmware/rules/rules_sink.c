/* rules_sink: the rules stage in front of the downstream sinks (see rules_sink.h). */
#include "rules/rules_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"
#include "core/log.h"
#include "encode/debezium_json.h"
#include "rules/rules_engine.h"
#include "rules/rules_store.h"

#define RS_LOG "rules"
#define RS_CHECK_MS 1000   /* how often the store's generation is checked */

typedef struct rules_sink {
    rules_sink_deps d;
    rules_lookup_ops lookups;
    rules_defs *defs;          /* outlives every set: sinks keep pointers to derived definitions */
    rules_set *set;            /* NULL: no active rules */
    int64_t generation;        /* of set */
    int64_t next_check_ms;
    debezium_encoder *enc;     /* dead letters' events */
    buf json;
    metric *m_applied, *m_dropped, *m_dead, *m_reloads, *m_reload_failures;
} rules_sink;

static int64_t rs_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Compile the store's active rules and swap them in. 0, or -1 with err (the old set stays). */
static int rs_reload(rules_sink *r, char *err, size_t errlen)
{
    rule_spec *specs = NULL;
    size_t n = 0;
    int64_t gen;
    if (rules_store_active(r->d.st, &specs, &n, &gen, err, errlen) < 0)
        return -1;
    rules_set *set = NULL;
    if (n && !(set = rules_set_compile(specs, n, &r->d.limits, &r->lookups, r->defs, err, errlen))) {
        rules_store_specs_free(specs, n);
        return -1;
    }
    rules_set_destroy(r->set);
    r->set = set;
    r->generation = gen;
    log_info(RS_LOG, "%zu active rule(s) loaded (generation %lld)", n, (long long)gen);
    rules_store_specs_free(specs, n);
    return 0;
}

/* At a transaction boundary: reload when the store's rules changed. */
static void rs_maybe_reload(rules_sink *r)
{
    int64_t now = rs_mono_ms();
    if (now < r->next_check_ms)
        return;
    r->next_check_ms = now + RS_CHECK_MS;
    int64_t gen = rules_store_generation(r->d.st);
    if (gen < 0 || gen == r->generation)
        return;
    char err[1024];
    metric_add(r->m_reloads, 1);
    if (rs_reload(r, err, sizeof err) < 0) {
        metric_add(r->m_reload_failures, 1);
        r->generation = gen;   /* reported once; the next change is tried again */
        log_error(RS_LOG, "the changed rules were not applied: %s", err);
        if (r->d.health)
            health_set(r->d.health, "rules", HEALTH_DEGRADED, err);
        return;
    }
    if (r->d.health)
        health_set(r->d.health, "rules", HEALTH_OK, "applying the active rules");
}

static int rs_begin(void *self, const tx_info *tx, char *err, size_t errlen)
{
    rules_sink *r = self;
    rs_maybe_reload(r);
    for (size_t i = 0; i < r->d.ndownstream; i++)
        if (r->d.downstream[i].ops->begin && r->d.downstream[i].ops->begin(r->d.downstream[i].self, tx, err, errlen) < 0)
            return -1;
    return 0;
}

typedef struct rs_emit_ctx {
    rules_sink *r;
    const event *input;
    uint64_t index;   /* of the event within the result */
} rs_emit_ctx;

static int rs_forward(rules_sink *r, const event *ev, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->d.ndownstream; i++)
        if (r->d.downstream[i].ops->change(r->d.downstream[i].self, ev, err, errlen) < 0)
            return -1;
    return 0;
}

static int rs_emit(void *arg, const event *ev, const char *route, char *err, size_t errlen)
{
    (void)route;   /* routing to another topic or lake table: not yet used by the sinks */
    rs_emit_ctx *c = arg;
    if (ev == c->input)   /* no rule for the table: as captured */
        return rs_forward(c->r, ev, err, errlen);
    event out = *ev;
    out.seq = ev->seq * RULES_SEQ_SPLIT + c->index++;
    return rs_forward(c->r, &out, err, errlen);
}

static int rs_dead_letter(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    rs_emit_ctx *c = arg;
    rules_sink *r = c->r;
    buf_reset(&r->json);
    debezium_encode_value(r->enc, &r->json, dl->ev, 0, NULL);
    metric_add(r->m_dead, 1);
    char why[512];
    if (rules_store_dead_letter_add(r->d.st, dl, r->json.data, why, sizeof why) < 0)
        return err_setf(err, errlen, "rules: cannot record a dead letter of %s v%u (%s): %s", dl->rule, dl->version,
                        dl->error, why);
    log_warn(RS_LOG, "rule %s v%u: %s (the event of %s.%s is in the dead letters)", dl->rule, dl->version, dl->error,
             dl->ev->table->schema, dl->ev->table->name);
    return 0;
}

static int rs_change(void *self, const event *ev, char *err, size_t errlen)
{
    rules_sink *r = self;
    rules_sample_record(r->d.sample, ev, r->enc, rs_mono_ms());
    if (!r->set)
        return rs_forward(r, ev, err, errlen);
    rs_emit_ctx c = {r, ev, 0};
    rules_output out = {rs_emit, rs_dead_letter, &c};
    int applied = rules_set_apply(r->set, ev, &out, err, errlen);
    if (applied < 0)
        return -1;
    if (applied) {
        metric_add(r->m_applied, 1);
        if (c.index == 0)
            metric_add(r->m_dropped, 1);
    }
    return 0;
}

static int rs_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    rules_sink *r = self;
    for (size_t i = 0; i < r->d.ndownstream; i++)
        if (r->d.downstream[i].ops->commit && r->d.downstream[i].ops->commit(r->d.downstream[i].self, tx, err, errlen) < 0)
            return -1;
    return 0;
}

static int rs_flush(void *self, int wait, char *err, size_t errlen)
{
    rules_sink *r = self;
    for (size_t i = 0; i < r->d.ndownstream; i++)
        if (r->d.downstream[i].ops->flush(r->d.downstream[i].self, wait, err, errlen) < 0)
            return -1;
    return 0;
}

static void rs_destroy(void *self)
{
    rules_sink *r = self;
    if (!r)
        return;
    rules_set_destroy(r->set);
    rules_defs_destroy(r->defs);
    debezium_encoder_destroy(r->enc);
    buf_free(&r->json);
    free(r);
}

static const sink_ops rules_sink_ops = {
    .name = "rules",
    .begin = rs_begin,
    .change = rs_change,
    .commit = rs_commit,
    .flush = rs_flush,
    .destroy = rs_destroy,
};

int rules_sink_create(const rules_sink_deps *d, sink *out, char *err, size_t errlen)
{
    rules_sink *r = calloc(1, sizeof *r);
    debezium_options o = {.name = "sluice", .db = d->db ? d->db : "", .decimal = DECIMAL_STRING};
    if (!r || !(r->defs = rules_defs_create()) || !(r->enc = debezium_encoder_create(&o))) {
        rs_destroy(r);
        return err_setf(err, errlen, "out of memory");
    }
    r->d = *d;
    r->lookups = rules_store_lookups(d->st);
    if (d->metrics) {
        r->m_applied = metrics_counter(d->metrics, "sluice_rules_events_total", "Events a rule transformed.", NULL);
        r->m_dropped = metrics_counter(d->metrics, "sluice_rules_dropped_total",
                                       "Events a rule dropped (or sent to the dead letters).", NULL);
        r->m_dead = metrics_counter(d->metrics, "sluice_rules_dead_letters_total",
                                    "Events a rule could not transform, recorded as dead letters.", NULL);
        r->m_reloads = metrics_counter(d->metrics, "sluice_rules_reloads_total", "Rule changes picked up.", NULL);
        r->m_reload_failures = metrics_counter(d->metrics, "sluice_rules_reload_failures_total",
                                               "Rule changes that did not compile (the previous rules stayed).", NULL);
    }
    if (rs_reload(r, err, errlen) < 0) {
        /* Fail closed: events must not pass untransformed (unmasked) when rules are active. */
        char why[900];
        snprintf(why, sizeof why, "%s", err);
        err_setf(err, errlen, "the active rules do not load: %.800s (fix the rule, or deactivate it with "
                 "`sluice rules activate NAME 0`)", why);
        rs_destroy(r);
        return -1;
    }
    r->next_check_ms = rs_mono_ms() + RS_CHECK_MS;
    if (d->health)
        health_set(d->health, "rules", HEALTH_OK, r->set ? "applying the active rules" : "no active rules");
    out->ops = &rules_sink_ops;
    out->self = r;
    return 0;
}
