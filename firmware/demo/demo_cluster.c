/* demo_cluster: initdb, configuration, start, readiness and shutdown of the demo's
 * PostgreSQL server (see demo_cluster.h). The server listens on 127.0.0.1 only with trust
 * authentication, wal_level=logical, and logs to <datadir>/log/postgresql.log. */
#include "demo/demo_cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "demo/demo_fs.h"

#define DEMO_PG_FALLBACK_BINDIR "/usr/lib/postgresql/15/bin"
#define DEMO_INITDB_TIMEOUT_MS 180000L
#define DEMO_STOP_GRACE_MS 30000L

struct demo_cluster {
    char bindir[1024];
    char datadir[1024];
    char logdir[1100];
    char logpath[1200];
    int port;
    int as_postgres;   /* 1 when sluice is root: children run as the postgres user */
    uid_t uid;
    gid_t gid;
    pid_t pid;         /* the postmaster, 0 when not running */
};

static int is_executable(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, X_OK) == 0;
}

/* Look for program in $PATH; 0 with its full path in out. */
static int path_search(const char *program, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n > 0 && n < outlen - strlen(program) - 2) {
            snprintf(out, outlen, "%.*s/%s", (int)n, path, program);
            if (access(out, X_OK) == 0)
                return 0;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return -1;
}

/* bindir from `pg_config --bindir`; 0 when it names a directory holding postgres and initdb. */
static int bindir_from_pg_config(char *out, size_t outlen)
{
    char exe[1024], err[256];
    if (path_search("pg_config", exe, sizeof exe) < 0)
        return -1;
    char *argv[] = {"pg_config", "--bindir", NULL};
    demo_proc_spec spec = {.path = exe, .argv = argv, .out_fd = -1};
    buf out_text = BUF_INIT;
    int rc = demo_proc_run(&spec, 10000, NULL, NULL, &out_text, err, sizeof err);
    if (rc == 0 && out_text.data) {
        char *nl = strchr(out_text.data, '\n');
        if (nl)
            *nl = '\0';
        if (strlen(out_text.data) < outlen && is_executable(out_text.data, "postgres") &&
            is_executable(out_text.data, "initdb"))
            snprintf(out, outlen, "%s", out_text.data);
        else
            rc = -1;
    }
    buf_free(&out_text);
    return rc;
}

demo_cluster *demo_cluster_create(const char *datadir, int port, char *err, size_t errlen)
{
    demo_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (datadir[0] != '/' || strlen(datadir) >= sizeof c->datadir) {
        snprintf(err, errlen, "data directory must be an absolute path: %s", datadir);
        free(c);
        return NULL;
    }
    snprintf(c->datadir, sizeof c->datadir, "%s", datadir);
    snprintf(c->logdir, sizeof c->logdir, "%s/log", datadir);
    snprintf(c->logpath, sizeof c->logpath, "%s/postgresql.log", c->logdir);
    c->port = port;

    if (bindir_from_pg_config(c->bindir, sizeof c->bindir) < 0) {
        if (is_executable(DEMO_PG_FALLBACK_BINDIR, "postgres") &&
            is_executable(DEMO_PG_FALLBACK_BINDIR, "initdb")) {
            snprintf(c->bindir, sizeof c->bindir, "%s", DEMO_PG_FALLBACK_BINDIR);
        } else {
            snprintf(err, errlen,
                     "PostgreSQL server programs (postgres, initdb) not found via pg_config "
                     "--bindir nor in " DEMO_PG_FALLBACK_BINDIR
                     "; install the Debian package postgresql-15 (apt-get install postgresql-15)");
            free(c);
            return NULL;
        }
    }

    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw) {
            snprintf(err, errlen,
                     "running as root, but there is no user 'postgres' to run the server as "
                     "(the Debian package postgresql-15 creates it)");
            free(c);
            return NULL;
        }
        c->as_postgres = 1;
        c->uid = pw->pw_uid;
        c->gid = pw->pw_gid;
    } else {
        c->uid = geteuid();
        c->gid = getegid();
    }
    return c;
}

void demo_cluster_destroy(demo_cluster *c)
{
    if (!c)
        return;
    demo_cluster_stop(c);
    free(c);
}

int demo_cluster_port(const demo_cluster *c) { return c->port; }
const char *demo_cluster_bindir(const demo_cluster *c) { return c->bindir; }
const char *demo_cluster_log_path(const demo_cluster *c) { return c->logpath; }

