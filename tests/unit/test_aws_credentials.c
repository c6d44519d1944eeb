/* Unit tests for aws/aws_credentials: the chain's order (settings, environment, shared file,
 * container, instance role), partial key pairs refused, the shared credentials file's profiles,
 * the instance-role document, the instance-role path failing fast against a closed and a silent
 * local port, the container source's configuration (which URI wins, the hosts a full URI may
 * name, the authorization token's checks, no fall-back to the instance role) and the error
 * naming every place tried. The container and IMDS protocols themselves are exercised against
 * servers in test_aws_credentials_provider.c and tests/runtime/lake_credentials.sh. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/aws_credentials.h"
#include "core/fs.h"
#include "support/store_fixture.h"

static char *const empty_env[] = {NULL};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_settings_first(void **state)
{
    (void)state;
    char *env[] = {"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=envsecret", NULL};
    aws_credential_source src = {.access_key_id = "AKIDSET", .secret_access_key = "setsecret",
                                 .session_token = "settoken", .envp = env, .imds_endpoint = ""};
    aws_credentials c;
    char err[512] = "";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDSET");
    assert_string_equal(c.secret_access_key, "setsecret");
    assert_string_equal(c.session_token, "settoken");
    assert_string_equal(c.source, "settings");
    assert_int_equal(c.expires_unix, 0);

    src.secret_access_key = NULL;   /* half a key pair is an error, not a fall-through */
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "settings: access key id is set without a secret access key"));
    assert_string_equal(c.access_key_id, "");
}

static void test_environment(void **state)
{
    (void)state;
    char *env[] = {"HOME=/nonexistent", "AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=envsecret",
                   "AWS_SESSION_TOKEN=envtoken", NULL};
    aws_credential_source src = {.envp = env, .imds_endpoint = ""};
    aws_credentials c;
    char err[512] = "";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDENV");
    assert_string_equal(c.secret_access_key, "envsecret");
    assert_string_equal(c.session_token, "envtoken");
    assert_string_equal(c.source, "environment");

    /* empty settings strings go down the chain too */
    src.access_key_id = "";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.source, "environment");

    char *partial[] = {"AWS_ACCESS_KEY_ID=AKIDENV", NULL};
    src.envp = partial;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
}

static void test_shared_file(void **state)
{
    (void)state;
    char dir[600], path[700], home[700], env_file[800], env_home[800], err[512] = "";
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "awscreds"));
    snprintf(path, sizeof path, "%s/credentials", dir);
    write_file(path, "# shared credentials\r\n"
                     "[default]\r\n"
                     "aws_access_key_id = AKIDDEFAULT\r\n"
                     "aws_secret_access_key = defaultsecret\r\n"
                     "\r\n"
                     "; another profile, keys in any case, spaces around\n"
                     "  [ sluice ]  \n"
                     "AWS_Access_Key_Id=AKIDSLUICE\n"
                     "aws_secret_access_key =  sluice/secret+key=  \n"
                     "aws_session_token = sluicetoken\n"
                     "region = eu-west-1\n"
                     "[other]\n"
                     "aws_access_key_id = AKIDOTHER\n");
    snprintf(env_file, sizeof env_file, "AWS_SHARED_CREDENTIALS_FILE=%s", path);
    char *env[] = {env_file, "AWS_PROFILE=sluice", NULL};
    aws_credential_source src = {.envp = env, .imds_endpoint = ""};
    aws_credentials c;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDSLUICE");
    assert_string_equal(c.secret_access_key, "sluice/secret+key=");
    assert_string_equal(c.session_token, "sluicetoken");
    assert_string_equal(c.source, "shared file");

    /* default profile, found through HOME/.aws/credentials */
    snprintf(home, sizeof home, "%s/.aws", dir);
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(home, sizeof home, "%s/.aws/credentials", dir);
    assert_int_equal(rename(path, home), 0);
    snprintf(env_home, sizeof env_home, "HOME=%s", dir);
    char *env_default[] = {env_home, NULL};
    src.envp = env_default;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AKIDDEFAULT");
    assert_string_equal(c.secret_access_key, "defaultsecret");
    assert_string_equal(c.session_token, "");

    /* a profile that is not there: nothing found, and the error says which profile */
    char *env_missing[] = {env_home, "AWS_PROFILE=nope", NULL};
    src.envp = env_missing;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no profile [nope]"));
    assert_non_null(strstr(err, home));

    /* a key id without its secret is an error */
    char *env_partial[] = {env_home, "AWS_PROFILE=other", NULL};
    src.envp = env_partial;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "profile [other] has aws_access_key_id but no aws_secret_access_key"));

    assert_int_equal(fs_remove_tree(dir, err, sizeof err), 0);
}

