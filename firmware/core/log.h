/* log: structured logging, one line per record, logfmt (default) or JSON lines.
 * Every record has ts, level, component and msg. The logger is process-wide
 * (set up once in main); records are written whole under a lock, so threads may log.
 * Secrets must never be passed to these functions. */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stdio.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
typedef enum { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON } log_format;

/* Direct records to out (not owned; stderr by default), below min dropped. */
void log_setup(FILE *out, log_level min, log_format fmt);
/* Parse "debug|info|warn|error" / "logfmt|json"; return 0 or -1 if unknown. */
int log_level_parse(const char *s, log_level *out);
int log_format_parse(const char *s, log_format *out);

/* Emit a record. msg is printf-formatted free text (quoted as needed).
 * log_fields: extra key/value string pairs, NULL-terminated, e.g.
 *   log_fields(LOG_INFO, "api", "login failed", "user", name, "remote", ip, NULL); */
void log_msg(log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_fields(log_level lvl, const char *component, const char *msg, ...)
    __attribute__((sentinel));

#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)

#endif
