/* api_rules: transformation rules in the console. Reads (viewer): GET /api/v1/rules (each rule's
 * pattern, active and latest version), GET /api/v1/rules/{name}[?version=N] (its versions with
 * author, time, comment and source), GET /api/v1/rules/{name}/diff?from=A&to=B (a unified diff of
 * two versions' sources; 0 is the empty text), GET /api/v1/rules/dead-letters?limit=N. Changes
 * (operator): POST /api/v1/rules/{name}/versions {pattern, source, comment} stores a version that
 * compiles (author: the session's user); POST /api/v1/rules/{name}/dry-run {source | version,
 * pattern, limit} runs a draft or a stored version on the sample of recently captured events and
 * answers per-event before/after; POST /api/v1/rules/{name}/activate {version} activates a version
 * only when it compiles and its dry run on the current sample has no error (0 deactivates; an
 * older version is a rollback); POST /api/v1/rules/dead-letters/replay {ids | rule | all} marks
 * dead letters for replay through the current rules, which the pipeline performs at the commit of
 * the next captured transaction (202). Changes are audited. 400 bad input, 404 unknown rule,
 * version or dead letters, 422 a rule that does not compile or fails its dry run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "core/log.h"
#include "rules/rules_diff.h"
#include "rules/rules_dryrun.h"
#include "rules/rules_settings.h"
#include "store/config.h"
#include "rules/rules_history.h"
#include "rules/rules_replay.h"
#include "rules/rules_sample.h"
#include "rules/rules_store.h"

#define API_RULE_NAME_MAX 64
#define API_RULE_PATTERN_MAX 255
#define API_RULE_COMMENT_MAX 1000
#define API_DRY_RUN_LIMIT 100       /* results listed by default */
#define API_ACTIVATE_FAILURES 20    /* failing events listed when an activation is refused */
#define API_DEAD_LETTERS_DEFAULT 50
#define API_DEAD_LETTERS_MAX 1000
#define API_REPLAY_IDS_MAX 1000    /* ids one replay request names */

/* Send a JSON value (consumed) with status. */

/* The sandbox limits the pipeline uses (rules.*), so that compiling and dry runs fail where the
 * pipeline would; the defaults when the settings cannot be read (logged). */
static void api_rules_limits(api_request *req, rules_limits *lim)
{
    char err[512];
    memset(lim, 0, sizeof *lim);
    config *cfg = config_load(req->deps->store, err, sizeof err);
    if (!cfg) {
        log_error("api", "rules limits: %s (dry runs use the defaults)", err);
        return;
    }
    rules_limits_from_config(cfg, lim);
    config_destroy(cfg);
}
static void api_rules_send(api_request *req, int status, json_t *v)
{
    buf out = BUF_INIT;
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) {
        api_send_error(req, 500, "internal error");
        return;
    }
    buf_puts(&out, text);
    buf_puts(&out, "\n");
    free(text);
    api_send_json(req, status, &out, NULL);
    buf_free(&out);
}

/* A string JSON value, also for text that is not UTF-8 (a Lua message may quote any bytes). */
static json_t *api_rules_text(const char *s)
{
    json_t *v = json_string(s);
    if (!v) {
        buf b = BUF_INIT;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            buf_append(&b, *p < 0x80 ? (const char *)p : "?", 1);
        v = json_string(b.data ? b.data : "");
        buf_free(&b);
    }
    return v;
}

/* {"error": msg, ...extra members} with status; extra (consumed) may be NULL. */
static void api_rules_fail(api_request *req, int status, const char *msg, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "error", api_rules_text(msg));
    api_rules_send(req, status, o);
}

static int api_rules_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > API_RULE_NAME_MAX || strcmp(name, "dead-letters") == 0)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int api_rules_pattern_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > API_RULE_PATTERN_MAX)
        return 0;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x21 || *c == 0x7f)
            return 0;
    return 1;
}

