/* log: structured log records in logfmt or JSON lines (see log.h).
 * The only process-wide state: where records go, the minimum level and the format. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/buf.h"

static struct {
    pthread_mutex_t lock;
    FILE *out;
    log_level min;
    log_format fmt;
} logger = {PTHREAD_MUTEX_INITIALIZER, NULL, LOG_INFO, LOG_FORMAT_LOGFMT};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(FILE *out, log_level min, log_format fmt)
{
    pthread_mutex_lock(&logger.lock);
    logger.out = out;
    logger.min = min;
    logger.fmt = fmt;
    pthread_mutex_unlock(&logger.lock);
}

int log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_format_parse(const char *s, log_format *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FORMAT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

/* logfmt value: bare when it is a plain token, else quoted with \" \\ \n escapes. */
static void logfmt_value(buf *b, const char *v)
{
    int bare = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p && bare; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f)
            bare = 0;
    if (bare) {
        buf_puts(b, v);
        return;
    }
    buf_json_string(b, v); /* JSON string escaping is valid logfmt quoting */
}

static void log_field(buf *b, log_format fmt, const char *key, const char *value)
{
    if (fmt == LOG_FORMAT_JSON) {
        buf_puts(b, ",");
        buf_json_string(b, key);
        buf_puts(b, ":");
        buf_json_string(b, value);
    } else {
        buf_printf(b, " %s=", key);
        logfmt_value(b, value);
    }
}

static void log_record(log_level lvl, const char *component, const char *msg, va_list *fields)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    buf b = BUF_INIT;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", (long)(tv.tv_usec / 1000));

    pthread_mutex_lock(&logger.lock);
    if (lvl < logger.min) {
        pthread_mutex_unlock(&logger.lock);
        return;
    }
    log_format fmt = logger.fmt;
    FILE *out = logger.out ? logger.out : stderr;
    if (fmt == LOG_FORMAT_JSON) {
        buf_puts(&b, "{\"ts\":");
        buf_json_string(&b, ts);
    } else {
        buf_printf(&b, "ts=%s", ts);
    }
    log_field(&b, fmt, "level", level_names[lvl]);
    log_field(&b, fmt, "component", component);
    log_field(&b, fmt, "msg", msg);
    if (fields) {
        const char *k;
        while ((k = va_arg(*fields, const char *)) != NULL) {
            const char *v = va_arg(*fields, const char *);
            log_field(&b, fmt, k, v ? v : "");
        }
    }
    buf_puts(&b, fmt == LOG_FORMAT_JSON ? "}\n" : "\n");
    fwrite(b.data, 1, b.len, out);
    fflush(out);
    pthread_mutex_unlock(&logger.lock);
    buf_free(&b);
}

void log_msg(log_level lvl, const char *component, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_record(lvl, component, msg, NULL);
}

void log_fields(log_level lvl, const char *component, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_record(lvl, component, msg, &ap);
    va_end(ap);
}
