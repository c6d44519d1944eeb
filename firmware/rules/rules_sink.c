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
#include "rules/rules_replay.h"
#include "rules/rules_store.h"
#include "rules/rules_typed.h"

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

    /* Replays of dead letters (rules_replay.h), at the commit of a streamed transaction. */
    uint64_t tx_max_seq;       /* the open transaction's highest input seq, when tx_seen */
    int tx_seen;
    int replay_pending;        /* requests to look for at the next commit */
    int64_t replay_counter, next_replay_check_ms;
    uint64_t *assigned;        /* end LSNs that took replays, ascending; those below iassigned are done */
    size_t nassigned, iassigned;
    rules_typed_defs *replay_defs;   /* rebuilt table definitions: kept until destroy, sinks keep pointers */
    arena *replay_mem;         /* one rebuilt event */
    int64_t replay_of;         /* the dead letter being replayed (0: none) */
    int64_t replay_dead_id;    /* the dead letter its replay became, if it failed again */
    metric *m_replayed;
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
    r->tx_seen = 0;
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

/* A resulting event, with its route (ev->route_topic, route_table) for the sinks to follow. */
static int rs_emit(void *arg, const event *ev, char *err, size_t errlen)
{
    rs_emit_ctx *c = arg;
    if (ev == c->input)   /* no rule for the table: as captured */
        return rs_forward(c->r, ev, err, errlen);
    event out = *ev;
    out.seq = ev->seq * RULES_SEQ_SPLIT + c->index++;
    return rs_forward(c->r, &out, err, errlen);
}

/* Record a dead letter in the store (the event as Debezium JSON and in its replayable form), then
 * offer it to every downstream sink that takes dead letters (the Kafka sink's DLQ topic). */
