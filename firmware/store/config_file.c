/* config_file: reads the INI-like configuration file (format in config_file.h) into entries,
 * reporting syntax errors as "path:line: message", and collects SLUICE_* environment variables
 * that name settings. Neither checks values; conf_entries_check() does. */
#include "store/config_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static const char *cf_skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static int cf_is_comment(const char *p, const char *end)
{
    return p < end && (*p == '#' || *p == ';');
}

/* Parse a [section] header at p (line ends at end). 0 with the name in section, else -1. */
static int cf_section(const char *p, const char *end, char *section, size_t seclen, char *err, size_t errlen)
{
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close) {
        snprintf(err, errlen, "bad section header: missing ']'");
        return -1;
    }
    const char *n0 = cf_skip_space(p + 1, close), *n1 = close;
    while (n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t'))
        n1--;
    size_t n = (size_t)(n1 - n0);
    if (n == 0) {
        snprintf(err, errlen, "bad section header: empty section name");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)n0[i];
        if (!(isalnum(c) || c == '_')) {
            snprintf(err, errlen, "bad section header: invalid character '%c' in section name", c);
            return -1;
        }
    }
    const char *rest = cf_skip_space(close + 1, end);
    if (rest < end && !cf_is_comment(rest, end)) {
        snprintf(err, errlen, "bad section header: unexpected text after ']'");
        return -1;
    }
    if (n >= seclen) {
        snprintf(err, errlen, "bad section header: section name too long");
        return -1;
    }
    memcpy(section, n0, n);
    section[n] = '\0';
    return 0;
}

/* Parse the value starting at p into out. Returns 0 or -1 with the reason in err. */
static int cf_value(const char *p, const char *end, buf *out, char *err, size_t errlen)
{
    p = cf_skip_space(p, end);
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p != '\\') {
                buf_append(out, p, 1);
                continue;
            }
            if (++p >= end)
                break;
            switch (*p) {
            case '"': buf_puts(out, "\""); break;
            case '\\': buf_puts(out, "\\"); break;
            case 'n': buf_puts(out, "\n"); break;
            default:
                snprintf(err, errlen, "unknown escape '\\%c' in quoted value (use \\\" \\\\ or \\n)", *p);
                return -1;
            }
        }
        if (p >= end) {
            snprintf(err, errlen, "unterminated quoted value: missing closing '\"'");
            return -1;
        }
        p = cf_skip_space(p + 1, end);
        if (p < end && !cf_is_comment(p, end)) {
            snprintf(err, errlen, "unexpected text after the closing quote");
            return -1;
        }
        if (!out->data)
            buf_puts(out, "");
        return 0;
    }
    /* unquoted: up to a '#' that follows whitespace, trailing whitespace trimmed */
    const char *v = p, *e = p;
    for (; p < end; p++) {
        if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t'))
            break;
        if (*p == '#' && p == v)
            break;
    }
    e = p;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    buf_append(out, v, (size_t)(e - v));
    return 0;
}

