/* demo_cluster: the demo's private PostgreSQL server. initdb into a fresh data directory
 * (as user postgres when sluice runs as root), configure it for logical decoding on 127.0.0.1
 * only, run `postgres` as a direct child that dies with sluice, wait until it accepts
 * connections, and stop it (fast shutdown, then SIGKILL). */
#ifndef SLUICE_DEMO_CLUSTER_H
#define SLUICE_DEMO_CLUSTER_H

#include <stddef.h>
#include <libpq-fe.h>

#include "demo/demo_proc.h"

typedef struct demo_cluster demo_cluster;

/* Find the server binaries (pg_config --bindir, then /usr/lib/postgresql/15/bin) and, when
 * running as root, the postgres user. datadir must be absolute; it is created by init.
 * NULL with the reason in err. */
demo_cluster *demo_cluster_create(const char *datadir, int port, char *err, size_t errlen);
/* Stops the server if it still runs. Accepts NULL. */
void demo_cluster_destroy(demo_cluster *c);

/* initdb into the (absent or empty) data directory and write postgresql.conf / pg_hba.conf.
 * On failure err holds the reason and the tail of initdb's output. */
int demo_cluster_init(demo_cluster *c, demo_interrupt_fn interrupt, void *ctx,
                      char *err, size_t errlen);
/* Start postgres in the background; fails at once when the port is taken. */
int demo_cluster_start(demo_cluster *c, char *err, size_t errlen);
/* Wait until the server accepts connections (and is ours: same data directory). On failure
 * err holds the reason and the tail of the server log. */
int demo_cluster_wait_ready(demo_cluster *c, long timeout_ms, demo_interrupt_fn interrupt,
                            void *ctx, char *err, size_t errlen);
/* Fast shutdown (SIGINT), up to 30 s, then SIGKILL. No-op when not running. */
void demo_cluster_stop(demo_cluster *c);

int demo_cluster_port(const demo_cluster *c);
const char *demo_cluster_bindir(const demo_cluster *c);
const char *demo_cluster_log_path(const demo_cluster *c);

/* Copy a libpq message into out as one line: runs of whitespace (libpq's "\n\t") become one
 * space, trailing whitespace is dropped. */
void demo_pg_message_copy(char *out, size_t outlen, const char *msg);

/* Connect over TCP to 127.0.0.1:port as user postgres (trust), notices silenced.
 * NULL with the reason in err. */
PGconn *demo_pg_connect(int port, const char *dbname, const char *application_name,
                        char *err, size_t errlen);

#endif
