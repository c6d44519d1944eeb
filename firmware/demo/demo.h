/* demo: `sluice demo`, a self-contained try-out. Starts a private PostgreSQL with a small shop
 * database (config/demo/schema.sql, seed.sql) and a live workload, points the appliance's
 * source at it, and runs the appliance with its console until Ctrl-C, then stops everything.
 * The demo's state is recreated at every start. */
#ifndef SLUICE_DEMO_DEMO_H
#define SLUICE_DEMO_DEMO_H

/* argv[0] is "demo". Returns the process exit code (0 also after Ctrl-C, 1 failure, 2 usage). */
int demo_main(int argc, char **argv);

#endif
