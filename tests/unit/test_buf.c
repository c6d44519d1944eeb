/* Unit tests for core/buf: growth, formatting, JSON string escaping, ownership transfer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"

static void test_buf_grows_and_formats(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data, "0,1,2,", 6);
    assert_string_equal(b.data + b.len - 4, "999,");
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_buf_json_string_escapes(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    buf_json_string(&b, "a\"b\\c\n\t\x01 é");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001 é\"");
    char *s = buf_take(&b);
    assert_null(b.data);
    assert_string_equal(s, "\"a\\\"b\\\\c\\n\\t\\u0001 é\"");
    free(s);
    s = buf_take(&b);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_formats),
        cmocka_unit_test(test_buf_json_string_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