/* Member key of body as a whole number in [min, max]: 1 present, 0 absent, -1 invalid (sent). */
static int api_rules_body_int(api_request *req, const json_t *body, const char *key, long long min, long long max,
                              long long *out)
{
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        api_send_error(req, 400, "\"%s\" must be a whole number from %lld to %lld", key, min, max);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

/* Member key as a string (NULL when absent or null); -1 when it is another type (400 sent). */
static int api_rules_body_string(api_request *req, const json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        api_send_error(req, 400, "\"%s\" must be a string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* Answer a rules_history status other than 0 (404 for unknown rules and versions). */
static void api_rules_history_fail(api_request *req, int rc, uint32_t version, const char *err)
{
    if (rc == RULES_HISTORY_NO_RULE)
        api_send_error(req, 404, "no rule named %s", req->param);
    else if (rc == RULES_HISTORY_NO_VERSION)
        api_send_error(req, 404, "rule %s has no version %" PRIu32, req->param, version);
    else {
        log_error("api", "rules: %s", err);
        api_send_error(req, 500, "cannot read the rules");
    }
}

void api_rules_list(api_request *req)
{
    char err[512];
    json_t *rules = rules_history_list(req->deps->store, err, sizeof err);
    if (!rules) {
        log_error("api", "rules: %s", err);
        api_send_error(req, 500, "cannot read the rules");
        return;
    }
    size_t events = 0, tables = 0, bytes = 0;
    if (req->deps->rules_sample)
        rules_sample_stats(req->deps->rules_sample, &events, &tables, &bytes);
    json_t *o = json_object(), *sample = json_object();
    json_object_set_new(sample, "events", json_integer((json_int_t)events));
    json_object_set_new(sample, "tables", json_integer((json_int_t)tables));
    json_object_set_new(o, "rules", rules);
    json_object_set_new(o, "sample", sample);
    api_rules_send(req, 200, o);
}

void api_rules_get(api_request *req)
{
    char err[512];
    long long version = 0;
    if (api_query_int(req, "version", 1, UINT32_MAX, &version) < 0)
        return;
    json_t *rule = NULL;
    int rc = rules_history_rule(req->deps->store, req->param, (uint32_t)version, &rule, err, sizeof err);
    if (rc != 0) {
        api_rules_history_fail(req, rc, (uint32_t)version, err);
        return;
    }
    api_rules_send(req, 200, rule);
}

void api_rules_add_version(api_request *req)
{
    char err[1024], *stored_pattern = NULL;
    const char *pattern, *source, *comment;
    json_t *body = NULL;
    uint32_t version = 0;
    if (!api_rules_name_ok(req->param)) {
        api_send_error(req, 400, "a rule name is 1 to %d letters, digits, '_', '.' or '-' (and not dead-letters)",
                       API_RULE_NAME_MAX);
        return;
    }
    if (!(body = api_read_json(req)))
        return;
    if (api_rules_body_string(req, body, "pattern", &pattern) < 0 ||
        api_rules_body_string(req, body, "source", &source) < 0 ||
        api_rules_body_string(req, body, "comment", &comment) < 0)
        goto out;
    if (!source || !*source) {
        api_send_error(req, 400, "\"source\" (the rule's Lua text) is required");
        goto out;
    }
    if (comment && strlen(comment) > API_RULE_COMMENT_MAX) {
        api_send_error(req, 400, "\"comment\" is longer than %d bytes", API_RULE_COMMENT_MAX);
        goto out;
    }
    if (!pattern) {
        int rc = rules_history_source(req->deps->store, req->param, 0, NULL, &stored_pattern, err, sizeof err);
        if (rc == RULES_HISTORY_NO_RULE) {
            api_send_error(req, 400, "\"pattern\" (schema.table glob) is required for a new rule");
            goto out;
        }
        if (rc != 0) {
            api_rules_history_fail(req, rc, 0, err);
            goto out;
        }
        pattern = stored_pattern;
    }
    if (!api_rules_pattern_ok(pattern)) {
        api_send_error(req, 400, "\"pattern\" must be a schema.table glob (public.users, public.*, *) of 1 to %d "
                       "characters without spaces", API_RULE_PATTERN_MAX);
        goto out;
    }
    rules_lookup_ops lookups = rules_store_lookups(req->deps->store);
    rules_limits lim;
    api_rules_limits(req, &lim);
    if (rules_dry_run_compile(req->param, source, &lim, &lookups, err, sizeof err) < 0) {
        api_rules_fail(req, 422, err, NULL);
        goto out;
    }
    if (rules_store_add_version(req->deps->store, req->param, pattern, source, req->user.name, comment, &version,
                                err, sizeof err) < 0) {
        log_error("api", "%s", err);
        api_send_error(req, 500, "cannot store the rule: %s", err);
        goto out;
    }
    char detail[512];
    snprintf(detail, sizeof detail, "%s v%" PRIu32 " pattern=%.200s", req->param, version, pattern);
    store_audit(req->deps->store, req->user.name, "rule.version", detail);
    log_fields(LOG_INFO, "api", "rule version stored", "user", req->user.name, "rule", req->param, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(req->param));
    json_object_set_new(o, "version", json_integer(version));
    json_object_set_new(o, "pattern", api_rules_text(pattern));
    json_object_set_new(o, "author", api_rules_text(req->user.name));
    json_object_set_new(o, "comment", api_rules_text(comment ? comment : ""));
    api_rules_send(req, 201, o);
out:
    free(stored_pattern);
    json_decref(body);
}

void api_rules_dry_run(api_request *req)
{
    char err[1024], *stored_source = NULL, *stored_pattern = NULL;
    const char *pattern, *source;
    long long version = 0, limit = API_DRY_RUN_LIMIT;
    json_t *body = api_read_json(req), *answer = NULL;
    if (!body)
        return;
    if (api_rules_body_string(req, body, "pattern", &pattern) < 0 ||
        api_rules_body_string(req, body, "source", &source) < 0 ||
        api_rules_body_int(req, body, "version", 1, UINT32_MAX, &version) < 0 ||
        api_rules_body_int(req, body, "limit", 0, RULES_DRY_RUN_EVENTS, &limit) < 0)
        goto out;
    if (!source && !version) {
        api_send_error(req, 400, "give \"source\" (a draft) or \"version\" (a stored version)");
        goto out;
    }
    if (source && version) {
        api_send_error(req, 400, "give either \"source\" or \"version\", not both");
        goto out;
    }
    int rc = rules_history_source(req->deps->store, req->param, (uint32_t)version, version ? &stored_source : NULL,
                                  &stored_pattern, err, sizeof err);
    if (rc != 0 && !(rc == RULES_HISTORY_NO_RULE && !version)) {
        api_rules_history_fail(req, rc, (uint32_t)version, err);
        goto out;
    }
    if (version)
        source = stored_source;
    if (!pattern)
        pattern = stored_pattern;
    if (!pattern) {
        api_send_error(req, 400, "\"pattern\" (schema.table glob) is required for a rule not stored yet");
        goto out;
    }
    if (!api_rules_pattern_ok(pattern)) {
        api_send_error(req, 400, "\"pattern\" must be a schema.table glob of 1 to %d characters without spaces",
                       API_RULE_PATTERN_MAX);
        goto out;
    }
    rules_lookup_ops lookups = rules_store_lookups(req->deps->store);
    rules_limits lim;
    api_rules_limits(req, &lim);
    rc = rules_dry_run(req->param, pattern, source, req->deps->rules_sample, &lim, &lookups, (size_t)limit, &answer,
                       err, sizeof err);
    if (rc == -1) {
        api_rules_fail(req, 422, err, NULL);
        goto out;
    }
    if (rc < 0) {
        api_send_error(req, 500, "%s", err);
        goto out;
    }
    json_object_set_new(answer, "rule", json_string(req->param));
    json_object_set_new(answer, "pattern", api_rules_text(pattern));
    json_object_set_new(answer, "version", version ? json_integer(version) : json_null());
    api_rules_send(req, 200, answer);
out:
    free(stored_source);
    free(stored_pattern);
    json_decref(body);
}

/* The results of a dry run that failed, without their after (null anyway), at most max. */
static json_t *api_rules_failures(json_t *answer, size_t max)
{
    json_t *out = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(answer, "results"), i, r) {
        if (json_is_null(json_object_get(r, "error")) || json_array_size(out) >= max)
            continue;
        json_t *f = json_object();
        json_object_set(f, "table", json_object_get(r, "table"));
        json_object_set(f, "before", json_object_get(r, "before"));
        json_object_set(f, "error", json_object_get(r, "error"));
        json_array_append_new(out, f);
    }
    return out;
}

void api_rules_activate(api_request *req)
{
    char err[1024], *source = NULL, *pattern = NULL, msg[512];
    long long version = -1;
    json_t *body = api_read_json(req), *rule = NULL, *answer = NULL;
    if (!body)
        return;
    if (api_rules_body_int(req, body, "version", 0, UINT32_MAX, &version) < 0)
        goto out;
    if (version < 0) {
        api_send_error(req, 400, "\"version\" is required (0 deactivates the rule)");
        goto out;
    }
    int rc = rules_history_rule(req->deps->store, req->param, 0, &rule, err, sizeof err);
    if (rc != 0) {
        api_rules_history_fail(req, rc, 0, err);
        goto out;
    }
    json_t *prev = json_object_get(rule, "active_version");
    long long previous = json_is_integer(prev) ? json_integer_value(prev) : 0;
    json_t *dry = NULL;
    if (version) {
        rc = rules_history_source(req->deps->store, req->param, (uint32_t)version, &source, &pattern, err,
                                  sizeof err);
        if (rc != 0) {
            api_rules_history_fail(req, rc, (uint32_t)version, err);
            goto out;
        }
        rules_lookup_ops lookups = rules_store_lookups(req->deps->store);
        rules_limits lim;
        api_rules_limits(req, &lim);
        rc = rules_dry_run(req->param, pattern, source, req->deps->rules_sample, &lim, &lookups, RULES_DRY_RUN_EVENTS,
                           &answer, err, sizeof err);
        if (rc == -1) {
            snprintf(msg, sizeof msg, "version %lld does not compile, not activated: %.400s", version, err);
            api_rules_fail(req, 422, msg, NULL);
            goto out;
        }
        if (rc < 0) {
            api_send_error(req, 500, "%s", err);
            goto out;
        }
        json_int_t errors = json_integer_value(json_object_get(answer, "errors"));
        json_int_t events = json_integer_value(json_object_get(answer, "events"));
        if (errors > 0) {
            json_t *extra = json_object();
            snprintf(msg, sizeof msg,
                     "version %lld fails its dry run on %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                     " sampled event(s), not activated",
                     version, errors, events);
            json_object_set_new(extra, "events", json_integer(events));
            json_object_set_new(extra, "errors", json_integer(errors));
            json_object_set_new(extra, "failures", api_rules_failures(answer, API_ACTIVATE_FAILURES));
            api_rules_fail(req, 422, msg, extra);
            goto out;
        }
        dry = json_object();
        json_object_set_new(dry, "events", json_integer(events));
        json_object_set_new(dry, "errors", json_integer(0));
        json_object_set_new(dry, "dropped", json_incref(json_object_get(answer, "dropped")));
    }
    if (rules_store_activate(req->deps->store, req->param, (uint32_t)version, err, sizeof err) < 0) {
        json_decref(dry);
        log_error("api", "%s", err);
        api_send_error(req, 500, "cannot activate: %s", err);
        goto out;
    }
    const char *what = version == 0 ? "deactivated" : previous && version < previous ? "rolled back" : "activated";
    char detail[512];
    snprintf(detail, sizeof detail, "%s v%lld %s (was v%lld)", req->param, version, what, previous);
    store_audit(req->deps->store, req->user.name, "rule.activate", detail);
    log_fields(LOG_INFO, "api", "rule activation changed", "user", req->user.name, "rule", req->param, "change",
               what, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(req->param));
    json_object_set_new(o, "active_version", version ? json_integer(version) : json_null());
    json_object_set_new(o, "previous_version", previous ? json_integer(previous) : json_null());
    json_object_set_new(o, "change", json_string(what));
    json_object_set_new(o, "dry_run", dry ? dry : json_null());
    api_rules_send(req, 200, o);
out:
    free(source);
    free(pattern);
    json_decref(rule);
    json_decref(answer);
    json_decref(body);
}

void api_rules_diff(api_request *req)
{
    char err[512], *a = NULL, *b = NULL;
    long long from = -1, to = -1;
    if (api_query_int(req, "from", 0, UINT32_MAX, &from) < 0 ||
        api_query_int(req, "to", 0, UINT32_MAX, &to) < 0)
        return;
    if (from < 0 || to < 0) {
        api_send_error(req, 400, "give from=VERSION and to=VERSION (0: the empty text)");
        return;
    }
    long long want[2] = {from, to};
    char **text[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        int rc = rules_history_source(req->deps->store, req->param, (uint32_t)want[i], want[i] ? text[i] : NULL,
                                      NULL, err, sizeof err);
        if (rc != 0) {
            api_rules_history_fail(req, rc, (uint32_t)want[i], err);
            goto out;
        }
    }
    char la[API_PARAM_MAX + 32], lb[API_PARAM_MAX + 32];
    snprintf(la, sizeof la, "%s v%lld", req->param, from);
    snprintf(lb, sizeof lb, "%s v%lld", req->param, to);
    buf d = BUF_INIT;
    long changes = rules_diff_unified(a ? a : "", b ? b : "", la, lb, &d);
    if (changes < 0) {
        buf_free(&d);
        api_send_error(req, 500, "out of memory");
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(req->param));
    json_object_set_new(o, "from", json_integer(from));
    json_object_set_new(o, "to", json_integer(to));
    json_object_set_new(o, "changes", json_integer(changes));
    json_object_set_new(o, "diff", api_rules_text(d.data ? d.data : ""));
    buf_free(&d);
    api_rules_send(req, 200, o);
out:
    free(a);
    free(b);
}

void api_rules_dead_letters(api_request *req)
{
    char err[512];
    long long limit = API_DEAD_LETTERS_DEFAULT;
    if (api_query_int(req, "limit", 1, API_DEAD_LETTERS_MAX, &limit) < 0)
        return;
    json_t *dl = rules_history_dead_letters(req->deps->store, (int)limit, err, sizeof err);
    if (!dl) {
        log_error("api", "rules: %s", err);
        api_send_error(req, 500, "cannot read the dead letters");
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "dead_letters", dl);
    api_rules_send(req, 200, o);
}

/* The "ids" member: a list of 1 to API_REPLAY_IDS_MAX positive whole numbers into ids; *n 0 when
 * absent. 0, or -1 (400 sent). */
static int api_rules_replay_ids(api_request *req, const json_t *body, int64_t *ids, size_t *n)
{
    json_t *list = json_object_get(body, "ids"), *v;
    size_t i;
    *n = 0;
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > API_REPLAY_IDS_MAX) {
        api_send_error(req, 400, "\"ids\" must be a list of 1 to %d dead letter ids", API_REPLAY_IDS_MAX);
        return -1;
    }
    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            api_send_error(req, 400, "\"ids\" must hold dead letter ids (positive whole numbers)");
            return -1;
        }
        ids[(*n)++] = (int64_t)json_integer_value(v);
    }
    return 0;
}

