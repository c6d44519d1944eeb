/* Unit tests for aws/aws_credentials_provider (the cache in front of the credential chain), with
 * time passed in: credentials without an expiry are resolved once; expiring ones are resolved
 * again AWS_CREDENTIALS_REFRESH_S before their expiry and not earlier; a failed refresh returns
 * the cached credentials while they are valid and fails once they have expired; the source is
 * deep-copied. Temporary credentials come from the chain's container source, served by a small
 * HTTP server on a loopback port in a thread of this program (which also checks the container
 * request: path, Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN and _TOKEN_FILE).
 *
 * The same program is the driver of tests/runtime/lake_credentials.sh (tests/tools/ programs do
 * not link sluicecore):
 *   test_aws_credentials_provider get [--imds URL] [--container-endpoint URL] [--timeout-ms MS] NOW...
 * resolves through one provider, from the process environment, once per NOW (Unix seconds, or
 * "now"), printing per call "ok now=N key=AKID expires=E token=yes|no source=S" (plus
 * "refresh-error now=N REASON" when a failed refresh kept the cached credentials) or
 * "error now=N REASON". It never prints a secret access key or a session token. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/aws_credentials_provider.h"
#include "core/fs.h"
#include "support/store_fixture.h"

#define E1 INT64_C(2000000000)   /* 2033-05-18T03:33:20Z */

/* ---- a container credentials endpoint on loopback ---- */

typedef struct cred_server {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    int fail_status;        /* answer this status instead of credentials when non-zero */
    int64_t expires[4];     /* expiry of the n-th set served (the last one repeats); 0 = none */
    int nexpires;
    int requests;           /* every request seen */
    int served;             /* credential sets served */
    char last_target[256];
    char last_auth[256];    /* the Authorization header of the last request, "" when absent */
} cred_server;

static void iso8601(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Read one request head (the requests here have no body) and answer it. */
static void cred_server_answer(cred_server *s, int c)
{
    char req[4096];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = '\0';

    char body[1024], head[256], exp[32];
    int status = 200;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    s->last_target[0] = s->last_auth[0] = '\0';
    sscanf(req, "%*s %255s", s->last_target);
    const char *auth = strstr(req, "\r\nAuthorization: ");
    if (auth)
        sscanf(auth + 17, "%255[^\r]", s->last_auth);
    if (s->fail_status) {
        status = s->fail_status;
        snprintf(body, sizeof body, "{\"code\":\"Unavailable\"}");
    } else {
        int i = s->served < s->nexpires ? s->served : s->nexpires - 1;
        int64_t e = i >= 0 ? s->expires[i] : 0;
        s->served++;
        iso8601(e, exp);
        snprintf(body, sizeof body,
                 "{\"RoleArn\":\"arn:aws:iam::123456789012:role/test\",\"AccessKeyId\":\"ASIATEST%04d\","
                 "\"SecretAccessKey\":\"secret-%d\",\"Token\":\"token-%d\"%s%s%s}",
                 s->served, s->served, s->served, e ? ",\"Expiration\":\"" : "", e ? exp : "", e ? "\"" : "");
    }
    pthread_mutex_unlock(&s->mu);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      status, strlen(body));
    if (write(c, head, (size_t)hl) != hl || write(c, body, strlen(body)) != (ssize_t)strlen(body))
        fprintf(stderr, "cred_server: short write\n");
}

static void *cred_server_run(void *arg)
{
    cred_server *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            if (c >= 0)
                close(c);
            return NULL;
        }
        if (c < 0)
            continue;
        cred_server_answer(s, c);
        close(c);
    }
}

static cred_server *cred_server_start(void)
{
    cred_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->mu, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, cred_server_run, s), 0);
    return s;
}

