/* cli_config: `sluice config export|import|get|set|unset|reference`: the store's settings from
 * the shell. Secrets are read from standard input ("-") and never printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "store/config.h"
#include "store/confmap_doc.h"

static const char usage[] =
    "usage: sluice config COMMAND [--state-dir DIR] ...\n"
    "\n"
    "  export [--output FILE]  write the whole store (settings, users) as JSON; secrets stay encrypted\n"
    "  import FILE             replace settings and users with an export (all or nothing)\n"
    "  get KEY                 print a setting's effective value (secrets: only whether set)\n"
    "  set KEY VALUE           change a setting; VALUE '-' reads it from standard input\n"
    "  unset KEY               return a setting to its default\n"
    "  reference               print the configuration reference (Markdown)\n"
    "--state-dir defaults to $SLUICE_STATE_DIR or /var/lib/sluice. A running daemon applies\n"
    "changed settings on SIGHUP.\n";

static int read_all(FILE *f, buf *out)
{
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    return ferror(f) ? -1 : 0;
}

static int config_cmd_export(store *st, const char *output)
{
    char err[512];
    buf out = BUF_INIT;
    int rc = CLI_FAILED;
    if (config_export(st, &out, err, sizeof err) < 0) {
        fprintf(stderr, "sluice config export: %s\n", err);
        goto out;
    }
    FILE *f = output ? fopen(output, "w") : stdout;
    if (!f) {
        fprintf(stderr, "sluice config export: cannot write %s: %s\n", output, strerror(errno));
        goto out;
    }
    fwrite(out.data, 1, out.len, f);
    if ((output ? fclose(f) : fflush(f)) != 0) {
        fprintf(stderr, "sluice config export: write failed: %s\n", strerror(errno));
        goto out;
    }
    rc = CLI_OK;
out:
    buf_free(&out);
    return rc;
}

static int config_cmd_import(store *st, const char *path)
{
    buf text = BUF_INIT;
    conf_problems problems = {0};
    int rc = CLI_FAILED;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sluice config import: cannot read %s: %s\n", path, strerror(errno));
        goto out;
    }
    int read_rc = read_all(f, &text);
    if (f != stdin)
        fclose(f);
    if (read_rc < 0) {
        fprintf(stderr, "sluice config import: cannot read %s\n", path);
        goto out;
    }
    if (config_import(st, text.data ? text.data : "", &problems) < 0) {
        conf_problems_print(&problems, stderr);
        fprintf(stderr, "sluice config import: nothing was changed\n");
        goto out;
    }
    store_audit(st, "cli", "config.import", path);
    printf("imported %s\n", path);
    rc = CLI_OK;
out:
    conf_problems_free(&problems);
    buf_free(&text);
    return rc;
}

static int config_cmd_get(store *st, const char *key)
{
    char err[512];
    const conf_setting *s = confmap_find(key);
    if (!s) {
        fprintf(stderr, "sluice config get: unknown setting '%s'\n", key);
        return CLI_FAILED;
    }
    config *c = config_load(st, err, sizeof err);
    if (!c) {
        fprintf(stderr, "sluice config get: %s\n", err);
        return CLI_FAILED;
    }
    const char *v = config_get(c, key);
    if (s->type == CONF_SECRET)
        printf("%s\n", v ? "(secret, set)" : "(secret, not set)");
    else
        printf("%s\n", v ? v : "");
    config_destroy(c);
    return CLI_OK;
}

static int config_cmd_set(store *st, const char *key, const char *value)
{
    char err[512];
    buf in = BUF_INIT;
    int rc = CLI_FAILED;
    if (value && strcmp(value, "-") == 0) {
        if (read_all(stdin, &in) < 0) {
            fprintf(stderr, "sluice config set: cannot read standard input\n");
            goto out;
        }
        while (in.len && (in.data[in.len - 1] == '\n' || in.data[in.len - 1] == '\r'))
            in.data[--in.len] = '\0';
        value = in.data ? in.data : "";
    }
    if (store_setting_set(st, key, value, err, sizeof err) < 0) {
        fprintf(stderr, "sluice config set: %s\n", err);
        goto out;
    }
    store_audit(st, "cli", value ? "config.set" : "config.unset", key);
    printf("%s %s (send SIGHUP to a running daemon to apply)\n", key, value ? "set" : "reset to default");
    rc = CLI_OK;
out:
    if (in.data)
        memset(in.data, 0, in.len);
    buf_free(&in);
    return rc;
}

int cli_config(int argc, char **argv)
{
    const char *state_dir = cli_state_dir_default(), *output = NULL;
    const char *args[3] = {0};
    int n_args = 0;

    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &state_dir)) ||
            (r = cli_option(argc, argv, &i, "--output", &output))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "sluice config: unknown option '%s'\n", argv[i]);
            return CLI_USAGE;
        }
        if (n_args == 3) {
            fprintf(stderr, "sluice config: too many arguments\n%s", usage);
            return CLI_USAGE;
        }
        args[n_args++] = argv[i];
    }
    if (n_args == 0) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = args[0];
    if (strcmp(cmd, "reference") == 0 && n_args == 1) {
        buf doc = BUF_INIT;
        confmap_doc_markdown(&doc);
        fwrite(doc.data, 1, doc.len, stdout);
        buf_free(&doc);
        return CLI_OK;
    }
    int want = strcmp(cmd, "export") == 0 ? 1
               : strcmp(cmd, "import") == 0 || strcmp(cmd, "get") == 0 || strcmp(cmd, "unset") == 0 ? 2
               : strcmp(cmd, "set") == 0 ? 3
                                         : 0;
    if (!want || n_args != want) {
        fprintf(stderr, "sluice config: bad command or arguments\n%s", usage);
        return CLI_USAGE;
    }
    secrets *sec = NULL;
    store *st = cli_store_open(state_dir, &sec);
    if (!st)
        return CLI_FAILED;
    int rc;
    if (strcmp(cmd, "export") == 0)
        rc = config_cmd_export(st, output);
    else if (strcmp(cmd, "import") == 0)
        rc = config_cmd_import(st, args[1]);
    else if (strcmp(cmd, "get") == 0)
        rc = config_cmd_get(st, args[1]);
    else
        rc = config_cmd_set(st, args[1], strcmp(cmd, "set") == 0 ? args[2] : NULL);
    cli_store_close(st, sec);
    return rc;
}
