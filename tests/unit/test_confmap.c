/* Unit tests for store/confmap: lookup, type checks of every type (good and bad values),
 * the registry's own consistency (defaults valid, env names unique), environment names,
 * parse helpers, and the entry check that reports unknown keys and bad values with their place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/confmap.h"

static int check(const conf_setting *s, const char *v)
{
    char err[256];
    return confmap_check(s, v, err, sizeof err);
}

static void expect_ok(const conf_setting *s, const char *v)
{
    char err[256] = "";
    if (confmap_check(s, v, err, sizeof err) != 0)
        fail_msg("%s = '%s' should be valid, got: %s", s->key, v, err);
}

static void expect_bad(const conf_setting *s, const char *v, const char *reason_part)
{
    char err[256] = "";
    if (confmap_check(s, v, err, sizeof err) != -1)
        fail_msg("%s = '%s' should be invalid", s->key, v);
    if (reason_part && !strstr(err, reason_part))
        fail_msg("%s = '%s': reason '%s' lacks '%s'", s->key, v, err, reason_part);
}

static void test_find(void **state)
{
    (void)state;
    const conf_setting *s = confmap_find("console.listen");
    assert_non_null(s);
    assert_int_equal(s->type, CONF_LISTEN);
    assert_string_equal(s->def, "127.0.0.1:8080");
    assert_non_null(confmap_find("log.level"));
    assert_non_null(confmap_find("source.password"));
    assert_non_null(confmap_find("s3.secret_access_key"));
    assert_null(confmap_find("console.listn"));
    assert_null(confmap_find("console"));
    assert_null(confmap_find(""));
    assert_null(confmap_find(NULL));
    assert_int_equal(confmap_find("source.password")->type, CONF_SECRET);
    assert_int_equal(confmap_find("s3.secret_access_key")->type, CONF_SECRET);
    assert_null(confmap_find("source.password")->def);
    assert_string_equal(confmap_find("s3.region")->def, "us-east-1");
}

static void test_registry_consistent(void **state)
{
    (void)state;
    char env[128], env2[128];
    size_t n = 0;
    for (const conf_module *const *m = confmap_modules(); *m; m++) {
        size_t plen = strlen((*m)->name);
        assert_non_null((*m)->description);
        for (size_t i = 0; i < (*m)->n_settings; i++) {
            const conf_setting *s = &(*m)->settings[i];
            n++;
            assert_int_equal(strncmp(s->key, (*m)->name, plen), 0);
            assert_int_equal(s->key[plen], '.');
            assert_non_null(s->description);
            assert_true(strlen(s->description) > 10);
            assert_ptr_equal(confmap_find(s->key), s);
            if (s->def)
                expect_ok(s, s->def);
            if (s->type == CONF_ENUM)
                assert_non_null(s->choices);
            /* env names are unique */
            confmap_env_name(s->key, env, sizeof env);
            for (const conf_module *const *m2 = confmap_modules(); *m2; m2++)
                for (size_t j = 0; j < (*m2)->n_settings; j++) {
                    if (&(*m2)->settings[j] == s)
                        continue;
                    confmap_env_name((*m2)->settings[j].key, env2, sizeof env2);
                    assert_string_not_equal(env, env2);
                }
        }
    }
    assert_true(n >= 14);
}

static void test_int(void **state)
{
    (void)state;
    conf_setting s = {"test.count", CONF_INT, "5", 1, 100, NULL, "a count", NULL};
    conf_setting open = {"test.open", CONF_INT, NULL, -10, 0, NULL, "unbounded above", NULL};
    expect_ok(&s, "1");
    expect_ok(&s, "100");
    expect_ok(&s, "+42");
    expect_bad(&s, "0", "1 to 100");
    expect_bad(&s, "101", "out of range");
    expect_bad(&s, "", "not an integer");
    expect_bad(&s, "12abc", "not an integer");
    expect_bad(&s, " 12", "not an integer");
    expect_bad(&s, "1.5", "not an integer");
    expect_bad(&s, "99999999999999999999999", "not an integer");
    expect_ok(&open, "-10");
    expect_ok(&open, "123456789012");
    expect_bad(&open, "-11", "at least -10");
}

static void test_bool(void **state)
{
    (void)state;
    conf_setting s = {"test.flag", CONF_BOOL, "false", 0, 0, NULL, "a flag", NULL};
    const char *yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
    const char *no[] = {"false", "no", "off", "0", "Off"};
    int b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        expect_ok(&s, yes[i]);
        assert_int_equal(confmap_parse_bool(yes[i], &b), 0);
        assert_int_equal(b, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        expect_ok(&s, no[i]);
        assert_int_equal(confmap_parse_bool(no[i], &b), 0);
        assert_int_equal(b, 0);
    }
    expect_bad(&s, "maybe", "not a boolean");
    expect_bad(&s, "", "not a boolean");
    expect_bad(&s, "2", "not a boolean");
    expect_bad(&s, "true ", "not a boolean");
}

