/* pg_types: PostgreSQL types to Sluice values. Maps built-in type OIDs to value kinds and parses
 * the server's text output of each type into the typed value (event.h). Text comes from
 * pgoutput (text mode) and from snapshot queries alike, so both produce identical events.
 * Assumes the session settings the capture sets: DateStyle ISO, IntervalStyle postgres,
 * TimeZone UTC, extra_float_digits 3, bytea_output hex. */
#ifndef SLUICE_CAPTURE_PG_TYPES_H
#define SLUICE_CAPTURE_PG_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "pipeline/event.h"

/* Kind for a built-in type OID (unknown and user-defined types: VALUE_TEXT); for array types
 * *elem_kind receives the element kind (may be NULL). */
value_kind pg_type_kind(uint32_t type_oid, value_kind *elem_kind);
/* Built-in type name for an OID ("int4"), or NULL when not built in. */
const char *pg_type_name(uint32_t type_oid);
/* The session settings the parsers rely on, as one SQL statement. */
extern const char pg_types_session_sql[];

/* Parse text (len bytes, not necessarily NUL-terminated) of a value of kind into out
 * (state VALUE_PRESENT). out->s points to text, or to decoded bytes allocated in a (BYTES).
 * Returns 0, or -1 with the reason in err when the text is not a valid value of that kind. */
int pg_value_parse(value_kind kind, const char *text, size_t len, value *out, arena *a, char *err,
                   size_t errlen);

#endif
