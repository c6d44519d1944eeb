/* confmap: typed configuration maps. Each module declares one table of its settings
 * (key, type, default, limits, description); validation, `sluice check`, the settings API and
 * docs/CONFIGURATION.md are all produced from these tables. confmap_registry.c lists the modules.
 * Also the problem list used to report configuration errors with their location. */
#ifndef SLUICE_STORE_CONFMAP_H
#define SLUICE_STORE_CONFMAP_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    CONF_STRING,    /* any text (check may restrict) */
    CONF_INT,       /* decimal integer within [min, max] */
    CONF_BOOL,      /* true/false/yes/no/on/off/1/0 */
    CONF_ENUM,      /* one of choices, "a|b|c" */
    CONF_DURATION,  /* integer with unit ms, s, m, h, d (e.g. "60s"); within [min, max] seconds */
    CONF_LISTEN,    /* host:port, port 1..65535 */
    CONF_SECRET,    /* text, stored encrypted, never shown */
} conf_type;

typedef struct conf_setting {
    const char *key;          /* "module.name" */
    conf_type type;
    const char *def;          /* default as text, NULL = no default (unset) */
    long min, max;            /* CONF_INT / CONF_DURATION bounds (max 0 = unbounded) */
    const char *choices;      /* CONF_ENUM */
    const char *description;  /* one or two sentences for the docs and the console */
    /* Optional extra check after the type check; 0 ok, -1 with reason in err. */
    int (*check)(const char *value, char *err, size_t errlen);
} conf_setting;

typedef struct conf_module {
    const char *name;         /* the key prefix, e.g. "console" */
    const char *description;
    const conf_setting *settings;
    size_t n_settings;
} conf_module;

/* NULL-terminated list of every module's map. */
const conf_module *const *confmap_modules(void);
/* The setting for key, or NULL if no module declares it. */
const conf_setting *confmap_find(const char *key);
/* Type-check value for setting; 0 ok, -1 with reason in err. */
int confmap_check(const conf_setting *s, const char *value, char *err, size_t errlen);
const char *confmap_type_name(conf_type t);
/* Environment variable name of a key: "console.session_ttl" -> "SLUICE_CONSOLE_SESSION_TTL". */
void confmap_env_name(const char *key, char *out, size_t outlen);
/* Parse helpers shared by config.c (they accept what confmap_check accepts). */
int confmap_parse_bool(const char *v, int *out);
int confmap_parse_duration_ms(const char *v, long long *out_ms);

/* Problems found in configuration, each with its location. */
typedef struct conf_problem {
    char *where;    /* "path:line", "environment SLUICE_X", "store", ... */
    char *key;      /* setting key or NULL */
    char *message;
} conf_problem;
typedef struct conf_problems {
    conf_problem *items;
    size_t n, cap;
} conf_problems;

void conf_problems_add(conf_problems *p, const char *where, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* One line per problem: "where: key: message" (or "where: message" without key). */
void conf_problems_print(const conf_problems *p, FILE *out);
void conf_problems_free(conf_problems *p);

/* Settings as read from a file or the environment, before they go into the store. */
typedef struct conf_entry {
    char *key;
    char *value;
    char *where;    /* location for error messages */
} conf_entry;
typedef struct conf_entries {
    conf_entry *items;
    size_t n, cap;
} conf_entries;

void conf_entries_add(conf_entries *e, const char *key, const char *value, const char *where);
void conf_entries_free(conf_entries *e);
/* Add a problem for each unknown key and each invalid value (with its location). */
void conf_entries_check(const conf_entries *e, conf_problems *p);

#endif
