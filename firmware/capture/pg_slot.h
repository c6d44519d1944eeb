/* pg_slot: the replication slot and the publication. Creates or reuses a pgoutput slot (with an
 * exported snapshot for the initial snapshot) and a publication (all tables, or a list that can
 * grow and shrink later). */
#ifndef SLUICE_CAPTURE_PG_SLOT_H
#define SLUICE_CAPTURE_PG_SLOT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

typedef struct pg_slot_info {
    int exists;
    int active;                 /* some walsender uses it now */
    int lost;                   /* wal_status = 'lost': its position is no longer available */
    char plugin[64];
    char database[64];
    uint64_t confirmed_flush;   /* 0 when unknown */
    uint64_t restart_lsn;
} pg_slot_info;

/* Look the slot up (normal connection). 0 (out->exists tells) or -1 with the reason. */
int pg_slot_get(PGconn *c, const char *slot, pg_slot_info *out, char *err, size_t errlen);
/* CREATE_REPLICATION_SLOT slot LOGICAL pgoutput on a replication connection. With export_snapshot
 * the snapshot's name goes to snapshot_name (64 bytes) and stays valid until the next command on
 * repl; else NOEXPORT_SNAPSHOT. *consistent_lsn receives the slot's consistent point. */
int pg_slot_create(PGconn *repl, const char *slot, int export_snapshot, char snapshot_name[64],
                   uint64_t *consistent_lsn, char *err, size_t errlen);
/* Drop the slot (normal connection); a missing slot is not an error. */
int pg_slot_drop(PGconn *c, const char *slot, char *err, size_t errlen);

/* Make sure publication name exists and covers tables: NULL or "" = FOR ALL TABLES, else a
 * comma-separated list of [schema.]table; an existing list publication is brought to exactly
 * that list (ALTER PUBLICATION ... SET TABLE). Publishes insert, update, delete, truncate. */
int pg_publication_ensure(PGconn *c, const char *name, const char *tables, char *err, size_t errlen);

#endif
