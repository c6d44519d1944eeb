/* Unit tests for store/config_file: the INI-like format (sections, full keys, comments, quoting
 * and escapes, CRLF), syntax errors with their exact line numbers, reading from disk, and the
 * SLUICE_* environment mapping including the unknown-variable check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/config_file.h"
#include "support/store_fixture.h"

static const conf_entry *entry_find(const conf_entries *e, const char *key)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].key, key) == 0)
            return &e->items[i];
    return NULL;
}

static void expect_entry(const conf_entries *e, const char *key, const char *value, const char *where)
{
    const conf_entry *it = entry_find(e, key);
    if (!it)
        fail_msg("no entry for %s", key);
    assert_string_equal(it->value, value);
    assert_string_equal(it->where, where);
}

/* Parse text that must hold exactly one problem; check its location and message. */
static void expect_problem(const char *text, const char *where, const char *message_part)
{
    conf_entries e = {0};
    conf_problems p = {0};
    assert_int_equal(config_text_read("t.conf", text, &e, &p), 0);
    if (p.n != 1)
        fail_msg("expected one problem for %s, got %zu", where, p.n);
    assert_string_equal(p.items[0].where, where);
    if (!strstr(p.items[0].message, message_part))
        fail_msg("message '%s' lacks '%s'", p.items[0].message, message_part);
    conf_entries_free(&e);
    conf_problems_free(&p);
}

static void test_parse_good(void **state)
{
    (void)state;
    const char *text =
        "# Sluice configuration\n"                                   /* 1 */
        "; another comment style\n"                                  /* 2 */
        "log.level = debug\n"                                        /* 3 */
        "\n"                                                         /* 4 */
        "[console]\n"                                                /* 5 */
        "listen = 0.0.0.0:8080\n"                                    /* 6 */
        "  session_ttl=30m   # trailing comment\n"                   /* 7 */
        "[ source ]   # section with spaces and a comment\n"         /* 8 */
        "conninfo = \"host=db port=5432 # not a comment\"\n"         /* 9 */
        "password = \"say \\\"hi\\\" \\\\ back\\nslash\"  ; c\n"     /* 10 */
        "slot = a#b\n"                                               /* 11 */
        "publication =\n"                                            /* 12 */
        "[s3]\r\n"                                                   /* 13 */
        "region = eu-west-1\r\n"                                     /* 14 */
        "\tbucket\t=\tlake  \n"                                      /* 15 */
        "endpoint = \"\"";                                           /* 16, no final newline */
    conf_entries e = {0};
    conf_problems p = {0};
    assert_int_equal(config_text_read("sluice.conf", text, &e, &p), 0);
    if (p.n) {
        conf_problems_print(&p, stderr);
        fail();
    }
    assert_int_equal(e.n, 10);
    expect_entry(&e, "log.level", "debug", "sluice.conf:3");
    expect_entry(&e, "console.listen", "0.0.0.0:8080", "sluice.conf:6");
    expect_entry(&e, "console.session_ttl", "30m", "sluice.conf:7");
    expect_entry(&e, "source.conninfo", "host=db port=5432 # not a comment", "sluice.conf:9");
    expect_entry(&e, "source.password", "say \"hi\" \\ back\nslash", "sluice.conf:10");
    expect_entry(&e, "source.slot", "a#b", "sluice.conf:11");
    expect_entry(&e, "source.publication", "", "sluice.conf:12");
    expect_entry(&e, "s3.region", "eu-west-1", "sluice.conf:14");
    expect_entry(&e, "s3.bucket", "lake", "sluice.conf:15");
    expect_entry(&e, "s3.endpoint", "", "sluice.conf:16");
    conf_entries_free(&e);
    conf_problems_free(&p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_problem("[console]\nlisten 127.0.0.1:8080\n", "t.conf:2", "missing '='");
    expect_problem("[console]\n\nlisten\n", "t.conf:3", "missing '='");
    expect_problem("[source]\n# c\nconninfo = \"host=db\n", "t.conf:3", "unterminated quoted value");
    expect_problem("[source]\nconninfo = \"host=db\\\"\n", "t.conf:2", "unterminated quoted value");
    expect_problem("\n\n\n[console\nlisten = 1.2.3.4:80\n", "t.conf:4", "bad section header");
    expect_problem("[]\n", "t.conf:1", "empty section name");
    expect_problem("[con sole]\n", "t.conf:1", "invalid character");
    expect_problem("[console] x\n", "t.conf:1", "unexpected text after ']'");
    expect_problem("[console]\n = 1.2.3.4:80\n", "t.conf:2", "empty key");
    expect_problem("[console]\nlisten = 1.2.3.4:80\nsession_ttl = 1h\nlisten = 5.6.7.8:80\n", "t.conf:4",
                   "duplicate setting (first set at t.conf:2)");
    expect_problem("console.listen = 1.2.3.4:80\n[console]\nlisten = 5.6.7.8:80\n", "t.conf:3",
                   "duplicate setting");
    expect_problem("listen = 1.2.3.4:80\n", "t.conf:1", "outside any section");
    expect_problem("[source]\npassword = \"a\\tb\"\n", "t.conf:2", "unknown escape '\\t'");
    expect_problem("[source]\npassword = \"ab\" cd\n", "t.conf:2", "after the closing quote");
    expect_problem("[console]\nlis ten = 1\n", "t.conf:2", "invalid character ' ' in key");
    expect_problem("[console]\n@x = 1\n", "t.conf:2", "invalid character '@'");
}

static void test_errors_keep_going(void **state)
{
    (void)state;
    /* several problems in one file, each with its own line; good lines still parse */
    const char *text = "[console]\n"
                       "listen = 1.2.3.4:80\n"
                       "session_ttl\n"
                       "[bad\n"
                       "ignored = 1\n"
                       "[log]\n"
                       "level = \"warn\n"
                       "format = json\n";
    conf_entries e = {0};
    conf_problems p = {0};
    assert_int_equal(config_text_read("f", text, &e, &p), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.items[0].where, "f:3");
    assert_string_equal(p.items[0].key, "console.session_ttl");
    assert_string_equal(p.items[1].where, "f:4");
    assert_string_equal(p.items[2].where, "f:7");
    assert_int_equal(e.n, 2);
    expect_entry(&e, "console.listen", "1.2.3.4:80", "f:2");
    expect_entry(&e, "log.format", "json", "f:8");
    conf_entries_free(&e);
    conf_problems_free(&p);
}

static void test_unknown_key_line(void **state)
{
    (void)state;
    /* the parser does not check keys; conf_entries_check reports them with the line */
    conf_entries e = {0};
    conf_problems p = {0};
    assert_int_equal(config_text_read("x.conf", "[console]\nlisten = 1.2.3.4:80\n\nlistn = 1\nsession_ttl = 5\n",
                                      &e, &p),
                     0);
    assert_int_equal(p.n, 0);
    conf_entries_check(&e, &p);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].where, "x.conf:4");
    assert_string_equal(p.items[0].key, "console.listn");
    assert_string_equal(p.items[0].message, "unknown setting");
    assert_string_equal(p.items[1].where, "x.conf:5");
    assert_string_equal(p.items[1].key, "console.session_ttl");
    assert_non_null(strstr(p.items[1].message, "not a duration"));
    conf_entries_free(&e);
    conf_problems_free(&p);
}

