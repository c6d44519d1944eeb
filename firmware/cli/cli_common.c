/* cli_common: option parsing and store opening shared by the subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_state_dir_default(void)
{
    const char *s = getenv("SLUICE_STATE_DIR");
    return s && *s ? s : "/var/lib/sluice";
}

const char *cli_config_default(void)
{
    const char *s = getenv("SLUICE_CONFIG");
    if (s && *s)
        return s;
    return access("/etc/sluice/sluice.conf", R_OK) == 0 ? "/etc/sluice/sluice.conf" : NULL;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_option(int argc, char **argv, int *i, const char *opt, const char **out)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "sluice: option %s needs a value\n", opt);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

store *cli_store_open(const char *state_dir, secrets **sec_out)
{
    char path[4096], err[512];
    struct stat sb;
    store *st = NULL;

    snprintf(path, sizeof path, "%s/sluice.db", state_dir);
    if (stat(path, &sb) < 0) {
        fprintf(stderr, "sluice: no store at %s (start the daemon once, or pass --state-dir)\n", path);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/secret.key", state_dir);
    secrets *sec = secrets_create(path, err, sizeof err);
    if (!sec) {
        fprintf(stderr, "sluice: %s\n", err);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/sluice.db", state_dir);
    st = store_open(path, sec, err, sizeof err);
    if (!st) {
        fprintf(stderr, "sluice: %s\n", err);
        secrets_destroy(sec);
        return NULL;
    }
    *sec_out = sec;
    return st;
}

void cli_store_close(store *st, secrets *sec)
{
    store_close(st);
    secrets_destroy(sec);
}
