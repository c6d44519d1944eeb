/* store: the appliance's SQLite database (WAL mode): settings, users, sessions, audit,
 * and later schema versions and rules. Opening runs the versioned migrations in migrations.c.
 * The handle is safe to share between threads (SQLite serialized mode plus a store mutex
 * around multi-statement work). Ownership: store_open() returns a handle the caller frees
 * with store_close(); the secrets handle passed in is borrowed and must outlive the store. */
#ifndef SLUICE_STORE_STORE_H
#define SLUICE_STORE_STORE_H

#include <sqlite3.h>
#include "store/secrets.h"

typedef struct store store;

/* Open or create the database at path and migrate it to the newest schema.
 * sec encrypts settings of type secret (may be NULL only for read-only tools that never
 * touch secrets). On failure returns NULL with the reason in err. */
store *store_open(const char *path, secrets *sec, char *err, size_t errlen);
void store_close(store *st);

sqlite3 *store_db(store *st);          /* for modules with their own tables */
secrets *store_secrets(store *st);
void store_lock(store *st);            /* hold around multi-statement transactions */
void store_unlock(store *st);

/* Schema version after migrations, and the newest one this binary knows. */
int store_schema_version(store *st);
int store_schema_latest(void);

/* Settings. Keys are validated against the config maps (confmap.h); values are checked
 * by type. Secrets are stored sealed (secrets.h) and returned in plain text by
 * store_setting_get: never log or export what it returns for a secret.
 * store_setting_get: *value is malloc'd (caller frees), NULL when unset. Returns 0 or -1.
 * store_setting_set: value NULL removes the setting (default applies). Returns 0 or -1. */
int store_setting_get(store *st, const char *key, char **value, char *err, size_t errlen);
int store_setting_set(store *st, const char *key, const char *value, char *err, size_t errlen);

/* 1 once the first-boot seed has been applied (store_seed), else 0. */
int store_is_seeded(store *st);

/* Append an audit record (who did what). actor may be "system". */
int store_audit(store *st, const char *actor, const char *action, const char *detail);

#endif
