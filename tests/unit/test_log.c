/* Unit tests for core/log: logfmt quoting, JSON lines, level filtering, extra fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"

static char *read_back(FILE *f)
{
    static char text[4096];
    fflush(f);
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    return text;
}

static void test_log_logfmt(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    log_setup(f, LOG_INFO, LOG_FORMAT_LOGFMT);
    log_debug("core", "hidden");
    log_info("store", "opened %s", "a b");
    log_fields(LOG_WARN, "api", "login failed", "user", "bob \"x\"", "remote", "127.0.0.1", NULL);
    char *t = read_back(f);
    assert_null(strstr(t, "hidden"));
    assert_non_null(strstr(t, " level=info component=store msg=\"opened a b\"\n"));
    assert_non_null(strstr(t, " level=warn component=api msg=\"login failed\" user=\"bob \\\"x\\\"\" remote=127.0.0.1\n"));
    assert_memory_equal(t, "ts=", 3);
    fclose(f);
    log_setup(stderr, LOG_INFO, LOG_FORMAT_LOGFMT);
}

static void test_log_json(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    log_setup(f, LOG_DEBUG, LOG_FORMAT_JSON);
    log_fields(LOG_ERROR, "capture", "lost\nline", "lsn", "0/16B3748", NULL);
    char *t = read_back(f);
    assert_memory_equal(t, "{\"ts\":\"", 7);
    assert_non_null(strstr(t, ",\"level\":\"error\",\"component\":\"capture\",\"msg\":\"lost\\nline\",\"lsn\":\"0/16B3748\"}\n"));
    fclose(f);
    log_setup(stderr, LOG_INFO, LOG_FORMAT_LOGFMT);
}

static void test_log_parse(void **state)
{
    (void)state;
    log_level l;
    log_format fm;
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_level_parse("loud", &l), -1);
    assert_int_equal(log_format_parse("json", &fm), 0);
    assert_int_equal(fm, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("xml", &fm), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_logfmt),
        cmocka_unit_test(test_log_json),
        cmocka_unit_test(test_log_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
