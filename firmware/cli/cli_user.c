/* cli_user: `sluice user reset-password NAME`: a new one-time password for a console user,
 * for when the first one is lost. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/users.h"

static const char usage[] =
    "usage: sluice user reset-password NAME [--state-dir DIR]\n"
    "\n"
    "Gives NAME a new one-time password, printed once; the console asks for a new password\n"
    "at the next login. --state-dir defaults to $SLUICE_STATE_DIR or /var/lib/sluice.\n";

int cli_user(int argc, char **argv)
{
    const char *state_dir = cli_state_dir_default(), *name = NULL, *cmd = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &state_dir))) {
            if (r < 0)
                return CLI_USAGE;
        } else if (!cmd) {
            cmd = argv[i];
        } else if (!name) {
            name = argv[i];
        } else {
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (!cmd || !name || strcmp(cmd, "reset-password") != 0) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    secrets *sec = NULL;
    store *st = cli_store_open(state_dir, &sec);
    if (!st)
        return CLI_FAILED;
    char err[512], *onetime = NULL;
    int rc = CLI_FAILED;
    if (users_reset_password(st, name, &onetime, err, sizeof err) < 0) {
        fprintf(stderr, "sluice user reset-password: %s\n", err);
    } else {
        printf("one-time password for %s: %s\n", name, onetime);
        store_audit(st, "cli", "user.reset_password", name);
        rc = CLI_OK;
    }
    secrets_free_plain(onetime);
    cli_store_close(st, sec);
    return rc;
}
