/* migrations: the store's schema history. Each entry upgrades the database from version-1 to
 * version (PRAGMA user_version); entries are applied in order, each in its own transaction.
 * Never edit a landed entry: add a new one. */
#ifndef SLUICE_STORE_MIGRATIONS_H
#define SLUICE_STORE_MIGRATIONS_H

#include <stddef.h>

typedef struct store_migration {
    int version;
    const char *description;
    const char *sql;
} store_migration;

extern const store_migration store_migrations[];
extern const size_t store_migrations_count;

#endif
