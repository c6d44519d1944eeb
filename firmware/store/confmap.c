/* confmap: lookup and type checking of settings declared in the config maps, the value parsers
 * shared with config.c, the environment-variable naming rule, and the problem and entry lists
 * used to report configuration errors with their location (see confmap.h). */
#include "store/confmap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void *confmap_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *confmap_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = confmap_xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

const conf_setting *confmap_find(const char *key)
{
    if (!key)
        return NULL;
    for (const conf_module *const *m = confmap_modules(); *m; m++)
        for (size_t i = 0; i < (*m)->n_settings; i++)
            if (strcmp((*m)->settings[i].key, key) == 0)
                return &(*m)->settings[i];
    return NULL;
}

const char *confmap_type_name(conf_type t)
{
    switch (t) {
    case CONF_STRING: return "string";
    case CONF_INT: return "integer";
    case CONF_BOOL: return "boolean";
    case CONF_ENUM: return "enum";
    case CONF_DURATION: return "duration";
    case CONF_LISTEN: return "host:port";
    case CONF_SECRET: return "secret";
    }
    return "unknown";
}

void confmap_env_name(const char *key, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    int n = snprintf(out, outlen, "SLUICE_");
    size_t o = n > 0 ? (size_t)n : 0;
    for (const char *k = key; *k && o + 1 < outlen; k++) {
        unsigned char c = (unsigned char)*k;
        out[o++] = (c == '.' || c == '-') ? '_' : (char)toupper(c);
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

int confmap_parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!v)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Decimal integer, optional sign, nothing else (no spaces, no trailing text). */
static int confmap_parse_int(const char *v, long long *out)
{
    const char *p = v;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -1;
    *out = n;
    return 0;
}

int confmap_parse_duration_ms(const char *v, long long *out_ms)
{
    static const struct { const char *unit; long long ms; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    if (!v || !isdigit((unsigned char)*v))
        return -1;
    long long n = 0;
    const char *p = v;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (LLONG_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].unit) == 0) {
            if (n > LLONG_MAX / units[i].ms)
                return -1;
            *out_ms = n * units[i].ms;
            return 0;
        }
    }
    return -1;
}

static int confmap_check_int(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    long long n;
    if (confmap_parse_int(v, &n) < 0) {
        snprintf(err, errlen, "'%s' is not an integer", v);
        return -1;
    }
    if (n < s->min || (s->max && n > s->max)) {
        if (s->max)
            snprintf(err, errlen, "%lld is out of range: must be %ld to %ld", n, s->min, s->max);
        else
            snprintf(err, errlen, "%lld is out of range: must be at least %ld", n, s->min);
        return -1;
    }
    return 0;
}

static int confmap_check_enum(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    const char *c = s->choices ? s->choices : "";
    size_t vlen = strlen(v);
    while (*c) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == vlen && len > 0 && strncmp(c, v, len) == 0)
            return 0;
        c += len;
        if (*c == '|')
            c++;
    }
    snprintf(err, errlen, "'%s' is not one of %s", v, s->choices ? s->choices : "(none)");
    return -1;
}

static int confmap_check_duration(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    long long ms;
    if (confmap_parse_duration_ms(v, &ms) < 0) {
        snprintf(err, errlen, "'%s' is not a duration: use a whole number with a unit ms, s, m, h or d "
                 "(e.g. 60s)", v);
        return -1;
    }
    if (ms < (long long)s->min * 1000 || (s->max && ms > (long long)s->max * 1000)) {
        if (s->max)
            snprintf(err, errlen, "%s is out of range: must be %lds to %lds", v, s->min, s->max);
        else
            snprintf(err, errlen, "%s is out of range: must be at least %lds", v, s->min);
        return -1;
    }
    return 0;
}

/* A DNS name: labels of letters, digits and '-', not starting or ending with '-'. */
static int confmap_hostname_valid(const char *h, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return 0;
            label = 0;
        } else if (isalnum(c) || c == '-') {
            if (c == '-' && label == 0)
                return 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 && h[len - 1] != '-';
}