static void test_file_read(void **state)
{
    (void)state;
    char dir[512], path[600];
    conf_entries e = {0};
    conf_problems p = {0};
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "config_file"));

    snprintf(path, sizeof path, "%s/missing.conf", dir);
    assert_int_equal(config_file_read(path, &e, &p), -1);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].where, path);
    assert_non_null(strstr(p.items[0].message, "No such file"));
    conf_problems_free(&p);

    snprintf(path, sizeof path, "%s/sluice.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("\xEF\xBB\xBF# with a byte order mark\n[log]\nlevel = warn\n\n[console]\nlisten = [::1]:9090\n", f);
    fclose(f);
    assert_int_equal(config_file_read(path, &e, &p), 0);
    assert_int_equal(p.n, 0);
    char where[700];
    snprintf(where, sizeof where, "%s:3", path);
    expect_entry(&e, "log.level", "warn", where);
    snprintf(where, sizeof where, "%s:6", path);
    expect_entry(&e, "console.listen", "[::1]:9090", where);
    conf_entries_free(&e);
    conf_problems_free(&p);
}

static void test_env(void **state)
{
    (void)state;
    static const char *const reserved[] = {"SLUICE_STATE_DIR", "SLUICE_CONFIG", NULL};
    char *envp[] = {
        "PATH=/usr/bin",
        "SLUICE_CONSOLE_LISTEN=0.0.0.0:80",
        "SLUICE_SOURCE_PASSWORD=pa=ss",
        "SLUICE_CONSOLE_LISTN=typo",
        "SLUICE_STATE_DIR=/var/lib/sluice",
        "SLUICE_CONFIG=/etc/sluice/sluice.conf",
        "SLUICE_BIN=/usr/bin/sluice",
        "SLUICE_S3_REGION=eu-central-1",
        "SLUICE_LOG=1",
        "SLUICE_LOG_LEVEL=",
        "sluice_log_level=debug",
        NULL,
    };
    conf_entries e = {0};
    conf_problems p = {0};
    config_env_read(envp, reserved, &e, &p);
    assert_int_equal(e.n, 4);
    expect_entry(&e, "console.listen", "0.0.0.0:80", "environment SLUICE_CONSOLE_LISTEN");
    expect_entry(&e, "source.password", "pa=ss", "environment SLUICE_SOURCE_PASSWORD");
    expect_entry(&e, "s3.region", "eu-central-1", "environment SLUICE_S3_REGION");
    expect_entry(&e, "log.level", "", "environment SLUICE_LOG_LEVEL");
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].where, "environment SLUICE_CONSOLE_LISTN");
    assert_null(p.items[0].key);
    assert_string_equal(p.items[0].message, "unknown setting");

    /* the empty log level is then caught by the value check */
    conf_problems_free(&p);
    conf_entries_check(&e, &p);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].where, "environment SLUICE_LOG_LEVEL");
    conf_entries_free(&e);
    conf_problems_free(&p);

    /* a reserved name would otherwise be a problem */
    char *typo[] = {"SLUICE_CONSOLE_TOKEN=1", NULL};
    static const char *const reserved2[] = {"SLUICE_CONSOLE_TOKEN", NULL};
    config_env_read(typo, reserved2, &e, &p);
    assert_int_equal(p.n, 0);
    config_env_read(typo, NULL, &e, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(e.n, 0);
    conf_problems_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_errors_keep_going),
        cmocka_unit_test(test_unknown_key_line),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
