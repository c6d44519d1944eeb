/* pg_conn: libpq connections to the source database (see pg_conn.h). Validates the configured
 * conninfo, adds the password, replication=database, application_name and connect_timeout, and
 * applies pg_types' session settings. No error text ever carries the password. */
#include "capture/pg_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"

/* Replace every occurrence of secret in s (in place, at most cap bytes) with "***". */
static void redact(char *s, size_t cap, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *from = s, *p;
    if (n == 0)
        return;
    while ((p = strstr(from, secret)) != NULL) {
        size_t off = (size_t)(p - s), tail = strlen(p + n);
        if (off + 3 + tail + 1 > cap)
            tail = cap > off + 4 ? cap - off - 4 : 0;
        if (off + 4 > cap) {
            *p = '\0';
            return;
        }
        memmove(p + 3, p + n, tail);
        p[3 + tail] = '\0';
        memcpy(p, "***", 3);
        from = p + 3;
    }
}

/* Copy a libpq message into err without its trailing newline, with the secrets removed. */
static void set_err(char *err, size_t errlen, const char *prefix, const char *msg, const char *pw1,
                    const char *pw2)
{
    if (!err || errlen == 0)
        return;
    snprintf(err, errlen, "%s%s", prefix, msg && *msg ? msg : "unknown error");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    /* One line: libpq's "\n\t" continuation becomes one space. */
    char *w = err;
    for (const char *p = err; *p; p++) {
        char ch = *p == '\n' || *p == '\t' ? ' ' : *p;
        if (ch == ' ' && w > err && w[-1] == ' ')
            continue;
        *w++ = ch;
    }
    *w = '\0';
    redact(err, errlen, pw1);
    redact(err, errlen, pw2);
}

/* Best effort: the password written into a conninfo that libpq could not parse, so a parse
 * error quoting part of the string cannot reveal it (key=value "password=..." or a URL's
 * "user:password@"). Returns a malloc'd string or NULL. */
static char *conninfo_guess_password(const char *ci)
{
    const char *p;
    size_t n = 0;
    if (strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0) {
        const char *auth = strstr(ci, "://") + 3;
        const char *at = strchr(auth, '@'), *colon = strchr(auth, ':');
        if (!at || !colon || colon > at)
            return NULL;
        p = colon + 1;
        n = (size_t)(at - p);
    } else {
        p = strstr(ci, "password");
        if (!p)
            return NULL;
        p += 8;
        p += strspn(p, " \t");
        if (*p != '=')
            return NULL;
        p++;
        p += strspn(p, " \t'");
        n = strcspn(p, " \t'");
    }
    if (n == 0)
        return NULL;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int option_given(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o->val && *o->val;
    return 0;
}

static const char *option_value(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o->val;
    return NULL;
}

PGconn *pg_conn_open(const char *conninfo, const char *password, pg_conn_kind kind, char *err,
                     size_t errlen)
{
    const char *keys[8], *vals[8];
    char *parse_err = NULL, *guessed = NULL;
    PQconninfoOption *opts = NULL;
    PGconn *c = NULL;
    PGresult *res = NULL;
    int n = 0;

    if (!conninfo || !*conninfo) {
        set_err(err, errlen, "", "no connection string configured (source.conninfo)", NULL, NULL);
        return NULL;
    }
    opts = PQconninfoParse(conninfo, &parse_err);
    if (!opts) {
        guessed = conninfo_guess_password(conninfo);
        set_err(err, errlen, "invalid connection string: ",
                parse_err ? parse_err : "out of memory", password, guessed);
        goto out;
    }

    /* dbname carries the whole conninfo (expand_dbname = 1); the keys after it override it. */
    keys[n] = "dbname", vals[n++] = conninfo;
    if (password && *password)
        keys[n] = "password", vals[n++] = password;
    if (kind == PG_CONN_REPLICATION)
        keys[n] = "replication", vals[n++] = "database";
    if (!option_given(opts, "application_name"))
        keys[n] = "application_name", vals[n++] = "sluice";
    if (!option_given(opts, "connect_timeout"))
        keys[n] = "connect_timeout", vals[n++] = "10";
    keys[n] = NULL, vals[n] = NULL;

    c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        set_err(err, errlen, "", "out of memory", NULL, NULL);
        goto out;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        set_err(err, errlen, "cannot connect: ", PQerrorMessage(c), password,
                option_value(opts, "password"));
        PQfinish(c);
        c = NULL;
        goto out;
    }
    /* The session settings pg_types' parsers rely on; a replication=database walsender accepts
     * SQL commands too, so both kinds get them. */
    res = PQexec(c, pg_types_session_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_err(err, errlen, "cannot apply session settings: ", PQerrorMessage(c), password,
                option_value(opts, "password"));
        PQfinish(c);
        c = NULL;
        goto out;
    }

out:
    PQclear(res);
    PQconninfoFree(opts);
    PQfreemem(parse_err);
    free(guessed);
    return c;
}

int pg_conn_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_err(err, errlen, "", res ? PQresultErrorMessage(res) : PQerrorMessage(c), NULL, NULL);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

int pg_conn_query_value(PGconn *c, const char *sql, char **out, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    int rc = -1;
    *out = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_err(err, errlen, "", res ? PQresultErrorMessage(res) : PQerrorMessage(c), NULL, NULL);
        goto out;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 1) {
        snprintf(err, errlen, "expected one value, got %d row(s) of %d column(s)", PQntuples(res),
                 PQnfields(res));
        goto out;
    }
    if (!PQgetisnull(res, 0, 0)) {
        *out = strdup(PQgetvalue(res, 0, 0));
        if (!*out) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Append the identifier part [p, p+n) to dst in double quotes ("" for an embedded quote). */
static void quote_part(char *dst, size_t *len, const char *p, size_t n)
{
    dst[(*len)++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            dst[(*len)++] = '"';
        dst[(*len)++] = p[i];
    }
    dst[(*len)++] = '"';
}

/* Parts are separated by '.'; a part may already be double-quoted ("My Schema"."T"), an
 * unquoted part is taken verbatim (case kept). c may be NULL: quoting needs no connection. */
char *pg_conn_quote_ident(PGconn *c, const char *ident)
{
    (void)c;
    if (!ident || !*ident)
        return NULL;
    size_t in = strlen(ident);
    char *out = malloc(in * 2 + 8), *part = malloc(in + 1);
    size_t len = 0;
    const char *p = ident;
    if (!out || !part)
        goto fail;
    for (;;) {
        size_t pn = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    goto fail;              /* unterminated quote */
                if (*p == '"') {
                    if (p[1] == '"') {
                        part[pn++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                part[pn++] = *p++;
            }
        } else {
            while (*p && *p != '.')
                part[pn++] = *p++;
        }
        if (pn == 0)
            goto fail;
        quote_part(out, &len, part, pn);
        if (*p == '\0')
            break;
        if (*p != '.')
            goto fail;
        out[len++] = '.';
        p++;
    }
    out[len] = '\0';
    free(part);
    return out;
fail:
    free(out);
    free(part);
    return NULL;
}

char *pg_conn_dbname(const char *conninfo)
{
    char *db = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val)
            db = strdup(o->val);
    PQconninfoFree(opts);
    return db ? db : strdup("");
}
