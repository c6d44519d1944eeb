/* migrations: the ordered list of schema changes applied by store_open(). */
#include "store/migrations.h"

const store_migration store_migrations[] = {
    {1, "settings, users, sessions, audit",
     "CREATE TABLE meta ("
     "  key TEXT PRIMARY KEY,"
     "  value TEXT NOT NULL);"
     "CREATE TABLE settings ("
     "  key TEXT PRIMARY KEY,"
     "  value TEXT NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE users ("
     "  name TEXT PRIMARY KEY,"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),"
     "  password_hash TEXT NOT NULL,"
     "  must_change INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE sessions ("
     "  token_hash TEXT PRIMARY KEY,"
     "  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL);"
     "CREATE INDEX sessions_expiry ON sessions(expires_at);"
     "CREATE TABLE audit ("
     "  id INTEGER PRIMARY KEY,"
     "  ts INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  detail TEXT);"},
    {2, "capture: table schema versions and per-slot capture state",
     "CREATE TABLE schema_versions ("
     "  table_oid INTEGER NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  schema_name TEXT NOT NULL,"
     "  table_name TEXT NOT NULL,"
     "  columns TEXT NOT NULL,"          /* JSON array of {name, type, type_oid, typmod, key} */
     "  lsn TEXT NOT NULL,"              /* where the version was first seen */
     "  created_at INTEGER NOT NULL,"
     "  PRIMARY KEY (table_oid, version));"
     "CREATE TABLE capture_state ("
     "  slot TEXT PRIMARY KEY,"
     "  snapshot_done INTEGER NOT NULL DEFAULT 0,"
     "  consistent_lsn TEXT,"
     "  updated_at INTEGER NOT NULL);"},
    {3, "bronze: per-table watermarks and upload intents",
     "CREATE TABLE bronze_tables ("
     "  source TEXT NOT NULL,"
     "  table_name TEXT NOT NULL,"      /* schema.table */
     "  done_lsn INTEGER NOT NULL,"     /* position of the last event in a durable object */
     "  done_seq INTEGER NOT NULL,"
     "  pending_key TEXT,"              /* an object being uploaded, and its last position */
     "  pending_lsn INTEGER,"
     "  pending_seq INTEGER,"
     "  updated_at INTEGER NOT NULL,"
     "  PRIMARY KEY (source, table_name));"},
    {4, "rules: versioned transformation rules, dead letters, reference data for lookups",
     "CREATE TABLE rules ("
     "  name TEXT PRIMARY KEY,"
     "  pattern TEXT NOT NULL,"          /* schema.table glob */
     "  position INTEGER NOT NULL,"      /* order of matching: the first matching rule applies */
     "  active_version INTEGER,"         /* NULL: not active */
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE rule_versions ("
     "  name TEXT NOT NULL REFERENCES rules(name) ON DELETE CASCADE,"
     "  version INTEGER NOT NULL,"
     "  source TEXT NOT NULL,"
     "  author TEXT NOT NULL,"
     "  comment TEXT NOT NULL DEFAULT '',"
     "  created_at INTEGER NOT NULL,"
     "  PRIMARY KEY (name, version));"
     "CREATE TABLE dead_letters ("
     "  id INTEGER PRIMARY KEY,"
     "  ts INTEGER NOT NULL,"
     "  rule TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  error TEXT NOT NULL,"
     "  table_name TEXT NOT NULL,"
     "  lsn TEXT NOT NULL,"
     "  event TEXT NOT NULL,"            /* the Debezium envelope of the event as captured */
     "  replayed_at INTEGER);"
     "CREATE TABLE reference_data ("
     "  table_name TEXT NOT NULL,"
     "  key TEXT NOT NULL,"
     "  value TEXT NOT NULL,"
     "  PRIMARY KEY (table_name, key));"},
    {5, "rules: replayable dead letters",
     "ALTER TABLE dead_letters ADD COLUMN event_typed TEXT;"     /* rules_typed.h: the event, rebuildable */
     "ALTER TABLE dead_letters ADD COLUMN event_key TEXT;"       /* SHA-256 of event_typed: recorded once */
     "ALTER TABLE dead_letters ADD COLUMN replay_state TEXT NOT NULL DEFAULT 'none'"
     "  CHECK (replay_state IN ('none', 'requested', 'replayed'));"
     "ALTER TABLE dead_letters ADD COLUMN replay_lsn INTEGER;"   /* end LSN of the transaction replaying it */
     "ALTER TABLE dead_letters ADD COLUMN replay_seq INTEGER;"   /* its position among that transaction's replays */
     "ALTER TABLE dead_letters ADD COLUMN replay_result TEXT;"
     "ALTER TABLE dead_letters ADD COLUMN replay_of INTEGER;"    /* the dead letter whose replay failed again */
     "CREATE INDEX dead_letters_replay ON dead_letters(replay_state, replay_lsn);"
     "CREATE INDEX dead_letters_event_key ON dead_letters(event_key);"},
    {6, "lake: Iceberg SQL catalog (the Iceberg JDBC catalog's table layout)",
     "CREATE TABLE iceberg_tables ("
     "  catalog_name VARCHAR(255) NOT NULL,"
     "  table_namespace VARCHAR(255) NOT NULL,"
     "  table_name VARCHAR(255) NOT NULL,"
     "  metadata_location VARCHAR(1000),"
     "  previous_metadata_location VARCHAR(1000),"
     "  PRIMARY KEY (catalog_name, table_namespace, table_name));"},
};

const size_t store_migrations_count = sizeof store_migrations / sizeof store_migrations[0];