void api_rules_dead_letters_replay(api_request *req)
{
    char err[512], detail[256];
    const char *rule = NULL;
    int64_t *ids = calloc(API_REPLAY_IDS_MAX, sizeof *ids);
    size_t nids = 0;
    json_t *body = NULL;
    if (!ids) {
        api_send_error(req, 500, "out of memory");
        return;
    }
    if (!(body = api_read_json(req)))
        goto out;
    json_t *all = json_object_get(body, "all");
    if (api_rules_replay_ids(req, body, ids, &nids) < 0 || api_rules_body_string(req, body, "rule", &rule) < 0)
        goto out;
    if (all && !json_is_boolean(all)) {
        api_send_error(req, 400, "\"all\" must be true or false");
        goto out;
    }
    if ((nids != 0) + (rule != NULL) + json_is_true(all) != 1) {
        api_send_error(req, 400, "give one of \"ids\" (a list of dead letter ids), \"rule\" (a rule's name) or "
                       "\"all\": true");
        goto out;
    }
    if (rule && !api_rules_name_ok(rule)) {
        api_send_error(req, 400, "\"rule\" must be a rule name");
        goto out;
    }
    rules_replay_counts c;
    if (rules_replay_request(req->deps->store, ids, nids, rule, json_is_true(all), &c, err, sizeof err) < 0) {
        log_error("api", "%s", err);
        api_send_error(req, 500, "cannot request the replay: %s", err);
        goto out;
    }
    if (nids && c.missing == (long)nids) {
        api_send_error(req, 404, "no dead letter has those ids");
        goto out;
    }
    snprintf(detail, sizeof detail, "%s%.100s: %ld requested", rule ? "rule " : nids ? "ids" : "all",
             rule ? rule : "", c.requested);
    store_audit(req->deps->store, req->user.name, "rule.replay", detail);
    log_fields(LOG_INFO, "api", "dead letters requested for replay", "user", req->user.name, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "requested", json_integer(c.requested));
    json_object_set_new(o, "already", json_integer(c.already));
    json_object_set_new(o, "unreplayable", json_integer(c.unreplayable));
    json_object_set_new(o, "missing", json_integer(c.missing));
    json_object_set_new(o, "note", json_string(
        c.requested ? "The pipeline replays them through the active rules at the commit of the next transaction "
                      "it captures from the source; on an idle source it writes one within about a second "
                      "(rules.replay_writes_transaction; when that is off, an idle source delays the replay "
                      "until something changes there). A replay that fails again becomes a new dead letter."
                    : "Nothing to replay: the dead letters named are already requested or replayed, or were "
                      "recorded before replays existed."));
    api_rules_send(req, 202, o);
out:
    free(ids);
    json_decref(body);
}
