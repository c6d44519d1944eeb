/* cli: the `sluice` subcommands other than run and demo, and the option parsing they share.
 * Each command takes (argc, argv) with argv[0] its own name and returns the exit code. */
#ifndef SLUICE_CLI_CLI_H
#define SLUICE_CLI_CLI_H

#include "store/store.h"

/* Exit codes: 0 ok, 1 the command failed (problems found), 2 usage error. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Default state directory: $SLUICE_STATE_DIR, else /var/lib/sluice. */
const char *cli_state_dir_default(void);
/* Default configuration file: $SLUICE_CONFIG, else /etc/sluice/sluice.conf when it exists, else NULL. */
const char *cli_config_default(void);
/* 1 when argv[i] is "--help" or "-h". */
int cli_is_help(const char *arg);
/* If argv[*i] is opt ("--opt VALUE" or "--opt=VALUE"), store VALUE in *out, advance *i, return 1.
 * Return -1 (message printed) when the value is missing, else 0. */
int cli_option(int argc, char **argv, int *i, const char *opt, const char **out);
/* Open the store of an existing state directory (key file and database must exist). */
store *cli_store_open(const char *state_dir, secrets **sec_out);
void cli_store_close(store *st, secrets *sec);

int cli_check(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_capture(int argc, char **argv);
int cli_snapshot(int argc, char **argv);
int cli_rules(int argc, char **argv);
/* `sluice rules add|activate|list|dead-letters` (argv[0] is the subcommand). */
int cli_rules_admin(int argc, char **argv);

#endif
