/* config_file: the declarative configuration file and SLUICE_* environment variables,
 * the two sources that seed the store at first boot (see docs/CONFIGURATION.md).
 *
 * File format (INI-like):
 *   # comment            ; comment
 *   [console]            section: prefix for the keys below it
 *   listen = 127.0.0.1:8080
 *   session_ttl = 12h    # trailing comment after whitespace
 *   [source]
 *   conninfo = "host=db port=5432 dbname=app"   quoted values may hold # and escapes \" \\ \n
 * A key may also be written in full ("console.listen = ...") outside any section. */
#ifndef SLUICE_STORE_CONFIG_FILE_H
#define SLUICE_STORE_CONFIG_FILE_H

#include "store/confmap.h"

/* Read path into out. Syntax errors go into problems as "path:line". Returns -1 when the file
 * cannot be read (problem added), else 0 (even with syntax problems). Does not check keys. */
int config_file_read(const char *path, conf_entries *out, conf_problems *problems);
/* Same for text already in memory; name is used as the location's file part. */
int config_text_read(const char *name, const char *text, conf_entries *out, conf_problems *problems);

/* Collect SLUICE_<MODULE>_<NAME> variables of envp that name settings. A variable whose name
 * starts with SLUICE_ and a module's name (see confmap_modules) but names no setting is a
 * problem "environment SLUICE_X: unknown setting" (a typo must not be ignored). Variables in
 * reserved (NULL-terminated, e.g. SLUICE_STATE_DIR) and other SLUICE_* variables are not settings
 * and are skipped. */
void config_env_read(char *const *envp, const char *const *reserved, conf_entries *out,
                     conf_problems *problems);

#endif
