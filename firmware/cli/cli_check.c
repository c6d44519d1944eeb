/* cli_check: `sluice check`: validate a configuration file, the SLUICE_* environment and,
 * when asked, the settings in a store; print every problem with its location. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/config.h"
#include "store/config_file.h"

extern char **environ;

static const char usage[] =
    "usage: sluice check [--config FILE] [--state-dir DIR]\n"
    "\n"
    "Validates configuration and prints every problem as LOCATION: SETTING: PROBLEM.\n"
    "  --config FILE     configuration file to check (default: $SLUICE_CONFIG or\n"
    "                    /etc/sluice/sluice.conf when present)\n"
    "  --state-dir DIR   also check the settings stored in DIR's store\n"
    "SLUICE_* environment variables that name settings are checked too.\n"
    "Exit status: 0 no problems, 1 problems found, 2 usage error.\n";

int cli_check(int argc, char **argv)
{
    static const char *const reserved[] = {"SLUICE_STATE_DIR", "SLUICE_CONFIG", NULL};
    const char *config_path = NULL, *state_dir = NULL;
    conf_entries entries = {0};
    conf_problems problems = {0};

    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if ((r = cli_option(argc, argv, &i, "--config", &config_path)) ||
            (r = cli_option(argc, argv, &i, "--state-dir", &state_dir))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        fprintf(stderr, "sluice check: unknown argument '%s'\n%s", argv[i], usage);
        return CLI_USAGE;
    }
    if (!config_path)
        config_path = cli_config_default();

    if (config_path)
        config_file_read(config_path, &entries, &problems);
    config_env_read(environ, reserved, &entries, &problems);
    conf_entries_check(&entries, &problems);
    if (state_dir) {
        secrets *sec = NULL;
        store *st = cli_store_open(state_dir, &sec);
        if (!st) {
            conf_problems_add(&problems, state_dir, NULL, "cannot open the store");
        } else {
            char err[512];
            config *c = config_load(st, err, sizeof err);
            if (!c)
                conf_problems_add(&problems, "store", NULL, "%s", err);
            config_destroy(c);
            cli_store_close(st, sec);
        }
    }

    int rc = problems.n ? CLI_FAILED : CLI_OK;
    if (problems.n) {
        conf_problems_print(&problems, stdout);
        printf("%zu problem(s) found\n", problems.n);
    } else {
        printf("configuration ok: %zu setting(s)%s%s\n", entries.n, config_path ? " in " : "",
               config_path ? config_path : "");
    }
    conf_entries_free(&entries);
    conf_problems_free(&problems);
    return rc;
}
