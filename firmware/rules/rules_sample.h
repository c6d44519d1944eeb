/* rules_sample: a bounded sample of recently captured events, for dry runs of rules in the
 * console. The rules stage records every event it sees, before any rule applies; the sample
 * keeps, per table, the last RULES_SAMPLE_PER_TABLE events as Debezium JSON values
 * (debezium_encode_value), for at most RULES_SAMPLE_TABLES tables (a new table takes the place
 * of the one recorded least recently) and RULES_SAMPLE_BYTES in all (the largest table gives up
 * its oldest events first). Cheap under load: at most RULES_SAMPLE_RATE events of a table are
 * recorded per second (the others are not even encoded), and events larger than
 * RULES_SAMPLE_EVENT_MAX bytes are skipped.
 * Thread-safe: one thread records (the pipeline), any thread collects (the API); a mutex guards
 * the rings. Ownership: the daemon creates it and passes it to the pipeline and the API, which
 * borrow it; collected events are copies the caller frees with rules_sample_events_free. */
#ifndef SLUICE_RULES_RULES_SAMPLE_H
#define SLUICE_RULES_RULES_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "encode/debezium_json.h"
#include "pipeline/event.h"

#define RULES_SAMPLE_PER_TABLE 50
#define RULES_SAMPLE_TABLES 200
#define RULES_SAMPLE_EVENT_MAX (64u * 1024)
#define RULES_SAMPLE_BYTES (16u * 1024 * 1024)
#define RULES_SAMPLE_RATE 50   /* events recorded per table per second, at most */

typedef struct rules_sample rules_sample;

rules_sample *rules_sample_create(void);        /* NULL when out of memory */
void rules_sample_destroy(rules_sample *s);     /* accepts NULL */

/* Record ev (encoded with enc) at monotonic time now_ms, subject to the rate and size limits.
 * s may be NULL (no sample: nothing happens). */
void rules_sample_record(rules_sample *s, const event *ev, debezium_encoder *enc, int64_t now_ms);
/* Record one event given as Debezium JSON text of table "schema.table" (the same limits; for
 * tests). 1 recorded, 0 skipped (rate, size), -1 out of memory. */
int rules_sample_add(rules_sample *s, const char *table, const char *json, size_t len, int64_t now_ms);

typedef struct rules_sample_event {
    char *table;    /* "schema.table" */
    char *json;     /* the Debezium JSON value */
    uint64_t seq;   /* order of recording across the whole sample */
} rules_sample_event;

/* Copies of the events of the tables matching pattern (a glob over schema.table, as rules use;
 * NULL: all), tables by name, each table's events oldest first. 0, or -1 when out of memory. */
int rules_sample_collect(rules_sample *s, const char *pattern, rules_sample_event **out, size_t *n);
void rules_sample_events_free(rules_sample_event *v, size_t n);   /* accepts NULL */

/* Events and tables held now. */
void rules_sample_stats(rules_sample *s, size_t *events, size_t *tables, size_t *bytes);

#endif
