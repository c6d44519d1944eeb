/* rules_typed: a change event in a typed, reconstructible JSON form, so a dead letter can be
 * replayed as the very event the capture produced. The form holds the table definition (oid,
 * schema, name, replica identity, schema version, and each column's name, type OID, typmod, type
 * name, kind, element kind, key, primary-key and NOT NULL flags, enum labels), op, snapshot flag,
 * LSN, sequence number, the transaction (xid, final and end LSN, commit time) and each image's
 * values as PostgreSQL's text: a string, null for SQL NULL, {"unavailable": true} for an
 * unchanged TOASTed value, {"hex": "..."} for bytes (always for bytea, whose value holds decoded
 * bytes, and for text that is not UTF-8). Rebuilding parses each text with the capture's own
 * parser (pg_value_parse), so the rebuilt event equals the original value by value.
 * Ownership: rules_typed_from_event returns a new reference (json_decref). A rebuilt event's
 * values and transaction live in the arena given; its table definition belongs to the
 * rules_typed_defs, which keeps every definition (one per distinct shape) until it is destroyed,
 * so sinks may keep pointers to them. Not thread-safe. */
#ifndef SLUICE_RULES_RULES_TYPED_H
#define SLUICE_RULES_RULES_TYPED_H

#include <stddef.h>

#include <jansson.h>

#include "core/arena.h"
#include "pipeline/event.h"

#define RULES_TYPED_FORMAT 1   /* "format" member of the JSON */

/* ev as typed JSON; NULL when out of memory. */
json_t *rules_typed_from_event(const event *ev);

/* The identity of a stored event: SHA-256 (lower-case hex) of its typed JSON text. */
void rules_typed_key(const char *typed_text, char out[65]);

typedef struct rules_typed_defs rules_typed_defs;
rules_typed_defs *rules_typed_defs_create(void);   /* NULL when out of memory */
void rules_typed_defs_destroy(rules_typed_defs *d);  /* accepts NULL */
/* Table definitions held (for tests and metrics). */
size_t rules_typed_defs_count(const rules_typed_defs *d);

/* Rebuild the event stored as j into *out (table from defs; values, text and tx in a).
 * 0, or -1 with the reason in err (not this format, a value that does not parse, ...). */
int rules_typed_to_event(const json_t *j, rules_typed_defs *defs, arena *a, event *out, char *err, size_t errlen);

#endif