static int confmap_check_listen(const char *v, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    size_t hlen;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close) {
            snprintf(err, errlen, "'%s': missing ']' after the IPv6 address", v);
            return -1;
        }
        hlen = (size_t)(close - v - 1);
        if (hlen == 0 || hlen >= sizeof host) {
            snprintf(err, errlen, "'%s': empty or too long IPv6 address", v);
            return -1;
        }
        memcpy(host, v + 1, hlen);
        host[hlen] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1) {
            snprintf(err, errlen, "'%s': '%s' is not an IPv6 address", v, host);
            return -1;
        }
        if (close[1] != ':') {
            snprintf(err, errlen, "'%s': expected ':port' after ']'", v);
            return -1;
        }
        port = close + 2;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon) {
            snprintf(err, errlen, "'%s' is not host:port (e.g. 127.0.0.1:8080)", v);
            return -1;
        }
        hlen = (size_t)(colon - v);
        if (memchr(v, ':', hlen)) {
            snprintf(err, errlen, "'%s': put an IPv6 address in brackets, e.g. [::1]:8080", v);
            return -1;
        }
        if (hlen == 0) {
            snprintf(err, errlen, "'%s': missing host (use 0.0.0.0 to listen on every interface)", v);
            return -1;
        }
        if (hlen >= sizeof host) {
            snprintf(err, errlen, "'%s': host name too long", v);
            return -1;
        }
        memcpy(host, v, hlen);
        host[hlen] = '\0';
        if (strspn(host, "0123456789.") == hlen) {
            struct in_addr a4;
            if (inet_pton(AF_INET, host, &a4) != 1) {
                snprintf(err, errlen, "'%s': '%s' is not an IPv4 address", v, host);
                return -1;
            }
        } else if (!confmap_hostname_valid(host, hlen)) {
            snprintf(err, errlen, "'%s': '%s' is not a valid host name", v, host);
            return -1;
        }
        port = colon + 1;
    }
    long long p;
    if (!isdigit((unsigned char)*port) || confmap_parse_int(port, &p) < 0 || p < 1 || p > 65535) {
        snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", v);
        return -1;
    }
    return 0;
}

int confmap_check(const conf_setting *s, const char *value, char *err, size_t errlen)
{
    int b;
    if (!value) {
        snprintf(err, errlen, "missing value");
        return -1;
    }
    switch (s->type) {
    case CONF_STRING:
    case CONF_SECRET:
        break;
    case CONF_INT:
        if (confmap_check_int(s, value, err, errlen) < 0)
            return -1;
        break;
    case CONF_BOOL:
        if (confmap_parse_bool(value, &b) < 0) {
            snprintf(err, errlen, "'%s' is not a boolean: use true/false, yes/no, on/off or 1/0", value);
            return -1;
        }
        break;
    case CONF_ENUM:
        if (confmap_check_enum(s, value, err, errlen) < 0)
            return -1;
        break;
    case CONF_DURATION:
        if (confmap_check_duration(s, value, err, errlen) < 0)
            return -1;
        break;
    case CONF_LISTEN:
        if (confmap_check_listen(value, err, errlen) < 0)
            return -1;
        break;
    default:
        snprintf(err, errlen, "setting has an unknown type");
        return -1;
    }
    if (s->check && s->check(value, err, errlen) < 0)
        return -1;
    return 0;
}

void conf_problems_add(conf_problems *p, const char *where, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = confmap_xrealloc(NULL, n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    if (n <= 0)
        msg[0] = '\0';

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = confmap_xrealloc(p->items, p->cap * sizeof *p->items);
    }
    conf_problem *it = &p->items[p->n++];
    it->where = confmap_xstrdup(where ? where : "configuration");
    it->key = confmap_xstrdup(key);
    it->message = msg;
}

void conf_problems_print(const conf_problems *p, FILE *out)
{
    for (size_t i = 0; i < p->n; i++) {
        const conf_problem *it = &p->items[i];
        if (it->key)
            fprintf(out, "%s: %s: %s\n", it->where, it->key, it->message);
        else
            fprintf(out, "%s: %s\n", it->where, it->message);
    }
}

void conf_problems_free(conf_problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].where);
        free(p->items[i].key);
        free(p->items[i].message);
    }
    free(p->items);
    p->items = NULL;
    p->n = p->cap = 0;
}

void conf_entries_add(conf_entries *e, const char *key, const char *value, const char *where)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->items = confmap_xrealloc(e->items, e->cap * sizeof *e->items);
    }
    conf_entry *it = &e->items[e->n++];
    it->key = confmap_xstrdup(key);
    it->value = confmap_xstrdup(value ? value : "");
    it->where = confmap_xstrdup(where ? where : "configuration");
}

void conf_entries_free(conf_entries *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->items[i].key);
        /* values may be secrets: wipe before freeing */
        if (e->items[i].value) {
            volatile char *v = e->items[i].value;
            while (*v)
                *v++ = '\0';
        }
        free(e->items[i].value);
        free(e->items[i].where);
    }
    free(e->items);
    e->items = NULL;
    e->n = e->cap = 0;
}

void conf_entries_check(const conf_entries *e, conf_problems *p)
{
    char reason[256];
    for (size_t i = 0; i < e->n; i++) {
        const conf_entry *it = &e->items[i];
        const conf_setting *s = confmap_find(it->key);
        if (!s) {
            conf_problems_add(p, it->where, it->key, "unknown setting");
            continue;
        }
        if (confmap_check(s, it->value, reason, sizeof reason) < 0) {
            /* never echo a secret's value back in a message */
            if (s->type == CONF_SECRET)
                conf_problems_add(p, it->where, it->key, "invalid secret value");
            else
                conf_problems_add(p, it->where, it->key, "%s", reason);
        }
    }
}