static void cred_server_stop(cred_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    int c = socket(AF_INET, SOCK_STREAM, 0);   /* wake accept() */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    pthread_join(s->thread, NULL);
    close(c);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int cred_server_get(cred_server *s, int *requests)
{
    pthread_mutex_lock(&s->mu);
    int served = s->served;
    if (requests)
        *requests = s->requests;
    pthread_mutex_unlock(&s->mu);
    return served;
}

/* The last request's target and Authorization header are these. */
static void cred_server_expect(cred_server *s, const char *target, const char *auth)
{
    char t[256], a[256];
    pthread_mutex_lock(&s->mu);
    memcpy(t, s->last_target, sizeof t);
    memcpy(a, s->last_auth, sizeof a);
    pthread_mutex_unlock(&s->mu);
    assert_string_equal(t, target);
    assert_string_equal(a, auth);
}

static void cred_server_set_fail(cred_server *s, int status)
{
    pthread_mutex_lock(&s->mu);
    s->fail_status = status;
    pthread_mutex_unlock(&s->mu);
}

/* A source that reaches the container endpoint of s only (no instance role). */
static aws_credential_source container_source(const cred_server *s, char endpoint[64], char *const *envp)
{
    snprintf(endpoint, 64, "http://127.0.0.1:%d", s->port);
    aws_credential_source src = {.envp = envp, .imds_endpoint = "", .container_endpoint = endpoint,
                                 .container_timeout_ms = 2000};
    return src;
}

static char *container_env[] = {"HOME=/nonexistent-sluice-home", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/creds/abc",
                                NULL};

/* ---- tests ---- */

static void test_no_expiry_resolved_once(void **state)
{
    (void)state;
    cred_server *s = cred_server_start();   /* serves credentials without Expiration */
    char endpoint[64], err[1024] = "";
    aws_credential_source src = container_source(s, endpoint, container_env);
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    assert_non_null(p);
    aws_credentials c;
    const int64_t times[] = {1000, E1, E1 * 10, 5};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        assert_int_equal(aws_credentials_provider_get(p, times[i], &c, err, sizeof err), 0);
        assert_string_equal(c.access_key_id, "ASIATEST0001");
        assert_string_equal(c.secret_access_key, "secret-1");
        assert_string_equal(c.session_token, "token-1");
        assert_string_equal(c.source, "container");
        assert_int_equal(c.expires_unix, 0);
    }
    int requests;
    assert_int_equal(cred_server_get(s, &requests), 1);
    assert_int_equal(requests, 1);
    cred_server_expect(s, "/v2/creds/abc", "");
    aws_credentials_provider_destroy(p);
    cred_server_stop(s);
}