static int rs_dead_letter(void *arg, const rules_dead_letter *dl, char *err, size_t errlen)
{
    rs_emit_ctx *c = arg;
    rules_sink *r = c->r;
    buf_reset(&r->json);
    debezium_encode_value(r->enc, &r->json, dl->ev, 0, NULL);
    json_t *typed = rules_typed_from_event(dl->ev);
    char *typed_text = typed ? json_dumps(typed, JSON_COMPACT) : NULL;
    json_decref(typed);
    if (!typed_text)
        return err_setf(err, errlen, "rules: out of memory recording a dead letter");
    metric_add(r->m_dead, 1);
    char why[512];
    int64_t id = 0;
    int rc = rules_store_dead_letter_add(r->d.st, dl, r->json.data, typed_text, r->replay_of, &id, why, sizeof why);
    free(typed_text);
    if (rc < 0)
        return err_setf(err, errlen, "rules: cannot record a dead letter of %s v%u (%s): %s", dl->rule, dl->version,
                        dl->error, why);
    r->replay_dead_id = id;
    log_warn(RS_LOG, "rule %s v%u: %s (the event of %s.%s is dead letter %lld%s)", dl->rule, dl->version, dl->error,
             dl->ev->table->schema, dl->ev->table->name, (long long)id, rc == 1 ? ", recorded before" : "");
    for (size_t i = 0; i < r->d.ndownstream; i++) {
        const sink *s = &r->d.downstream[i];
        if (s->ops->dead_letter && s->ops->dead_letter(s->self, dl, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int rs_change(void *self, const event *ev, char *err, size_t errlen)
{
    rules_sink *r = self;
    if (!r->tx_seen || ev->seq > r->tx_max_seq)   /* replays go after every event of the transaction */
        r->tx_max_seq = ev->seq;
    r->tx_seen = 1;
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

/* ---- replays of dead letters (rules_replay.h) ----------------------------------------------------- */

/* At most once a second: whether replays were requested since the last look. */
static void rs_replay_check(rules_sink *r)
{
    int64_t now = rs_mono_ms();
    if (now < r->next_replay_check_ms)
        return;
    r->next_replay_check_ms = now + RS_CHECK_MS;
    int64_t c = rules_replay_counter(r->d.st);
    if (c >= 0 && c != r->replay_counter) {
        r->replay_counter = c;
        r->replay_pending = 1;
    }
}

/* Whether the transaction ending at end_lsn took replays before (PostgreSQL sends it again after a
 * crash); assigned LSNs below it are done and dropped. */
static int rs_replay_again(rules_sink *r, uint64_t end_lsn)
{
    while (r->iassigned < r->nassigned && r->assigned[r->iassigned] < end_lsn)
        r->iassigned++;
    return r->iassigned < r->nassigned && r->assigned[r->iassigned] == end_lsn;
}

static int rs_replay_result(rules_replay_item *it, const char *text, char *err, size_t errlen)
{
    free(it->result);
    if (!(it->result = strdup(text)))
        return err_setf(err, errlen, "out of memory");
    return 0;
}

/* Replay one dead letter into tx: rebuild its event, re-stamp it (tx's transaction, its commit LSN,
 * seq base + its position) and pass it through the current rules; the outcome goes to it->result. */
static int rs_replay_one(rules_sink *r, const tx_info *tx, uint64_t base, rules_replay_item *it, char *err,
                         size_t errlen)
{
    char why[512] = "the stored event is not JSON", res[700];
    event ev;
    arena_reset(r->replay_mem);
    json_t *j = json_loads(it->typed, JSON_ALLOW_NUL, NULL);
    int ok = j && rules_typed_to_event(j, r->replay_defs, r->replay_mem, &ev, why, sizeof why) == 0;
    json_decref(j);
    if (!ok) {
        log_error(RS_LOG, "dead letter %lld cannot be replayed: %s", (long long)it->id, why);
        snprintf(res, sizeof res, "not replayed: the stored event cannot be rebuilt: %s", why);
        return rs_replay_result(it, res, err, errlen);
    }
    ev.tx = tx;
    ev.lsn = tx->final_lsn;
    ev.seq = base + (uint64_t)it->seq;
    if (ev.snapshot == SNAPSHOT_LAST)
        ev.snapshot = SNAPSHOT_TRUE;
    const rule_spec *rule = r->set ? rules_set_match(r->set, ev.table->schema, ev.table->name) : NULL;
    rs_emit_ctx c = {r, &ev, 0};
    rules_output out = {rs_emit, rs_dead_letter, &c};
    r->replay_of = it->id;
    r->replay_dead_id = 0;
    int applied = rule ? rules_set_apply(r->set, &ev, &out, err, errlen) : rs_forward(r, &ev, err, errlen);
    r->replay_of = 0;
    if (applied < 0)
        return -1;
    metric_add(r->m_replayed, 1);
    if (!rule)
        snprintf(res, sizeof res, "passed on unchanged: no active rule for %s.%s", ev.table->schema, ev.table->name);
    else if (r->replay_dead_id)
        snprintf(res, sizeof res, "failed again with %s v%u: dead letter %lld", rule->name, rule->version,
                 (long long)r->replay_dead_id);
    else if (c.index == 0)
        snprintf(res, sizeof res, "dropped by %s v%u", rule->name, rule->version);
    else
        snprintf(res, sizeof res, "transformed by %s v%u into %llu event(s)", rule->name, rule->version,
                 (unsigned long long)c.index);
    return rs_replay_result(it, res, err, errlen);
}

/* At the commit of a streamed transaction, before it goes downstream: replay the dead letters it
 * took before (sent again) and, when some were requested, the requested ones, after its own events
 * (seq above every seq the transaction used, at RULES_SEQ_SPLIT spacing). */
static int rs_replay(rules_sink *r, const tx_info *tx, char *err, size_t errlen)
{
    if (!tx->xid || !tx->end_lsn)   /* snapshot reads: replays wait for a streamed transaction */
        return 0;
    rs_replay_check(r);
    int again = rs_replay_again(r, tx->end_lsn);
    if (!again && !r->replay_pending)
        return 0;
    rules_replay_item *items = NULL;
    size_t n = 0;
    int more = 0, rc = 0;
    char why[512], lsn[18];
    if (rules_replay_take(r->d.st, tx->end_lsn, r->replay_pending, &items, &n, &more, why, sizeof why) < 0)
        return err_setf(err, errlen, "rules: cannot take the requested replays: %s", why);
    r->replay_pending = more;
    uint64_t base = r->tx_seen ? (r->tx_max_seq + 1) * RULES_SEQ_SPLIT : 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = rs_replay_one(r, tx, base, &items[i], err, errlen);
    if (rc == 0 && n && rules_replay_done(r->d.st, items, n, why, sizeof why) < 0)
        rc = err_setf(err, errlen, "rules: cannot record the replays' results: %s", why);
    if (rc == 0 && n) {
        lsn_format(tx->end_lsn, lsn);
        log_info(RS_LOG, "%zu dead letter(s) replayed in transaction %u (end %s)%s", n, tx->xid, lsn,
                 again ? ", again: PostgreSQL sent it again" : "");
    }
    rules_replay_items_free(items, n);
    return rc;
}

/* Replays wait for a source transaction: ask the capture for one while some are requested. */
static int rs_wants_transaction(void *self)
{
    rules_sink *r = self;
    if (!r->d.replay_nudge)
        return 0;
    rs_replay_check(r);
    return r->replay_pending;
}

static int rs_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    rules_sink *r = self;
    if (rs_replay(r, tx, err, errlen) < 0)
        return -1;
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
    rules_typed_defs_destroy(r->replay_defs);
    arena_destroy(r->replay_mem);
    free(r->assigned);
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
    .wants_transaction = rs_wants_transaction,
};

int rules_sink_create(const rules_sink_deps *d, sink *out, char *err, size_t errlen)
{
    rules_sink *r = calloc(1, sizeof *r);
    debezium_options o = {.name = "sluice", .db = d->db ? d->db : "", .decimal = DECIMAL_STRING};
    if (!r || !(r->defs = rules_defs_create()) || !(r->enc = debezium_encoder_create(&o)) ||
        !(r->replay_defs = rules_typed_defs_create()) || !(r->replay_mem = arena_create(64 * 1024))) {
        rs_destroy(r);
        return err_setf(err, errlen, "out of memory");
    }
    r->d = *d;
    char reason[512];
    if (rules_replay_assigned(d->st, &r->assigned, &r->nassigned, reason, sizeof reason) < 0) {
        rs_destroy(r);
        return err_setf(err, errlen, "rules: cannot read the dead letters' replays: %s", reason);
    }
    r->replay_counter = rules_replay_counter(d->st);
    /* requests left by an earlier run are taken at the first commit (when unsure: looked for) */
    r->replay_pending = rules_replay_requested(d->st) != 0;
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
        r->m_replayed = metrics_counter(d->metrics, "sluice_rules_replayed_total",
                                        "Dead letters replayed through the current rules after a replay request.",
                                        NULL);
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
