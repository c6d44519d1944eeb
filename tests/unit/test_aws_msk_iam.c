/* Unit tests for aws/aws_msk_iam: the token decoded back to the URL that @smithy/signature-v4
 * presigns the way aws-msk-iam-sasl-signer-js does (tests/e2e/tools/sigv4_vectors.mjs), the
 * token itself, its expiry, the default user agent, and refusal of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <mbedtls/base64.h>

#include "aws/aws_msk_iam.h"

/* Produced by tests/e2e/tools/sigv4_vectors.mjs (@smithy/signature-v4 5.7.5, the steps of
 * aws-msk-iam-sasl-signer-js getMSKAuthToken.ts with the time fixed and User-Agent "sluice/test");
 * tests/runtime/unit_aws_sigv4.sh re-runs the script and fails if its output no longer equals
 * these lines. Do not edit by hand. */
static const struct vector {
    const char *name;
    const char *value;
} vectors[] = {
    {"msk_iam_token_url", "https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&User-Agent=sluice%2Ftest&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLETEMPKEY01%2F20240501%2Fus-east-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20240501T123456Z&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2F%2Fsession%2Btoken%2Fwith%3Dchars&X-Amz-Signature=0e547d7a780fb8875a27286c696f7667689125a460a45c98ea42407fe93ba1b8&X-Amz-SignedHeaders=host"},
    {"msk_iam_token", "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9c2x1aWNlJTJGdGVzdCZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFFWEFNUExFVEVNUEtFWTAxJTJGMjAyNDA1MDElMkZ1cy1lYXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDA1MDFUMTIzNDU2WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TZWN1cml0eS1Ub2tlbj1JUW9KYjNKcFoybHVYMlZqRVhBTVBMRSUyRiUyRnNlc3Npb24lMkJ0b2tlbiUyRndpdGglM0RjaGFycyZYLUFtei1TaWduYXR1cmU9MGU1NDdkN2E3ODBmYjg4NzVhMjcyODZjNjk2Zjc2Njc2ODkxMjVhNDYwYTQ1Yzk4ZWE0MjQwN2ZlOTNiYTFiOCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q"},
    {"msk_iam_keys_url", "https://kafka.eu-west-2.amazonaws.com/?Action=kafka-cluster%3AConnect&User-Agent=sluice%2Ftest&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240501%2Feu-west-2%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20240501T123456Z&X-Amz-Expires=900&X-Amz-Signature=fb0b2b0b94d7c0a552f28ca8cd983e6a3a77e13b0c4b0936e8aa64e7a36fcdbe&X-Amz-SignedHeaders=host"},
    {"msk_iam_keys_token", "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTIuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9c2x1aWNlJTJGdGVzdCZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSURFWEFNUExFJTJGMjAyNDA1MDElMkZldS13ZXN0LTIlMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDA1MDFUMTIzNDU2WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduYXR1cmU9ZmIwYjJiMGI5NGQ3YzBhNTUyZjI4Y2E4Y2Q5ODNlNmEzYTc3ZTEzYjBjNGIwOTM2ZThhYTY0ZTdhMzZmY2RiZSZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q"},
};

#define NOW_2024 1714566896   /* 2024-05-01T12:34:56Z, the script's fixed time */

static const char *vector(const char *name)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        if (strcmp(vectors[i].name, name) == 0)
            return vectors[i].value;
    fail_msg("no vector %s", name);
    return NULL;
}

static aws_credentials creds(const char *id, const char *secret, const char *token)
{
    aws_credentials c;
    memset(&c, 0, sizeof c);
    snprintf(c.access_key_id, sizeof c.access_key_id, "%s", id);
    snprintf(c.secret_access_key, sizeof c.secret_access_key, "%s", secret);
    snprintf(c.session_token, sizeof c.session_token, "%s", token ? token : "");
    return c;
}

/* base64url without padding back to text (the caller frees). */
static char *base64url_decode(const char *token)
{
    size_t n = strlen(token);
    char *std = malloc(n + 4);
    assert_non_null(std);
    for (size_t i = 0; i < n; i++) {
        assert_true(token[i] != '+' && token[i] != '/' && token[i] != '=');
        std[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
    }
    while (n % 4)
        std[n++] = '=';
    size_t len = 0;
    unsigned char *out = malloc(n + 1);
    assert_non_null(out);
    assert_int_equal(mbedtls_base64_decode(out, n, &len, (unsigned char *)std, n), 0);
    out[len] = '\0';
    free(std);
    return (char *)out;
}

static void check_token(const aws_credentials *c, const char *region, const char *url_name, const char *token_name)
{
    buf tok = BUF_INIT;
    int64_t expires = 0;
    char err[256] = "";
    assert_int_equal(aws_msk_iam_token_build(region, c, NOW_2024, "sluice/test", &tok, &expires, err, sizeof err), 0);
    char *url = base64url_decode(tok.data);
    assert_string_equal(url, vector(url_name));
    assert_string_equal(tok.data, vector(token_name));
    assert_int_equal(expires, (int64_t)(NOW_2024 + 900) * 1000);
    free(url);
    buf_free(&tok);
}

static void test_token_with_session_token(void **state)
{
    (void)state;
    aws_credentials c = creds("ASIAEXAMPLETEMPKEY01", "tempSecret/Key+EXAMPLE0123456789abcdefgh",
                              "IQoJb3JpZ2luX2VjEXAMPLE//session+token/with=chars");
    check_token(&c, "us-east-1", "msk_iam_token_url", "msk_iam_token");
    assert_non_null(strstr(vector("msk_iam_token_url"), "&X-Amz-Security-Token="));
}

static void test_token_with_long_term_keys(void **state)
{
    (void)state;
    aws_credentials c = creds("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL);
    check_token(&c, "eu-west-2", "msk_iam_keys_url", "msk_iam_keys_token");
    assert_null(strstr(vector("msk_iam_keys_url"), "Security-Token"));
}

static void test_default_user_agent(void **state)
{
    (void)state;
    aws_credentials c = creds("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL);
    buf tok = BUF_INIT;
    int64_t expires = 0;
    char err[256] = "";
    assert_int_equal(aws_msk_iam_token("eu-west-2", &c, NOW_2024, &tok, &expires, err, sizeof err), 0);
    char *url = base64url_decode(tok.data);
    assert_non_null(strstr(url, "&User-Agent=sluice%2F" SLUICE_VERSION "&X-Amz-Algorithm="));
    const char *start = "https://kafka.eu-west-2.amazonaws.com/?Action=kafka-cluster%3AConnect&";
    assert_int_equal(strncmp(url, start, strlen(start)), 0);
    free(url);
    buf_free(&tok);
}

static void test_refusals(void **state)
{
    (void)state;
    aws_credentials c = creds("AKIDEXAMPLE", "secret", NULL), none;
    memset(&none, 0, sizeof none);
    buf tok = BUF_INIT;
    int64_t expires = 0;
    char err[256];
    assert_int_equal(aws_msk_iam_token("", &c, NOW_2024, &tok, &expires, err, sizeof err), -1);
    assert_int_equal(aws_msk_iam_token("us-east-1.evil.com/", &c, NOW_2024, &tok, &expires, err, sizeof err), -1);
    assert_non_null(strstr(err, "region"));
    assert_int_equal(aws_msk_iam_token("us-east-1", &none, NOW_2024, &tok, &expires, err, sizeof err), -1);
    assert_non_null(strstr(err, "credentials"));
    assert_int_equal(tok.len, 0);
    buf_free(&tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_with_session_token),
        cmocka_unit_test(test_token_with_long_term_keys),
        cmocka_unit_test(test_default_user_agent),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
