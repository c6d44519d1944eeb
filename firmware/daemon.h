/* daemon: the appliance process. Owns the store, secrets, metrics, health and the console, and
 * runs the event loop: SIGTERM/SIGINT drain and stop (exit 0), SIGHUP reloads configuration.
 * Typical use (sluice run):
 *   d = daemon_create(&opts, err, sizeof err); rc = daemon_run(d); daemon_destroy(d);
 * `sluice demo` adds its own components between create and run (see demo/demo.c). */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <stddef.h>
#include "core/health.h"
#include "core/metrics.h"
#include "store/config.h"
#include "store/store.h"

typedef struct daemon_options {
    const char *state_dir;     /* holds sluice.db and secret.key; created 0700 when missing */
    const char *config_path;   /* declarative file that seeds the store at first boot; may be NULL */
    const char *listen;        /* overrides console.listen when non-NULL */
    char *const *envp;         /* SLUICE_* variables seed the store at first boot; may be NULL */
} daemon_options;

typedef struct sluice_daemon sluice_daemon;

/* Open the state directory and store; on first boot seed it from the file and environment and
 * create the admin user, printing its one-time password to stdout and the log. Installs the
 * signal handlers. NULL with the reason in err on failure. */
sluice_daemon *daemon_create(const daemon_options *opts, char *err, size_t errlen);
/* Start the console and loop until a stop is requested. Returns the process exit code. */
int daemon_run(sluice_daemon *d);
void daemon_destroy(sluice_daemon *d);

store *daemon_store(sluice_daemon *d);
metrics *daemon_metrics(sluice_daemon *d);
health *daemon_health(sluice_daemon *d);
/* The embedded Kafka broker's bootstrap servers, or NULL when it is not running. */
const char *daemon_kafka_bootstrap(const sluice_daemon *d);
/* 1 once SIGTERM/SIGINT arrived (usable before daemon_run, e.g. while the demo starts up). */
int daemon_stop_requested(const sluice_daemon *d);

#endif