static void test_enum(void **state)
{
    (void)state;
    const conf_setting *lvl = confmap_find("log.level");
    expect_ok(lvl, "debug");
    expect_ok(lvl, "info");
    expect_ok(lvl, "warn");
    expect_ok(lvl, "error");
    expect_bad(lvl, "inf", "debug|info|warn|error");
    expect_bad(lvl, "information", NULL);
    expect_bad(lvl, "INFO", NULL);
    expect_bad(lvl, "info|warn", NULL);
    expect_bad(lvl, "", NULL);
    const conf_setting *snap = confmap_find("source.snapshot_mode");
    expect_ok(snap, "initial");
    expect_ok(snap, "never");
    expect_ok(snap, "initial_only");
    expect_ok(snap, "when_needed");
    expect_bad(snap, "always", NULL);
    expect_ok(confmap_find("log.format"), "json");
    expect_bad(confmap_find("log.format"), "xml", NULL);
}

static void test_duration(void **state)
{
    (void)state;
    conf_setting any = {"test.wait", CONF_DURATION, NULL, 0, 0, NULL, "unbounded", NULL};
    const conf_setting *ttl = confmap_find("console.session_ttl");
    long long ms;
    expect_ok(&any, "500ms");
    expect_ok(&any, "0s");
    expect_ok(&any, "60s");
    expect_ok(&any, "5m");
    expect_ok(&any, "12h");
    expect_ok(&any, "7d");
    expect_bad(&any, "10", "not a duration");
    expect_bad(&any, "1.5h", "not a duration");
    expect_bad(&any, "h", NULL);
    expect_bad(&any, "-5s", NULL);
    expect_bad(&any, "5 s", NULL);
    expect_bad(&any, "5sec", NULL);
    expect_bad(&any, "5w", NULL);
    expect_bad(&any, "", NULL);
    expect_bad(&any, "99999999999999999999d", NULL);
    expect_bad(&any, "9999999999999999d", NULL);   /* overflows milliseconds */

    expect_ok(ttl, "60s");
    expect_ok(ttl, "1m");
    expect_ok(ttl, "12h");
    expect_ok(ttl, "30d");
    expect_bad(ttl, "59s", "60s to 2592000s");
    expect_bad(ttl, "59999ms", "out of range");
    expect_bad(ttl, "31d", "out of range");

    assert_int_equal(confmap_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(confmap_parse_duration_ms("60s", &ms), 0);
    assert_int_equal(ms, 60000);
    assert_int_equal(confmap_parse_duration_ms("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(confmap_parse_duration_ms("12h", &ms), 0);
    assert_int_equal(ms, 43200000LL);
    assert_int_equal(confmap_parse_duration_ms("7d", &ms), 0);
    assert_int_equal(ms, 604800000LL);
    assert_int_equal(confmap_parse_duration_ms("7", &ms), -1);
}

static void test_listen(void **state)
{
    (void)state;
    const conf_setting *s = confmap_find("console.listen");
    const char *good[] = {"127.0.0.1:8080", "0.0.0.0:1", "10.1.2.3:65535", "[::1]:8080", "[::]:443",
                          "[2001:db8::1]:9000", "localhost:80", "sluice.example.com:8443", "db-1:5432"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        expect_ok(s, good[i]);
    expect_bad(s, "127.0.0.1", "host:port");
    expect_bad(s, "127.0.0.1:0", "1 to 65535");
    expect_bad(s, "127.0.0.1:65536", "1 to 65535");
    expect_bad(s, "127.0.0.1:", "1 to 65535");
    expect_bad(s, "127.0.0.1:http", "1 to 65535");
    expect_bad(s, "127.0.0.1:-1", "1 to 65535");
    expect_bad(s, "127.0.0.1:+80", "1 to 65535");
    expect_bad(s, ":8080", "missing host");
    expect_bad(s, "::1:8080", "brackets");
    expect_bad(s, "[::1]8080", "':port'");
    expect_bad(s, "[::1", "missing ']'");
    expect_bad(s, "[]:80", NULL);
    expect_bad(s, "[zz::q]:80", "not an IPv6 address");
    expect_bad(s, "[127.0.0.1]:80", "not an IPv6 address");
    expect_bad(s, "256.1.1.1:80", "not an IPv4 address");
    expect_bad(s, "1.2.3:80", "not an IPv4 address");
    expect_bad(s, "host_name:80", "not a valid host name");
    expect_bad(s, "-bad:80", "not a valid host name");
    expect_bad(s, "bad-.example:80", "not a valid host name");
    expect_bad(s, "a..b:80", "not a valid host name");
    expect_bad(s, "", NULL);
}

static void test_string_checks(void **state)
{
    (void)state;
    const conf_setting *slot = confmap_find("source.slot");
    const conf_setting *pub = confmap_find("source.publication");
    const conf_setting *ci = confmap_find("source.conninfo");
    const conf_setting *bucket = confmap_find("s3.bucket");
    char long64[65];
    memset(long64, 'a', 64);
    long64[64] = '\0';

    expect_ok(slot, "sluice");
    expect_ok(slot, "sluice_slot_2");
    expect_bad(slot, "Sluice", "slot name");
    expect_bad(slot, "my-slot", "slot name");
    expect_bad(slot, "", "slot name");
    expect_bad(slot, long64, "slot name");
    long64[63] = '\0';
    expect_ok(slot, long64);

    expect_ok(pub, "sluice");
    expect_ok(pub, "_pub_All_1");
    expect_bad(pub, "1pub", "identifier");
    expect_bad(pub, "pub-x", "identifier");
    expect_bad(pub, "pub x", "identifier");
    expect_bad(pub, "", "identifier");

    expect_ok(ci, "host=db port=5432 dbname=app user=sluice");
    expect_ok(ci, "postgresql://sluice@db:5432/app?sslmode=require");
    expect_ok(ci, "postgres://db/app");
    expect_bad(ci, "host", "connection string");
    expect_bad(ci, "db.example.com", "connection string");
    expect_bad(ci, " =db", "connection string");
    expect_bad(ci, "", "connection string");

    expect_ok(bucket, "my-lake.bucket");
    expect_bad(bucket, "My_Bucket", "bucket name");
    expect_bad(bucket, "ab", "bucket name");

    /* plain strings and secrets take any text */
    expect_ok(confmap_find("s3.endpoint"), "http://minio:9000");
    expect_ok(confmap_find("source.password"), "any # text \"at all\"");
    assert_int_equal(check(confmap_find("source.password"), NULL), -1);
}

static void test_type_names_and_env(void **state)
{
    (void)state;
    char env[64];
    assert_string_equal(confmap_type_name(CONF_STRING), "string");
    assert_string_equal(confmap_type_name(CONF_DURATION), "duration");
    assert_string_equal(confmap_type_name(CONF_SECRET), "secret");
    confmap_env_name("console.session_ttl", env, sizeof env);
    assert_string_equal(env, "SLUICE_CONSOLE_SESSION_TTL");
    confmap_env_name("s3.secret_access_key", env, sizeof env);
    assert_string_equal(env, "SLUICE_S3_SECRET_ACCESS_KEY");
    confmap_env_name("log.level", env, 12);   /* truncated, still terminated */
    assert_string_equal(env, "SLUICE_LOG_");
}

static void test_entries_check(void **state)
{
    (void)state;
    conf_entries e = {0};
    conf_problems p = {0};
    conf_entries_add(&e, "console.listen", "0.0.0.0:8080", "sluice.conf:2");
    conf_entries_add(&e, "console.listn", "0.0.0.0:8080", "sluice.conf:3");
    conf_entries_add(&e, "log.level", "loud", "environment SLUICE_LOG_LEVEL");
    conf_entries_add(&e, "source.password", "s3cret", "sluice.conf:9");
    conf_entries_check(&e, &p);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].where, "sluice.conf:3");
    assert_string_equal(p.items[0].key, "console.listn");
    assert_string_equal(p.items[0].message, "unknown setting");
    assert_string_equal(p.items[1].where, "environment SLUICE_LOG_LEVEL");
    assert_string_equal(p.items[1].key, "log.level");
    assert_non_null(strstr(p.items[1].message, "'loud' is not one of debug|info|warn|error"));

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    conf_problems_add(&p, "store", NULL, "database is %s", "locked");
    conf_problems_print(&p, out);
    fclose(out);
    assert_string_equal(text, "sluice.conf:3: console.listn: unknown setting\n"
                              "environment SLUICE_LOG_LEVEL: log.level: 'loud' is not one of "
                              "debug|info|warn|error\n"
                              "store: database is locked\n");
    free(text);
    conf_problems_free(&p);
    conf_entries_free(&e);
    assert_int_equal(p.n, 0);
    assert_null(e.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_registry_consistent),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_string_checks),
        cmocka_unit_test(test_type_names_and_env),
        cmocka_unit_test(test_entries_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