static void test_nothing_found_names_every_place(void **state)
{
    (void)state;
    char *env[] = {"HOME=/nonexistent-sluice-home", NULL};
    aws_credential_source src = {.envp = env, .imds_endpoint = ""};
    aws_credentials c;
    char err[1024] = "";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no AWS credentials found"));
    assert_non_null(strstr(err, "settings: no access key id set"));
    assert_non_null(strstr(err, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"));
    assert_non_null(strstr(err, "shared file /nonexistent-sluice-home/.aws/credentials: No such file"));
    assert_non_null(strstr(err, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI not set"));
    assert_non_null(strstr(err, "instance role: skipped"));
    assert_true(strstr(err, "shared file") < strstr(err, "container:"));
    assert_true(strstr(err, "container:") < strstr(err, "instance role:"));

    src.container_endpoint = "";   /* the test switch, like imds_endpoint */
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "container: skipped (no container endpoint)"));
    src.container_endpoint = NULL;

    src.envp = empty_env;   /* no HOME at all */
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "shared file: neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set"));
}

/* A local TCP port with nothing listening: bind an ephemeral port, then close it. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_imds_closed_port(void **state)
{
    (void)state;
    char endpoint[64], want[160], err[1024] = "";
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", closed_port());
    aws_credential_source src = {.envp = empty_env, .imds_endpoint = endpoint, .imds_timeout_ms = 500};
    aws_credentials c;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_true(elapsed_ms(&t0) < 2000);
    snprintf(want, sizeof want, "instance role (IMDS %s): PUT /latest/api/token:", endpoint);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "Connection refused"));
    assert_non_null(strstr(err, "settings:"));
    assert_non_null(strstr(err, "environment:"));
    assert_non_null(strstr(err, "shared file"));
    /* the endpoint may come from AWS_EC2_METADATA_SERVICE_ENDPOINT, as in the AWS SDKs */
    char env_endpoint[128];
    snprintf(env_endpoint, sizeof env_endpoint, "AWS_EC2_METADATA_SERVICE_ENDPOINT=%s", endpoint);
    char *env[] = {env_endpoint, NULL};
    aws_credential_source from_env = {.envp = env, .imds_timeout_ms = 500, .container_endpoint = ""};
    err[0] = '\0';
    assert_int_equal(aws_credentials_resolve(&from_env, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, want));
}

static void test_imds_silent_port_times_out(void **state)
{
    (void)state;
    /* a socket that accepts connections (kernel backlog) but never answers */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    char endpoint[64], err[1024] = "";
    snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", ntohs(a.sin_port));
    aws_credential_source src = {.envp = empty_env, .imds_endpoint = endpoint, .imds_timeout_ms = 300};
    aws_credentials c;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    long ms = elapsed_ms(&t0);
    close(fd);
    assert_true(ms >= 250 && ms < 2000);
    assert_non_null(strstr(err, "timed out"));

    /* the SDKs' switch to keep off the metadata service */
    char *no_imds[] = {"AWS_EC2_METADATA_DISABLED=true", NULL};
    src.envp = no_imds;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "instance role: skipped (AWS_EC2_METADATA_DISABLED=true)"));
    src.envp = empty_env;

    /* https is refused up front */
    src.imds_endpoint = "https://169.254.169.254";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "only http:// is supported"));
}

