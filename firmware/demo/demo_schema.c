/* demo_schema: locating config/demo and loading schema.sql and seed.sql into database shop
 * (see demo_schema.h). Each file runs as one simple-protocol query string, so a file may hold
 * many statements; a file without BEGIN/COMMIT runs as a single implicit transaction. */
#include "demo/demo_schema.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "demo/demo_cluster.h"

static int has_schema(const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/schema.sql", dir) >= (int)sizeof path)
        return 0;
    return access(path, R_OK) == 0;
}

int demo_schema_locate(const char *explicit_dir, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    if (explicit_dir) {
        if (!has_schema(explicit_dir)) {
            snprintf(err, errlen, "--demo-dir %s holds no readable schema.sql", explicit_dir);
            return -1;
        }
        snprintf(out, outlen, "%s", explicit_dir);
        return 0;
    }
    const char *env = getenv("SLUICE_DEMO_DIR");
    if (env && *env) {
        if (!has_schema(env)) {
            snprintf(err, errlen, "SLUICE_DEMO_DIR=%s holds no readable schema.sql", env);
            return -1;
        }
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    char candidates[3][4200];
    int n = 0;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *dir = dirname(exe);
        snprintf(candidates[n++], sizeof candidates[0], "%s/../config/demo", dir);
        snprintf(candidates[n++], sizeof candidates[0], "%s/../../config/demo", dir);
    }
    snprintf(candidates[n++], sizeof candidates[0], "/usr/share/sluice/demo");
    for (int i = 0; i < n; i++) {
        if (has_schema(candidates[i])) {
            char *real = realpath(candidates[i], NULL);
            snprintf(out, outlen, "%s", real ? real : candidates[i]);
            free(real);
            return 0;
        }
    }
    size_t used = (size_t)snprintf(err, errlen,
                                   "demo SQL files (schema.sql, seed.sql) not found; looked in");
    for (int i = 0; i < n && used < errlen; i++)
        used += (size_t)snprintf(err + used, errlen - used, "%s %s", i ? "," : "", candidates[i]);
    if (used < errlen)
        snprintf(err + used, errlen - used, "; use --demo-dir DIR or SLUICE_DEMO_DIR");
    return -1;
}

/* Read a whole file into a malloc'd string; NULL with the reason in err. */
static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf text = BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&text, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "cannot read %s", path);
        buf_free(&text);
        return NULL;
    }
    return buf_take(&text);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static int run_sql(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(res));
        trim(err);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static int run_file(PGconn *conn, const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        snprintf(err, errlen, "path too long: %s", dir);
        return -1;
    }
    char *sql = read_file(path, err, errlen);
    if (!sql)
        return -1;
    log_info("demo", "loading %s", path);
    int rc = run_sql(conn, sql, path, err, errlen);
    free(sql);
    return rc;
}

int demo_schema_load(int port, const char *dir, char *err, size_t errlen)
{
    PGconn *conn = demo_pg_connect(port, "postgres", "sluice-demo", err, errlen);
    if (!conn)
        return -1;
    int rc = run_sql(conn, "CREATE DATABASE " DEMO_SCHEMA_DBNAME, "CREATE DATABASE", err, errlen);
    PQfinish(conn);
    if (rc < 0)
        return -1;

    conn = demo_pg_connect(port, DEMO_SCHEMA_DBNAME, "sluice-demo", err, errlen);
    if (!conn)
        return -1;
    rc = run_file(conn, dir, "schema.sql", err, errlen);
    if (rc == 0)
        rc = run_file(conn, dir, "seed.sql", err, errlen);
    PQfinish(conn);
    return rc;
}
