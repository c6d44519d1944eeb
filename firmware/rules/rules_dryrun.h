/* rules_dryrun: runs a rule (saved or a draft) on the sample of recently captured events
 * (rules_sample.h) without touching the pipeline: the rule is compiled in its own sandbox, as the
 * pipeline would (chunk name = the rule's name, transform required), and called on every sampled
 * event of the tables its pattern matches (at most RULES_DRY_RUN_EVENTS, the most recent). Each
 * event goes to transform in the shape the pipeline gives it ({op, before, after, source} with
 * source's schema, table, db, lsn, txId, ts_ms, snapshot), built from its Debezium JSON; values
 * are Debezium's JSON forms (numeric as text, timestamps as numbers; bytea as base64 where the
 * pipeline passes raw bytes, timestamp and time of precision 0-3 in milliseconds where it passes
 * microseconds).
 * The answer: {events, errors, dropped, truncated, results: [{table, before, after, error}
 * (+ route when the rule has route())]}, before being the event given to transform, after the
 * list of resulting events (null when dropped or failed), route the list of route's answers for
 * them as the pipeline reads them (null, a table name, or {topic, table}: rules_route.h; a name
 * the pipeline would refuse fails the event, as it would dead-letter it), error null or the
 * reason. Only the first max_results results are listed; the counts cover every event.
 * Ownership: the answer belongs to the caller (json_decref). */
#ifndef SLUICE_RULES_RULES_DRYRUN_H
#define SLUICE_RULES_RULES_DRYRUN_H

#include <stddef.h>

#include <jansson.h>

#include "rules/rules_sample.h"
#include "rules/rules_vm.h"

#define RULES_DRY_RUN_EVENTS 1000

/* Compile source as rule name without running it on anything, in a sandbox with the limits lim
 * (NULL: the defaults), as the pipeline would. 0, or -1 with the Lua message. */
int rules_dry_run_compile(const char *name, const char *source, const rules_limits *lim,
                          const rules_lookup_ops *lookups, char *err, size_t errlen);

/* Run source (rule name, tables matching pattern) on sample (NULL: empty) with the limits lim
 * (NULL: the defaults; give the pipeline's, rules.*, so that a dry run fails where it would).
 * *out gets the answer. 0; -1 when it does not compile (the Lua message in err); -2 out of
 * memory. */
int rules_dry_run(const char *name, const char *pattern, const char *source, rules_sample *sample,
                  const rules_limits *lim, const rules_lookup_ops *lookups, size_t max_results, json_t **out,
                  char *err, size_t errlen);

#endif
