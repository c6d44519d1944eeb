/* pg_schema: the registry of captured tables' definitions and their schema versions.
 * Both the snapshot (from the catalogs) and the stream (from pgoutput Relation messages) propose
 * a table's current definition; when the columns differ from the last known version (added,
 * dropped, renamed or retyped columns, key changes), the registry makes a new version, records it
 * in the store (table schema_versions) and returns it. Versions survive restarts.
 * Ownership: table_defs returned stay valid until pg_schema_destroy(). */
#ifndef SLUICE_CAPTURE_PG_SCHEMA_H
#define SLUICE_CAPTURE_PG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include "pipeline/event.h"
#include "store/store.h"

typedef struct pg_schema pg_schema;

/* st may be NULL (versions then start at 1 and are not recorded). */
pg_schema *pg_schema_create(store *st);
void pg_schema_destroy(pg_schema *s);

/* Propose def (deep-copied; its version field is ignored) for its oid. *changed (may be NULL) is 1
 * when this made a new version. Returns the current table_def, or NULL with the reason in err. */
const table_def *pg_schema_update(pg_schema *s, const table_def *def, uint64_t lsn, int *changed,
                                  char *err, size_t errlen);
/* The current definition for oid, or NULL. */
const table_def *pg_schema_get(pg_schema *s, uint32_t oid);

#endif