static void test_refresh_before_expiry(void **state)
{
    (void)state;
    cred_server *s = cred_server_start();
    s->expires[0] = E1;
    s->expires[1] = E1 + 3600;
    s->nexpires = 2;
    char endpoint[64], err[1024] = "";
    aws_credential_source src = container_source(s, endpoint, container_env);
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    assert_non_null(p);
    aws_credentials c;

    assert_int_equal(aws_credentials_provider_get(p, E1 - 3000, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    assert_int_equal(c.expires_unix, E1);
    /* valid for more than AWS_CREDENTIALS_REFRESH_S: the cached set, no request */
    assert_int_equal(aws_credentials_provider_get(p, E1 - AWS_CREDENTIALS_REFRESH_S - 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    assert_int_equal(cred_server_get(s, NULL), 1);
    /* due: exactly AWS_CREDENTIALS_REFRESH_S before the expiry, the next set is fetched */
    assert_int_equal(aws_credentials_provider_get(p, E1 - AWS_CREDENTIALS_REFRESH_S, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0002");
    assert_string_equal(c.secret_access_key, "secret-2");
    assert_int_equal(c.expires_unix, E1 + 3600);
    assert_int_equal(cred_server_get(s, NULL), 2);
    /* and that one is kept until its own refresh point */
    assert_int_equal(aws_credentials_provider_get(p, E1 + 3600 - AWS_CREDENTIALS_REFRESH_S - 1, &c, err, sizeof err),
                     0);
    assert_string_equal(c.access_key_id, "ASIATEST0002");
    assert_int_equal(cred_server_get(s, NULL), 2);
    assert_int_equal(aws_credentials_provider_get(p, E1 + 3600 - 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0003");   /* expires[1] repeats */
    assert_int_equal(cred_server_get(s, NULL), 3);
    aws_credentials_provider_destroy(p);
    cred_server_stop(s);
}

static void test_failed_refresh(void **state)
{
    (void)state;
    cred_server *s = cred_server_start();
    s->expires[0] = E1;
    s->expires[1] = E1 + 3600;
    s->nexpires = 2;
    char endpoint[64], err[1024] = "";
    aws_credential_source src = container_source(s, endpoint, container_env);
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    assert_non_null(p);
    aws_credentials c;
    int requests;

    assert_int_equal(aws_credentials_provider_get(p, E1 - 1000, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    cred_server_set_fail(s, 500);

    /* due, the refresh fails: the still-valid cached set, and the failure in err */
    err[0] = '\0';
    assert_int_equal(aws_credentials_provider_get(p, E1 - 100, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    assert_string_equal(c.secret_access_key, "secret-1");
    assert_non_null(strstr(err, "HTTP 500"));
    assert_int_equal(cred_server_get(s, &requests), 1);
    assert_int_equal(requests, 2);
    /* retried on the next call, still the cached set one second before the expiry */
    assert_int_equal(aws_credentials_provider_get(p, E1 - 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    assert_int_equal(cred_server_get(s, &requests), 1);
    assert_int_equal(requests, 3);
    /* expired: an error, and no credentials */
    memset(&c, 0, sizeof c);
    err[0] = '\0';
    assert_int_equal(aws_credentials_provider_get(p, E1, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "container credentials (http://127.0.0.1:"));
    assert_non_null(strstr(err, "HTTP 500"));
    assert_null(strstr(err, "secret-1"));
    assert_int_equal(aws_credentials_provider_get(p, E1 + 60, &c, err, sizeof err), -1);
    assert_int_equal(cred_server_get(s, &requests), 1);
    assert_int_equal(requests, 5);

    /* the endpoint is back: resolved again at once */
    cred_server_set_fail(s, 0);
    assert_int_equal(aws_credentials_provider_get(p, E1 + 61, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0002");
    assert_int_equal(c.expires_unix, E1 + 3600);
    aws_credentials_provider_destroy(p);
    cred_server_stop(s);
}

static void test_failure_without_cache(void **state)
{
    (void)state;
    cred_server *s = cred_server_start();
    s->expires[0] = 1000000000;   /* 2001: already expired at the times below */
    s->nexpires = 1;
    char endpoint[64], err[1024] = "";
    aws_credential_source src = container_source(s, endpoint, container_env);
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    assert_non_null(p);
    aws_credentials c;
    assert_int_equal(aws_credentials_provider_get(p, E1, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "credentials from the container expired at 1000000000 (now 2000000000)"));
    assert_int_equal(cred_server_get(s, NULL), 1);
    /* a first resolve that fails is an error at any time */
    cred_server_set_fail(s, 503);
    assert_int_equal(aws_credentials_provider_get(p, 5, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "HTTP 503"));
    aws_credentials_provider_destroy(p);
    cred_server_stop(s);
}

/* The provider keeps its own copies: the caller's strings and environment may change or go. */
static void test_source_is_copied(void **state)
{
    (void)state;
    char id[] = "AKIDSETTINGS", secret[] = "settings-secret";
    aws_credential_source src = {.access_key_id = id, .secret_access_key = secret, .imds_endpoint = "",
                                 .container_endpoint = ""};
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    assert_non_null(p);
    memset(id, 'x', sizeof id - 1);
    memset(secret, 'x', sizeof secret - 1);
    aws_credentials c;
    char err[1024] = "";
    assert_int_equal(aws_credentials_provider_get(p, 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDSETTINGS");
    assert_string_equal(c.secret_access_key, "settings-secret");
    assert_string_equal(c.source, "settings");
    aws_credentials_provider_destroy(p);

    char kid[] = "AWS_ACCESS_KEY_ID=AKIDENV", ksecret[] = "AWS_SECRET_ACCESS_KEY=env-secret";
    char *env[] = {kid, ksecret, NULL};
    aws_credential_source esrc = {.envp = env, .imds_endpoint = "", .container_endpoint = ""};
    p = aws_credentials_provider_create(&esrc);
    assert_non_null(p);
    env[0] = env[1] = NULL;
    memset(kid, 'x', sizeof kid - 1);
    assert_int_equal(aws_credentials_provider_get(p, 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDENV");
    assert_string_equal(c.source, "environment");
    aws_credentials_provider_destroy(p);
    aws_credentials_provider_destroy(NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The container source end to end: the full URI on loopback, the Authorization header from the
 * token file (re-read on every fetch; it wins over the variable) or from the variable. */
static void test_container_full_uri_and_token(void **state)
{
    (void)state;
    cred_server *s = cred_server_start();
    char dir[600], file[700], full[128], env_file[800], err[1024] = "";
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "awscreds"));
    snprintf(file, sizeof file, "%s/token", dir);
    write_file(file, "file-token-1\n");
    snprintf(full, sizeof full, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:%d/get?x=1", s->port);
    snprintf(env_file, sizeof env_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s", file);
    char *env[] = {full, env_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN=env-token", NULL};
    aws_credential_source src = {.envp = env, .imds_endpoint = "", .container_timeout_ms = 2000};
    aws_credentials c;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIATEST0001");
    assert_string_equal(c.source, "container");
    cred_server_expect(s, "/get?x=1", "file-token-1");

    write_file(file, "file-token-2");   /* rotated */
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    cred_server_expect(s, "/get?x=1", "file-token-2");

    env[1] = env[2];   /* the variable alone */
    env[2] = NULL;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    cred_server_expect(s, "/get?x=1", "env-token");

    /* refused by the endpoint: an error naming the URL and the status, never the token */
    cred_server_set_fail(s, 401);
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "container credentials (http://localhost:"));
    assert_non_null(strstr(err, "HTTP 401"));
    assert_null(strstr(err, "env-token"));
    assert_string_equal(c.access_key_id, "");
    assert_int_equal(fs_remove_tree(dir, err, sizeof err), 0);
    cred_server_stop(s);
}

/* ---- the runtime test's driver ---- */

static int driver_usage(void)
{
    fprintf(stderr, "usage: test_aws_credentials_provider get [--imds URL] [--container-endpoint URL] "
                    "[--timeout-ms MS] NOW...\n");
    return 2;
}

static int driver_get(int argc, char **argv)
{
    aws_credential_source src = {0};
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--imds") == 0)
            src.imds_endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--container-endpoint") == 0)
            src.container_endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--timeout-ms") == 0)
            src.imds_timeout_ms = src.container_timeout_ms = atoi(argv[i + 1]);
        else
            return driver_usage();
    }
    if (i >= argc)
        return driver_usage();
    aws_credentials_provider *p = aws_credentials_provider_create(&src);
    if (!p)
        return 1;
    for (; i < argc; i++) {
        char *end;
        int64_t now = strcmp(argv[i], "now") == 0 ? (int64_t)time(NULL) : (int64_t)strtoll(argv[i], &end, 10);
        if (strcmp(argv[i], "now") != 0 && (*end || end == argv[i])) {
            aws_credentials_provider_destroy(p);
            return driver_usage();
        }
        aws_credentials c;
        char err[2048] = "";
        if (aws_credentials_provider_get(p, now, &c, err, sizeof err) < 0) {
            printf("error now=%lld %s\n", (long long)now, err);
        } else {
            printf("ok now=%lld key=%s expires=%lld token=%s source=%s\n", (long long)now, c.access_key_id,
                   (long long)c.expires_unix, c.session_token[0] ? "yes" : "no", c.source);
            if (err[0])
                printf("refresh-error now=%lld %s\n", (long long)now, err);
        }
        memset(&c, 0, sizeof c);
        fflush(stdout);
    }
    aws_credentials_provider_destroy(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "get") == 0)
        return driver_get(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_expiry_resolved_once),
        cmocka_unit_test(test_refresh_before_expiry),
        cmocka_unit_test(test_failed_refresh),
        cmocka_unit_test(test_failure_without_cache),
        cmocka_unit_test(test_source_is_copied),
        cmocka_unit_test(test_container_full_uri_and_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
