/* main: the `sluice` command: parses the subcommand and hands over.
 *   sluice run | demo | capture | check | snapshot | config | rules | user | version, each with --help. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "daemon.h"
#include "demo/demo.h"

extern char **environ;

static const char usage[] =
    "usage: sluice COMMAND [OPTIONS]\n"
    "\n"
    "Sluice: PostgreSQL change data capture to Kafka and an S3 lake.\n"
    "\n"
    "commands:\n"
    "  run       run the appliance (daemon)\n"
    "  demo      run a private PostgreSQL with a live workload and the appliance\n"
    "  capture   capture changes to a file or stdout as Debezium JSON lines\n"
    "  check     validate configuration and print every problem with its location\n"
    "  snapshot  re-snapshot tables while the capture streams (incremental snapshot)\n"
    "  config    export, import, get and set settings; print the configuration reference\n"
    "  rules     transformation rules (Lua): test against fixtures, add, activate, list\n"
    "  user      console user administration (reset a password)\n"
    "  version   print the version\n"
    "\n"
    "`sluice COMMAND --help` describes each command.\n";

static const char run_usage[] =
    "usage: sluice run [--state-dir DIR] [--config FILE] [--listen HOST:PORT]\n"
    "\n"
    "Runs the appliance until SIGTERM or SIGINT (drains, exits 0); SIGHUP reloads settings.\n"
    "  --state-dir DIR    store, key file and state (default $SLUICE_STATE_DIR or /var/lib/sluice)\n"
    "  --config FILE      settings file that seeds the store at first boot (default\n"
    "                     $SLUICE_CONFIG or /etc/sluice/sluice.conf when present)\n"
    "  --listen HOST:PORT console address, overriding the console.listen setting\n"
    "At first boot SLUICE_* environment variables seed settings too, and an admin user is\n"
    "created whose one-time password is printed once.\n";

static int cmd_run(int argc, char **argv)
{
    daemon_options opts = {.state_dir = cli_state_dir_default(), .config_path = cli_config_default(),
                           .envp = environ};
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(run_usage, stdout);
            return CLI_OK;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &opts.state_dir)) ||
            (r = cli_option(argc, argv, &i, "--config", &opts.config_path)) ||
            (r = cli_option(argc, argv, &i, "--listen", &opts.listen))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        fprintf(stderr, "sluice run: unknown argument '%s'\n%s", argv[i], run_usage);
        return CLI_USAGE;
    }
    char err[512];
    sluice_daemon *d = daemon_create(&opts, err, sizeof err);
    if (!d) {
        log_error("daemon", "cannot start: %s", err);
        return CLI_FAILED;
    }
    int rc = daemon_run(d);
    daemon_destroy(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && cli_is_help(argv[2])) {
            puts("usage: sluice version\n\nPrints the version of this sluice binary.");
            return CLI_OK;
        }
        printf("sluice %s\n", SLUICE_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return demo_main(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0)
        return cli_config(argc - 1, argv + 1);
    if (strcmp(cmd, "capture") == 0)
        return cli_capture(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return cli_snapshot(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cli_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cli_user(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n%s", cmd, usage);
    return CLI_USAGE;
}
