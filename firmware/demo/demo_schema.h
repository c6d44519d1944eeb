/* demo_schema: the demo's shop database. Finds the directory holding schema.sql and seed.sql
 * (config/demo in the source tree, /usr/share/sluice/demo when installed), creates database
 * `shop` and runs both files in it. */
#ifndef SLUICE_DEMO_SCHEMA_H
#define SLUICE_DEMO_SCHEMA_H

#include <stddef.h>

#define DEMO_SCHEMA_DBNAME "shop"

/* Find the SQL directory, in order: explicit (--demo-dir, may be NULL), $SLUICE_DEMO_DIR,
 * <dir of the executable>/../config/demo, <dir of the executable>/../../config/demo,
 * /usr/share/sluice/demo. The first holding schema.sql wins; an explicit choice that lacks it
 * is an error. 0 with the directory in out, or -1 listing the places searched. */
int demo_schema_locate(const char *explicit_dir, char *out, size_t outlen,
                       char *err, size_t errlen);
/* CREATE DATABASE shop on the server at 127.0.0.1:port, then run dir/schema.sql and
 * dir/seed.sql in it. 0 or -1 with the reason (file and server message) in err. */
int demo_schema_load(int port, const char *dir, char *err, size_t errlen);

#endif