static void test_imds_document(void **state)
{
    (void)state;
    /* the shape of the document in the EC2 User Guide ("Retrieve security credentials from
     * instance metadata") */
    const char *doc = "{\n"
                      "  \"Code\" : \"Success\",\n"
                      "  \"LastUpdated\" : \"2012-04-26T16:39:16Z\",\n"
                      "  \"Type\" : \"AWS-HMAC\",\n"
                      "  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n"
                      "  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n"
                      "  \"Token\" : \"token\",\n"
                      "  \"Expiration\" : \"2017-05-17T15:09:54Z\"\n"
                      "}";
    aws_credentials c;
    char err[256] = "";
    assert_int_equal(aws_credentials_from_imds_json(doc, strlen(doc), &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    assert_string_equal(c.session_token, "token");
    assert_int_equal(c.expires_unix, 1495033794);
    assert_string_equal(c.source, "instance role");

    const char *offset = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
                         "\"Expiration\":\"2017-05-17T17:09:54.123+02:00\"}";
    assert_int_equal(aws_credentials_from_imds_json(offset, strlen(offset), &c, err, sizeof err), 0);
    assert_int_equal(c.expires_unix, 1495033794);

    const char *failed = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}";
    assert_int_equal(aws_credentials_from_imds_json(failed, strlen(failed), &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "AssumeRoleUnauthorizedAccess"));
    const char *bad_time = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"tomorrow\"}";
    assert_int_equal(aws_credentials_from_imds_json(bad_time, strlen(bad_time), &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "Expiration"));
    assert_int_equal(aws_credentials_from_imds_json("[1]", 3, &c, err, sizeof err), -1);
    assert_int_equal(aws_credentials_from_imds_json("{\"AccessKeyId\":\"A\"}", 19, &c, err, sizeof err), -1);
    assert_string_equal(c.access_key_id, "");
}

static void test_container_order_and_errors(void **state)
{
    (void)state;
    char base[64], relative_err[256], err[2048] = "";
    int port = closed_port();
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    aws_credential_source src = {.imds_endpoint = "", .container_endpoint = base, .container_timeout_ms = 500};
    aws_credentials c;

    /* the environment comes before the container */
    char *env_first[] = {"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=envsecret",
                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x", NULL};
    src.envp = env_first;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), 0);
    assert_string_equal(c.source, "environment");

    /* configured but unreachable: an error at once, naming the URL, the earlier places, and
     * that the instance role is not tried (even though an IMDS endpoint is set) */
    char *env_rel[] = {"HOME=/nonexistent-sluice-home", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x",
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.1.2.3/ignored",
                       "AWS_CONTAINER_AUTHORIZATION_TOKEN=Bearer sekrit-token", NULL};
    src.envp = env_rel;
    src.imds_endpoint = "http://127.0.0.1:9";
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    snprintf(relative_err, sizeof relative_err, "container credentials (%s/v2/credentials/x): GET /v2/credentials/x:",
             base);
    assert_non_null(strstr(err, relative_err));
    assert_non_null(strstr(err, "Connection refused"));
    assert_non_null(strstr(err, "the instance role is not tried"));
    assert_non_null(strstr(err, "settings: no access key id set"));
    assert_non_null(strstr(err, "shared file /nonexistent-sluice-home/.aws/credentials"));
    assert_null(strstr(err, "IMDS"));
    assert_null(strstr(err, "sekrit"));
    assert_string_equal(c.access_key_id, "");
    src.imds_endpoint = "";

    char *env_bad_rel[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/credentials", NULL};
    src.envp = env_bad_rel;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "must start with '/'"));

    /* the full URI: loopback and the ECS/EKS agents only, http only; checked before connecting */
    const char *refused[] = {"http://10.1.2.3/creds", "http://example.com/creds", "http://127.0.0.1.nip.io/c",
                             "http://[fe80::1]/creds", "http://169.254.169.254/latest"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char full[128];
        snprintf(full, sizeof full, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s", refused[i]);
        char *env_full[] = {full, NULL};
        src.envp = env_full;
        assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
        assert_non_null(strstr(err, "is not allowed over http"));
    }
    char *env_https[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=https://localhost/creds", NULL};
    src.envp = env_https;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be an http:// URL"));
    const char *allowed[] = {"http://localhost:%d/creds", "http://127.0.0.1:%d/creds", "http://127.9.8.7:%d/creds",
                             "http://[::1]:%d/creds"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        char full[128], fmt[128];
        snprintf(fmt, sizeof fmt, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s", allowed[i]);
        snprintf(full, sizeof full, fmt, port);
        char *env_full[] = {full, NULL};
        src.envp = env_full;
        assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
        assert_null(strstr(err, "is not allowed"));
        assert_non_null(strstr(err, "GET /creds:"));   /* it did try to connect */
    }

    /* the authorization token: a missing file, an empty file, a line break */
    char *env_nofile[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/nonexistent-sluice-token", NULL};
    src.envp = env_nofile;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE /nonexistent-sluice-token: No such file"));
    char *env_empty[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
                         "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/dev/null", NULL};
    src.envp = env_empty;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/dev/null is empty"));
    char *env_crlf[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/c",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN=abc\r\nX-Injected: sekrit", NULL};
    src.envp = env_crlf;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN: the token contains a line break"));
    assert_null(strstr(err, "sekrit"));

    /* the default agent address for the relative URI */
    char *env_default[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/y", NULL};
    src.envp = env_default;
    src.container_endpoint = NULL;
    src.container_timeout_ms = 100;
    assert_int_equal(aws_credentials_resolve(&src, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "container credentials (http://169.254.170.2/v2/credentials/y)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_first),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_shared_file),
        cmocka_unit_test(test_nothing_found_names_every_place),
        cmocka_unit_test(test_imds_closed_port),
        cmocka_unit_test(test_imds_silent_port_times_out),
        cmocka_unit_test(test_imds_document),
        cmocka_unit_test(test_container_order_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