static int give_to_server_user(const demo_cluster *c, const char *path, int fd,
                               char *err, size_t errlen)
{
    if (!c->as_postgres)
        return 0;
    int rc = fd >= 0 ? fchown(fd, c->uid, c->gid) : chown(path, c->uid, c->gid);
    if (rc < 0) {
        snprintf(err, errlen, "cannot chown %s to postgres: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The last lines (at most ~1.5 KB) of text, indented, appended to err after a newline. */
static void append_tail(char *err, size_t errlen, const char *label, const char *text)
{
    if (!text || !*text)
        return;
    size_t len = strlen(text);
    const char *start = len > 1500 ? text + len - 1500 : text;
    if (start != text) {
        const char *nl = strchr(start, '\n');
        if (nl)
            start = nl + 1;
    }
    size_t used = strlen(err);
    if (used + 2 < errlen)
        snprintf(err + used, errlen - used, "\n--- %s ---\n%s", label, start);
    used = strlen(err);
    while (used > 0 && err[used - 1] == '\n')
        err[--used] = '\0';
}

static void append_log_tail(const demo_cluster *c, char *err, size_t errlen)
{
    FILE *f = fopen(c->logpath, "r");
    if (!f)
        return;
    char text[2048];
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > (long)sizeof text - 1 ? size - (long)sizeof text + 1 : 0, SEEK_SET);
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char label[1300];
    snprintf(label, sizeof label, "tail of %s", c->logpath);
    append_tail(err, errlen, label, text);
}

/* A value for postgresql.conf inside single quotes. */
static void conf_quote(char *out, size_t outlen, const char *value)
{
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < outlen; p++) {
        if (*p == '\'' || *p == '\\')
            out[o++] = *p;
        out[o++] = *p;
    }
    out[o] = '\0';
}

static int write_config(const demo_cluster *c, char *err, size_t errlen)
{
    char path[1200], quoted[2100];
    /* Unix socket in the data directory when the path fits in sockaddr_un, else TCP only. */
    struct sockaddr_un sun;
    int socket_fits = strlen(c->datadir) + strlen("/.s.PGSQL.65535") < sizeof sun.sun_path;
    conf_quote(quoted, sizeof quoted, socket_fits ? c->datadir : "");

    snprintf(path, sizeof path, "%s/postgresql.conf", c->datadir);
    FILE *f = fopen(path, "a");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "\n# Added by `sluice demo`: a local change-data-capture source.\n"
            "listen_addresses = '127.0.0.1'\n"
            "port = %d\n"
            "unix_socket_directories = '%s'\n"
            "wal_level = logical\n"
            "max_replication_slots = 10\n"
            "max_wal_senders = 10\n",
            c->port, quoted);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof path, "%s/pg_hba.conf", c->datadir);
    f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("# Written by `sluice demo`: trust, but only on this machine.\n"
          "# TYPE  DATABASE     USER  ADDRESS        METHOD\n"
          "local   all          all                  trust\n"
          "host    all          all   127.0.0.1/32   trust\n"
          "local   replication  all                  trust\n"
          "host    replication  all   127.0.0.1/32   trust\n",
          f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int demo_cluster_init(demo_cluster *c, demo_interrupt_fn interrupt, void *ctx,
                      char *err, size_t errlen)
{
    if (mkdir(c->datadir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", c->datadir, strerror(errno));
        return -1;
    }
    if (give_to_server_user(c, c->datadir, -1, err, errlen) < 0)
        return -1;
    if (demo_fs_check_traversable(c->datadir, c->uid, c->gid, err, errlen) < 0)
        return -1;

    char initdb[1200];
    snprintf(initdb, sizeof initdb, "%s/initdb", c->bindir);
    char *argv[] = {"initdb", "-D", c->datadir, "-U", "postgres", "-E", "UTF8", "--no-locale",
                    "--auth-local=trust", "--auth-host=trust", "--no-instructions", NULL};
    demo_proc_spec spec = {.path = initdb, .argv = argv, .switch_user = c->as_postgres,
                           .uid = c->uid, .gid = c->gid, .out_fd = -1,
                           .death_signal = SIGTERM};
    buf output = BUF_INIT;
    log_info("demo", "initdb %s", c->datadir);
    int rc = demo_proc_run(&spec, DEMO_INITDB_TIMEOUT_MS, interrupt, ctx, &output, err, errlen);
    if (rc < 0) {
        append_tail(err, errlen, "initdb output", output.data);
        buf_free(&output);
        return -1;
    }

    if (mkdir(c->logdir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", c->logdir, strerror(errno));
        buf_free(&output);
        return -1;
    }
    if (give_to_server_user(c, c->logdir, -1, err, errlen) < 0) {
        buf_free(&output);
        return -1;
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/initdb.log", c->logdir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(output.data ? output.data : "", f);
        fclose(f);
    }
    buf_free(&output);
    return write_config(c, err, errlen);
}

/* 0 when nothing listens on 127.0.0.1:port (we could bind it). */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 1; /* cannot tell; let postgres report it */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as postgres does */
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

int demo_cluster_start(demo_cluster *c, char *err, size_t errlen)
{
    if (c->pid > 0) {
        snprintf(err, errlen, "PostgreSQL is already running");
        return -1;
    }
    if (!port_free(c->port)) {
        snprintf(err, errlen, "port 127.0.0.1:%d is already in use; choose another with --pg-port",
                 c->port);
        return -1;
    }
    int fd = open(c->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", c->logpath, strerror(errno));
        return -1;
    }
    if (give_to_server_user(c, c->logpath, fd, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    char postgres[1200];
    snprintf(postgres, sizeof postgres, "%s/postgres", c->bindir);
    char *argv[] = {"postgres", "-D", c->datadir, NULL};
    /* Own process group: a terminal's ^C reaches sluice only, which then shuts the server down
     * in order. Death signal SIGINT (fast shutdown) rather than SIGTERM (smart shutdown, which
     * would wait for every client to leave) so the server never outlives a killed sluice. */
    demo_proc_spec spec = {.path = postgres, .argv = argv, .switch_user = c->as_postgres,
                           .uid = c->uid, .gid = c->gid, .out_fd = fd, .new_group = 1,
                           .death_signal = SIGINT};
    int rc = demo_proc_spawn(&spec, &c->pid, err, errlen);
    close(fd);
    if (rc < 0)
        return -1;
    log_info("demo", "postgres started (pid %ld), log %s", (long)c->pid, c->logpath);
    return 0;
}

void demo_pg_message_copy(char *out, size_t outlen, const char *msg)
{
    size_t o = 0;
    int space = 0;
    if (outlen == 0)
        return;
    for (const char *p = msg ? msg : ""; *p && o + 1 < outlen; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            space = 1;
            continue;
        }
        if (space && o > 0 && o + 2 < outlen)
            out[o++] = ' ';
        space = 0;
        out[o++] = *p;
    }
    out[o] = '\0';
}

PGconn *demo_pg_connect(int port, const char *dbname, const char *application_name,
                        char *err, size_t errlen)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    const char *keys[] = {"host", "port", "dbname", "user", "application_name",
                          "connect_timeout", NULL};
    const char *values[] = {"127.0.0.1", port_text, dbname, "postgres",
                            application_name ? application_name : "sluice-demo", "5", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 0);
    if (!conn) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        demo_pg_message_copy(msg, sizeof msg, PQerrorMessage(conn));
        snprintf(err, errlen, "cannot connect to 127.0.0.1:%d/%s: %s", port, dbname, msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, NULL, NULL); /* NULL processor: notices are dropped */
    return conn;
}

/* 0 when the server on our port runs from our data directory. */
static int check_identity(const demo_cluster *c, char *err, size_t errlen)
{
    PGconn *conn = demo_pg_connect(c->port, "postgres", "sluice-demo", err, errlen);
    if (!conn)
        return -1;
    PGresult *res = PQexec(conn, "SHOW data_directory");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(err, errlen, "SHOW data_directory failed: %s", PQerrorMessage(conn));
        rc = -1;
    } else if (strcmp(PQgetvalue(res, 0, 0), c->datadir) != 0) {
        snprintf(err, errlen, "port %d is served by another PostgreSQL (data directory %s)",
                 c->port, PQgetvalue(res, 0, 0));
        rc = -1;
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int demo_cluster_wait_ready(demo_cluster *c, long timeout_ms, demo_interrupt_fn interrupt,
                            void *ctx, char *err, size_t errlen)
{
    char conninfo[128];
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%d dbname=postgres user=postgres connect_timeout=2", c->port);
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int status;
        if (c->pid <= 0) {
            snprintf(err, errlen, "PostgreSQL is not running");
            return -1;
        }
        if (demo_proc_wait(c->pid, 0, NULL, NULL, &status) == DEMO_WAIT_EXITED) {
            char how[64];
            demo_proc_status_describe(status, how, sizeof how);
            c->pid = 0;
            snprintf(err, errlen, "PostgreSQL exited during start-up (%s)", how);
            append_log_tail(c, err, errlen);
            return -1;
        }
        if (PQping(conninfo) == PQPING_OK)
            return check_identity(c, err, errlen);
        if (interrupt && interrupt(ctx)) {
            snprintf(err, errlen, "interrupted while waiting for PostgreSQL");
            return -1;
        }
        if (now_ms() >= deadline) {
            snprintf(err, errlen, "PostgreSQL did not accept connections on 127.0.0.1:%d within %ld s",
                     c->port, timeout_ms / 1000);
            append_log_tail(c, err, errlen);
            return -1;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void demo_cluster_stop(demo_cluster *c)
{
    if (!c || c->pid <= 0)
        return;
    log_info("demo", "stopping postgres (pid %ld)", (long)c->pid);
    if (demo_proc_terminate(c->pid, SIGINT, DEMO_STOP_GRACE_MS) != 0)
        log_warn("demo", "postgres did not stop within %ld s and was killed",
                 DEMO_STOP_GRACE_MS / 1000);
    else
        log_info("demo", "postgres stopped");
    c->pid = 0;
}
