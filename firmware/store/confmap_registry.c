/* confmap_registry: the config map of every module and the list confmap_modules() returns.
 * Each module's table is a static array here until its module grows its own file; the docs,
 * `sluice check` and the settings API are generated from these entries. */
#include "store/confmap.h"

#include "objstore/objstore_settings.h"
#include "sinks/kafka/kafka_settings.h"
#include "sinks/lake/lake_settings.h"
#include "rules/rules_settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A replication slot name: lower-case letters, digits and underscores, 1 to 63 of them
 * (PostgreSQL's own rule for slot names). */
static int check_slot_name(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > 63 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
        snprintf(err, errlen, "'%s' is not a valid slot name: use 1 to 63 lower-case letters, digits "
                 "or underscores", v);
        return -1;
    }
    return 0;
}

/* A publication name that needs no quoting trouble: a letter or underscore, then letters,
 * digits or underscores, at most 63 characters (NAMEDATALEN - 1). */
static int check_identifier(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    int ok = n > 0 && n <= 63 && (isalpha((unsigned char)v[0]) || v[0] == '_');
    for (size_t i = 1; ok && i < n; i++)
        ok = isalnum((unsigned char)v[i]) || v[i] == '_';
    if (!ok) {
        snprintf(err, errlen, "'%s' is not a valid identifier: start with a letter or underscore, then "
                 "letters, digits or underscores, at most 63 characters", v);
        return -1;
    }
    return 0;
}

/* Looks like a libpq connection string: a postgres:// or postgresql:// URL, or key=value pairs.
 * (libpq's own parser runs when the capture module connects and reports the details.) */
static int check_conninfo(const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0)
        return 0;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || strspn(v, " \t") == (size_t)(eq - v)) {
        snprintf(err, errlen, "not a connection string: use a postgresql:// URL or key=value pairs "
                 "(e.g. host=db dbname=app user=sluice)");
        return -1;
    }
    return 0;
}

/* "a, s.b, c": identifiers of letters, digits, _ and $, at most one dot each. */
static int check_table_list(const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        int dots = 0, ok = end > 0 && !isdigit((unsigned char)p[0]) && p[0] != '.' && p[end - 1] != '.';
        for (size_t i = 0; ok && i < end; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '.')
                ok = ++dots <= 1 && p[i + 1] != '.';
            else
                ok = isalnum(c) || c == '_' || c == '$';
        }
        if (!ok) {
            snprintf(err, errlen, "'%.*s' is not a table name (write schema.table or table, comma-separated)",
                     (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static const conf_setting log_settings[] = {
    {"log.level", CONF_ENUM, "info", 0, 0, "debug|info|warn|error",
     "Lowest severity written to the log; records below it are dropped.", NULL},
    {"log.format", CONF_ENUM, "logfmt", 0, 0, "logfmt|json",
     "Log line format: `logfmt` (key=value pairs) or `json` (one JSON object per line).", NULL},
};

static const conf_setting console_settings[] = {
    {"console.listen", CONF_LISTEN, "127.0.0.1:8080", 0, 0, NULL,
     "Address and port the browser console and HTTP API listen on; an IPv6 address goes in brackets "
     "(`[::1]:8080`), `0.0.0.0` listens on every interface.", NULL},
    {"console.session_ttl", CONF_DURATION, "12h", 60, 30L * 86400, NULL,
     "How long a console login stays valid before the user must sign in again.", NULL},
};

static const conf_setting source_settings[] = {
    {"source.conninfo", CONF_STRING, NULL, 0, 0, NULL,
     "Connection to the PostgreSQL database to capture, as a libpq URL (`postgresql://user@host/db`) "
     "or `key=value` pairs; put the password in `source.password`, not here.", check_conninfo},
    {"source.password", CONF_SECRET, NULL, 0, 0, NULL,
     "Password for the capture connection; stored encrypted.", NULL},
    {"source.slot", CONF_STRING, "sluice", 0, 0, NULL,
     "Name of the logical replication slot Sluice creates and reads (lower-case letters, digits, "
     "underscores; at most 63).", check_slot_name},
    {"source.publication", CONF_STRING, "sluice", 0, 0, NULL,
     "Name of the publication that selects the captured tables.", check_identifier},
    {"source.tables", CONF_STRING, NULL, 0, 0, NULL,
     "Tables to capture, comma-separated `schema.table` (or `table` for `public`); unset captures "
     "every table (the publication is then `FOR ALL TABLES`).", check_table_list},
    {"source.heartbeat_interval", CONF_DURATION, "60s", 0, 86400, NULL,
     "How often the capture writes a small non-transactional logical message to the source so the "
     "slot advances (and WAL is released) while captured tables are idle; `0s` turns heartbeats "
     "off. Needs permission to call `pg_logical_emit_message`.", NULL},
    {"source.snapshot_mode", CONF_ENUM, "initial", 0, 0, "initial|never|initial_only|when_needed",
     "Initial snapshot of existing rows: `initial` snapshots once then streams, `never` streams only "
     "new changes, `initial_only` snapshots and stops, `when_needed` snapshots again when the slot is "
     "missing.", NULL},
};

static const conf_module log_module = {
    "log", "Logging of the daemon (standard error, or the journal under systemd).",
    log_settings, COUNT(log_settings)};
static const conf_module console_module = {
    "console", "The browser console and its HTTP API.", console_settings, COUNT(console_settings)};
static const conf_module source_module = {
    "source", "The PostgreSQL database whose changes are captured (logical replication with pgoutput).",
    source_settings, COUNT(source_settings)};
static const conf_setting file_settings[] = {
    {"file.path", CONF_STRING, NULL, 0, 0, NULL,
     "Append every captured change as a line of Debezium JSON to this file (unset: off). A simple "
     "sink for debugging and the demo; it is fsynced before the position is confirmed to PostgreSQL.",
     NULL},
};

static const conf_module file_module = {
    "file", "The file sink: captured changes as Debezium JSON lines in a local file.", file_settings,
    COUNT(file_settings)};

static const conf_module *const modules[] = {
    &log_module, &console_module, &source_module, &file_module, &kafka_conf_module, &s3_conf_module, &lake_conf_module, &bronze_conf_module, &silver_conf_module, &rules_conf_module, NULL,
};

const conf_module *const *confmap_modules(void)
{
    return modules;
}
