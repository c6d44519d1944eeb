/* config: an immutable snapshot of every setting's effective value (store value or default),
 * loaded from the store at start-up and again on SIGHUP. Also first-boot seeding and the
 * export/import of the whole store.
 * Ownership: config_load() returns a snapshot freed by config_destroy(); returned strings are
 * owned by the snapshot. Secret values are held in plain text in memory only. */
#ifndef SLUICE_STORE_CONFIG_H
#define SLUICE_STORE_CONFIG_H

#include "core/buf.h"
#include "store/confmap.h"
#include "store/store.h"

typedef struct config config;

config *config_load(store *st, char *err, size_t errlen);
void config_destroy(config *c);

/* Effective value; NULL when unset without default. Key must be declared in a config map. */
const char *config_get(const config *c, const char *key);
long long config_int(const config *c, const char *key);
int config_bool(const config *c, const char *key);
long long config_duration_ms(const config *c, const char *key);

/* Append to out the keys whose effective value differs between a and b, comma-separated. */
void config_diff(const config *a, const config *b, buf *out);

/* First boot: apply entries (already checked) to an unseeded store and mark it seeded.
 * Returns 0, or -1 with the reason in err (nothing applied). */
int config_seed(store *st, const conf_entries *entries, char *err, size_t errlen);

/* Export the whole store (settings with secrets still sealed, users with password hashes)
 * as JSON to out. */
int config_export(store *st, buf *out, char *err, size_t errlen);
/* Import such an export into st, replacing settings and users, in one transaction.
 * Problems (unknown keys, bad values, bad format) are reported and nothing is changed.
 * Returns 0 on success, -1 otherwise. */
int config_import(store *st, const char *json, conf_problems *problems);

#endif