int config_text_read(const char *name, const char *text, conf_entries *out, conf_problems *problems)
{
    char section[128] = "", where[1200], err[256];
    size_t first = out->n;   /* entries of this file start here (for duplicate detection) */
    const char *p = text;
    long lineno = 0;

    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;   /* UTF-8 byte order mark */
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *next = nl ? nl + 1 : end;
        lineno++;
        if (end > p && end[-1] == '\r')
            end--;
        snprintf(where, sizeof where, "%s:%ld", name, lineno);

        const char *q = cf_skip_space(p, end);
        if (q >= end || cf_is_comment(q, end)) {
            p = next;
            continue;
        }
        if (*q == '[') {
            if (cf_section(q, end, section, sizeof section, err, sizeof err) < 0) {
                conf_problems_add(problems, where, NULL, "%s", err);
                /* keys that follow would land in the wrong place: mark the section broken */
                snprintf(section, sizeof section, "%c", '\x01');
            }
            p = next;
            continue;
        }
        size_t klen = strspn(q, KEY_CHARS);
        if (q + klen > end)
            klen = (size_t)(end - q);
        if (klen == 0) {
            if (*q == '=')
                conf_problems_add(problems, where, NULL, "empty key before '='");
            else
                conf_problems_add(problems, where, NULL, "invalid character '%c' at the start of a key", *q);
            p = next;
            continue;
        }
        char key[256];
        if (klen >= sizeof key) {
            conf_problems_add(problems, where, NULL, "key too long");
            p = next;
            continue;
        }
        memcpy(key, q, klen);
        key[klen] = '\0';
        char full[400];   /* the key as reported: with its section when there is one */
        if (section[0] && section[0] != '\x01')
            snprintf(full, sizeof full, "%s.%s", section, key);
        else
            snprintf(full, sizeof full, "%s", key);
        const char *r = cf_skip_space(q + klen, end);
        if (r >= end || *r != '=') {
            if (memchr(r, '=', (size_t)(end - r)) && !cf_is_comment(r, end))
                conf_problems_add(problems, where, NULL, "invalid character '%c' in key '%s'", q[klen], key);
            else
                conf_problems_add(problems, where, full, "missing '=' after the key (expected key = value)");
            p = next;
            continue;
        }
        buf val = BUF_INIT;
        if (cf_value(r + 1, end, &val, err, sizeof err) < 0) {
            conf_problems_add(problems, where, full, "%s", err);
            buf_free(&val);
            p = next;
            continue;
        }

        if (section[0] == '\x01') {
            /* under a broken section header: already reported, skip silently */
            buf_free(&val);
            p = next;
            continue;
        }
        if (!section[0] && !strchr(key, '.')) {
            conf_problems_add(problems, where, key,
                              "key outside any section: write it in full (module.%s) or under a [module] "
                              "header", key);
            buf_free(&val);
            p = next;
            continue;
        }

        const conf_entry *dup = NULL;
        for (size_t i = first; i < out->n && !dup; i++)
            if (strcmp(out->items[i].key, full) == 0)
                dup = &out->items[i];
        if (dup)
            conf_problems_add(problems, where, full, "duplicate setting (first set at %s)", dup->where);
        else
            conf_entries_add(out, full, val.data ? val.data : "", where);
        if (val.data)
            memset(val.data, 0, val.len);   /* may be a secret */
        buf_free(&val);
        p = next;
    }
    return 0;
}

int config_file_read(const char *path, conf_entries *out, conf_problems *problems)
{
    FILE *f = fopen(path, "rb");
    buf text = BUF_INIT;
    char chunk[4096];
    size_t n;
    int rc = -1;

    if (!f) {
        conf_problems_add(problems, path, NULL, "cannot read: %s", strerror(errno));
        goto out;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&text, chunk, n);
    if (ferror(f)) {
        conf_problems_add(problems, path, NULL, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (text.len && memchr(text.data, '\0', text.len)) {
        conf_problems_add(problems, path, NULL, "file contains a NUL byte: not a text file");
        rc = 0;
        goto out;
    }
    rc = config_text_read(path, text.data ? text.data : "", out, problems);
out:
    if (f)
        fclose(f);
    if (text.data)
        memset(text.data, 0, text.len);
    buf_free(&text);
    return rc;
}

void config_env_read(char *const *envp, const char *const *reserved, conf_entries *out,
                     conf_problems *problems)
{
    char name[256], env[256], where[300];
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, "SLUICE_", 7) != 0)
            continue;
        size_t n = (size_t)(eq - *e);
        if (n >= sizeof name)
            continue;
        memcpy(name, *e, n);
        name[n] = '\0';

        int skip = 0;
        for (const char *const *r = reserved; r && *r && !skip; r++)
            skip = strcmp(*r, name) == 0;
        if (skip)
            continue;

        const conf_setting *found = NULL;
        int in_module = 0;
        for (const conf_module *const *m = confmap_modules(); *m && !found; m++) {
            char prefix[128];
            confmap_env_name((*m)->name, prefix, sizeof prefix);
            size_t plen = strlen(prefix);
            if (strncmp(name, prefix, plen) == 0 && name[plen] == '_')
                in_module = 1;
            for (size_t i = 0; i < (*m)->n_settings && !found; i++) {
                confmap_env_name((*m)->settings[i].key, env, sizeof env);
                if (strcmp(env, name) == 0)
                    found = &(*m)->settings[i];
            }
        }
        snprintf(where, sizeof where, "environment %s", name);
        if (found)
            conf_entries_add(out, found->key, eq + 1, where);
        else if (in_module)
            conf_problems_add(problems, where, NULL, "unknown setting");
    }
}
