/* Unit tests for rules/rules_helpers*: the `sluice` table as a rule sees it: hashing vectors,
 * UTF-8 masks, JSON round trips with sluice.null and the errors, time parsing and formatting on
 * leap days, offsets and fractions, lookups through a test ops table, and the column helpers
 * (rename, drop, cast) with their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>

#include "rules/rules_helpers.h"
#include "rules/rules_vm.h"

static char result[4096];

/* Evaluate the Lua expression expr in vm; its value as text (tostring), or "ERR: message". */
static const char *ev(rules_vm *vm, const char *expr)
{
    char src[4096], err[1024] = "";
    snprintf(src, sizeof src, "function f() return %s end", expr);
    if (rules_vm_load(vm, "h", src, strlen(src), err, sizeof err) != 0)
        fail_msg("load '%s': %s", expr, err);
    lua_State *L = rules_vm_state(vm);
    if (rules_vm_call(vm, "f", 0, 1, err, sizeof err) != 0) {
        snprintf(result, sizeof result, "ERR: %s", err);
        return result;
    }
    size_t n;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (s)
        snprintf(result, sizeof result, "%s", s);
    else if (lua_isinteger(L, -1))
        snprintf(result, sizeof result, "%lld", (long long)lua_tointeger(L, -1));
    else
        snprintf(result, sizeof result, "<%s>", luaL_typename(L, -1));
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), 0);
    return result;
}

#define EXPECT(vm, expr, want) assert_string_equal(ev(vm, expr), want)

/* The error of expr contains want. */
static void expect_err(rules_vm *vm, const char *expr, const char *want)
{
    const char *r = ev(vm, expr);
    if (strncmp(r, "ERR: ", 5) != 0 || !strstr(r, want))
        fail_msg("%s: got '%s', want an error containing '%s'", expr, r, want);
}

static int setup(void **state)
{
    char err[256];
    *state = rules_vm_create(NULL, NULL, err, sizeof err);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    rules_vm_destroy(*state);
    return 0;
}

static void test_hashes(void **state)
{
    rules_vm *vm = *state;
    EXPECT(vm, "sluice.sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT(vm, "sluice.sha256('')", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* RFC 4231 test case 2 */
    EXPECT(vm, "sluice.hmac_sha256('Jefe', 'what do ya want for nothing?')",
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT(vm, "sluice.sha256(12)", "6b51d431df5d7f141cbececcf79edf3dd861c3b4069f0b11661a3eefacbba918");
    expect_err(vm, "sluice.sha256()", "bad argument #1 to 'sha256' (string expected, got no value)");
    expect_err(vm, "sluice.hmac_sha256('k', {})", "bad argument #2 to 'hmac_sha256' (string expected, got table)");
}

static void test_masks(void **state)
{
    rules_vm *vm = *state;
    EXPECT(vm, "sluice.mask('4111111111111111')", "************1111");
    EXPECT(vm, "sluice.mask('José Müller', 1, 2)", "J********er");
    EXPECT(vm, "sluice.mask('日本語テキスト', 0, 2, '•')", "•••••スト");
    EXPECT(vm, "sluice.mask('señor', 2, 0, '#')", "se###");
    EXPECT(vm, "sluice.mask('abc')", "***");   /* nothing would be hidden: all is */
    EXPECT(vm, "sluice.mask('')", "");
    EXPECT(vm, "sluice.mask('a\\xffbcdef', 0, 2)", "*****ef");   /* an invalid byte is one character */
    expect_err(vm, "sluice.mask('abc', -1)", "bad argument #2 to 'mask' (must not be negative)");
    expect_err(vm, "sluice.mask('abc', 0, 1, 'ab')", "bad argument #4 to 'mask' (must be a single character)");
    expect_err(vm, "sluice.mask(nil)", "bad argument #1 to 'mask'");

    EXPECT(vm, "sluice.mask_email('john.doe@example.com')", "j***@example.com");
    EXPECT(vm, "sluice.mask_email('élodie@exemple.fr')", "é***@exemple.fr");
    EXPECT(vm, "sluice.mask_email('j@example.com')", "j***@example.com");
    EXPECT(vm, "sluice.mask_email('not-an-email')", "************");
    EXPECT(vm, "sluice.mask_email('a@b')", "***");
    EXPECT(vm, "sluice.mask_email('a@@b.com')", "********");
    EXPECT(vm, "sluice.mask_email('@example.com')", "************");
    EXPECT(vm, "sluice.mask_email('jö @x.de')", "********");

    EXPECT(vm, "sluice.mask_phone('+1 (555) 123-4567')", "+* (***) ***-4567");
    EXPECT(vm, "sluice.mask_phone('0049 30 1234567')", "**** ** ***4567");
    EXPECT(vm, "sluice.mask_phone('1234')", "****");
    EXPECT(vm, "sluice.mask_phone('n/a')", "n/a");

    EXPECT(vm, "sluice.trim('  \\t hi there \\r\\n')", "hi there");
    EXPECT(vm, "sluice.trim('   ')", "");
    EXPECT(vm, "sluice.lower('ÀBC-Déf')", "Àbc-déf");
    EXPECT(vm, "sluice.upper('straße')", "STRAßE");
    expect_err(vm, "sluice.upper(true)", "bad argument #1 to 'upper' (string expected, got boolean)");
}

static void test_json(void **state)
{
    rules_vm *vm = *state;
    EXPECT(vm, "sluice.json_encode({1, 2, 3})", "[1,2,3]");
    EXPECT(vm, "sluice.json_encode({b = {true, false}, a = 1, c = sluice.null})", "{\"a\":1,\"b\":[true,false],\"c\":null}");
    EXPECT(vm, "sluice.json_encode({})", "{}");
    EXPECT(vm, "sluice.json_encode({1, 2, x = 3})", "{\"1\":1,\"2\":2,\"x\":3}");
    EXPECT(vm, "sluice.json_encode({[1] = 'a', [3] = 'c'})", "{\"1\":\"a\",\"3\":\"c\"}");
    EXPECT(vm, "sluice.json_encode(1.5)", "1.5");
    EXPECT(vm, "sluice.json_encode('é\\n\"')", "\"é\\n\\\"\"");
    EXPECT(vm, "sluice.json_encode(nil)", "null");
    EXPECT(vm, "sluice.json_encode(sluice.null)", "null");
    EXPECT(vm, "sluice.json_encode(math.maxinteger)", "9223372036854775807");

    const char *doc = "{\"a\":[1,2.5,{\"b\":null}],\"s\":\"x\\u0000y\",\"t\":true}";
    char expr[512];
    snprintf(expr, sizeof expr, "sluice.json_encode(sluice.json_decode('%s'))", "{\"a\":[1,2.5,{\"b\":null}],\"s\":\"x\\\\u0000y\",\"t\":true}");
    EXPECT(vm, expr, doc);
    EXPECT(vm, "(function() local v = sluice.json_decode('{\"a\":[1,{\"b\":null}],\"n\":-7}')\n"
               "  return tostring(v.a[2].b == sluice.null) .. math.type(v.n) .. #v.a end)()",
           "trueinteger2");
    EXPECT(vm, "sluice.json_decode('null') == sluice.null and 'yes'", "yes");
    EXPECT(vm, "sluice.json_decode('\"é\"')", "é");
    EXPECT(vm, "math.type(sluice.json_decode('1.0'))", "float");

    expect_err(vm, "(function() local t = {} t.self = t return sluice.json_encode(t) end)()", "json_encode: cycle detected");
    expect_err(vm, "(function() local t = {} for i = 1, 70 do t = {t} end return sluice.json_encode(t) end)()",
               "json_encode: nesting deeper than 64");
    EXPECT(vm, "(function() local t = {} for i = 1, 62 do t = {t} end return #sluice.json_encode(t) end)()", "126");
    expect_err(vm, "sluice.json_encode({x = 0/0})", "json_encode: cannot encode a non-finite number");
    expect_err(vm, "sluice.json_encode(math.huge)", "json_encode: cannot encode a non-finite number");
    expect_err(vm, "sluice.json_encode({f = print or type})", "json_encode: cannot encode a function value");
    expect_err(vm, "sluice.json_encode({[true] = 1})", "json_encode: a boolean cannot be an object key");
    expect_err(vm, "sluice.json_encode('\\xff')", "json_encode: string is not valid UTF-8");
    expect_err(vm, "sluice.json_decode('{')", "json_decode: ");
    expect_err(vm, "sluice.json_decode('[1,]')", "json_decode: ");
    expect_err(vm, "sluice.json_decode(string.rep('[', 100) .. string.rep(']', 100))", "json_decode: nesting deeper than 64");
    expect_err(vm, "sluice.json_decode()", "bad argument #1 to 'json_decode'");
    /* a shared table twice is not a cycle */
    EXPECT(vm, "(function() local s = {1} return sluice.json_encode({s, s}) end)()", "[[1],[1]]");
}

static void test_time(void **state)
{
    rules_vm *vm = *state;
    EXPECT(vm, "sluice.time_parse('2024-02-29')", "1709164800000000");
    EXPECT(vm, "sluice.time_parse('2024-02-29 13:45:06')", "1709214306000000");
    EXPECT(vm, "sluice.time_parse('2024-02-29T13:45:06.123456Z')", "1709214306123456");
    EXPECT(vm, "sluice.time_parse('2024-02-29T15:45:06.123456+02:00')", "1709214306123456");
    EXPECT(vm, "sluice.time_parse('2024-02-29T08:45:06-0500')", "1709214306000000");
    EXPECT(vm, "sluice.time_parse('2024-02-29t13:45:06.5z')", "1709214306500000");
    EXPECT(vm, "sluice.time_parse('2024-02-29T13:45:06.123456789Z')", "1709214306123456");
    EXPECT(vm, "sluice.time_parse('2024-02-29T13:45Z')", "1709214300000000");
    EXPECT(vm, "sluice.time_parse('2024-03-01T00:30:00+01:00')", "1709249400000000");   /* back into Feb 29 */
    EXPECT(vm, "sluice.time_parse('1970-01-01T00:00:00Z')", "0");
    EXPECT(vm, "sluice.time_parse('1969-12-31T23:59:59.999999Z')", "-1");
    EXPECT(vm, "sluice.time_parse('2000-02-29')", "951782400000000");
    expect_err(vm, "sluice.time_parse('2023-02-29')", "time_parse: '2023-02-29' is not a valid date and time");
    expect_err(vm, "sluice.time_parse('1900-02-29')", "is not a valid date and time");
    expect_err(vm, "sluice.time_parse('2024-13-01')", "is not a valid date and time");
    expect_err(vm, "sluice.time_parse('2024-02-29T24:00:00Z')", "is not a valid date and time");
    expect_err(vm, "sluice.time_parse('2024-02-29T13:45:06+24:00')", "does not match ISO-8601");
    expect_err(vm, "sluice.time_parse('2024-02-29T13:45:06Zjunk')", "does not match ISO-8601");
    expect_err(vm, "sluice.time_parse('yesterday')", "time_parse: 'yesterday' does not match ISO-8601");
    expect_err(vm, "sluice.time_parse('2024-2-29')", "does not match");
    expect_err(vm, "sluice.time_parse(nil)", "bad argument #1 to 'time_parse'");

    EXPECT(vm, "sluice.time_parse('29/02/2024 13:45', '%d/%m/%Y %H:%M')", "1709214300000000");
    EXPECT(vm, "sluice.time_parse('20240229T134506+0100', '%Y%m%dT%H%M%S%z')", "1709210706000000");
    EXPECT(vm, "sluice.time_parse('2024-02-29 13:45:06.25 Z', '%Y-%m-%d %H:%M:%S.%f %z')", "1709214306250000");
    EXPECT(vm, "sluice.time_parse('100%', '%Y%%')", "ERR: h:1: time_parse: '100%' does not match '%Y%%'");
    expect_err(vm, "sluice.time_parse('2024', '%Q')", "time_parse: unsupported conversion '%Q' in format");
    expect_err(vm, "sluice.time_parse('31/02/2024', '%d/%m/%Y')", "is not a valid date and time");
    expect_err(vm, "sluice.time_parse('2024-02-29 extra', '%Y-%m-%d')", "does not match '%Y-%m-%d'");

    EXPECT(vm, "sluice.time_format(1709214306123456)", "2024-02-29T13:45:06.123456Z");
    EXPECT(vm, "sluice.time_format(0)", "1970-01-01T00:00:00.000000Z");
    EXPECT(vm, "sluice.time_format(-1)", "1969-12-31T23:59:59.999999Z");
    EXPECT(vm, "sluice.time_format(951782400000000)", "2000-02-29T00:00:00.000000Z");
    EXPECT(vm, "sluice.time_format(1709214306123456, '%d.%m.%Y %H:%M:%S %z 100%%')", "29.02.2024 13:45:06 +0000 100%");
    EXPECT(vm, "sluice.time_format(253402300799999999)", "9999-12-31T23:59:59.999999Z");
    EXPECT(vm, "sluice.time_format(-62167219200000000)", "0000-01-01T00:00:00.000000Z");
    EXPECT(vm, "sluice.time_format(sluice.time_parse('2024-02-29T23:59:59.999999-12:00'))", "2024-03-01T11:59:59.999999Z");
    expect_err(vm, "sluice.time_format(1.5)", "bad argument #1 to 'time_format' (number has no integer representation)");
    expect_err(vm, "sluice.time_format(253402300800000000)", "is outside years 0000-9999");
    expect_err(vm, "sluice.time_format(0, '%c')", "time_format: unsupported conversion '%c' in format");
}

typedef struct fx_table {
    int calls;
} fx_table;

static int fx_get(void *arg, const char *table, const char *key, char **out, char *err, size_t errlen)
{
    fx_table *fx = arg;
    fx->calls++;
    *out = NULL;
    if (strcmp(key, "fail") == 0) {
        snprintf(err, errlen, "reference store unavailable");
        return -1;
    }
    if (strcmp(table, "fx") == 0 && strcmp(key, "EUR") == 0)
        *out = strdup("1.08");
    return 0;
}

static void test_lookup(void **state)
{
    rules_vm *plain = *state;
    expect_err(plain, "sluice.lookup('fx', 'EUR')", "lookup: no lookup tables are configured for this rule");

    fx_table fx = {0};
    char err[256];
    rules_vm *vm;
    {
        rules_lookup_ops ops = {fx_get, &fx};   /* copied: need not outlive create */
        vm = rules_vm_create(NULL, &ops, err, sizeof err);
    }
    assert_non_null(vm);
    EXPECT(vm, "sluice.lookup('fx', 'EUR')", "1.08");
    EXPECT(vm, "tonumber(sluice.lookup('fx', 'EUR')) * 100", "<number>");
    EXPECT(vm, "sluice.lookup('fx', 'XXX')", "<nil>");
    expect_err(vm, "sluice.lookup('fx', 'fail')", "lookup(fx, fail): reference store unavailable");
    expect_err(vm, "sluice.lookup('fx')", "bad argument #2 to 'lookup' (string expected, got no value)");
    expect_err(vm, "sluice.lookup('fx', 'a\\0b')", "bad argument #2 to 'lookup' (contains a NUL byte)");
    assert_int_equal(fx.calls, 4);
    rules_vm_destroy(vm);
}

static void test_sluice_read_only(void **state)
{
    rules_vm *vm = *state;
    expect_err(vm, "(function() sluice.sha256 = nil end)()", "sluice is read-only (cannot set 'sha256')");
    expect_err(vm, "(function() sluice.extra = 1 end)()", "sluice is read-only (cannot set 'extra')");
    expect_err(vm, "setmetatable(sluice, nil)", "cannot change a protected metatable");
    EXPECT(vm, "getmetatable(sluice)", "locked");
    EXPECT(vm, "type(sluice.null)", "userdata");
    EXPECT(vm, "sluice.sha256('abc'):sub(1, 8)", "ba7816bf");
    lua_State *L = rules_vm_state(vm);
    rules_helpers_push_null(L);
    assert_true(rules_helpers_is_null(L, -1));
    lua_pushlightuserdata(L, L);
    assert_false(rules_helpers_is_null(L, -1));
    lua_settop(L, 0);
}

/* Memory errors inside helpers leave nothing behind (jansson trees, dumped text: ASan checks). */
static void test_columns(void **state)
{
    rules_vm *vm = *state;
    EXPECT(vm, "sluice.cast('42', 'integer')", "42");
    EXPECT(vm, "sluice.cast(7.0, 'int')", "7");
    EXPECT(vm, "math.type(sluice.cast(' 12 ', 'bigint'))", "integer");
    expect_err(vm, "sluice.cast('4.5', 'integer')", "cast: 4.5 is not a valid integer");
    expect_err(vm, "sluice.cast('abc', 'integer')", "cast: abc is not a valid integer");
    EXPECT(vm, "tostring(sluice.cast('2.5', 'number'))", "2.5");
    EXPECT(vm, "math.type(sluice.cast(3, 'double'))", "float");
    expect_err(vm, "sluice.cast({}, 'number')", "is not a valid number");
    EXPECT(vm, "sluice.cast(12, 'string')", "12");
    EXPECT(vm, "sluice.cast(true, 'text')", "true");
    EXPECT(vm, "tostring(sluice.cast('Yes', 'boolean'))", "true");
    EXPECT(vm, "tostring(sluice.cast('off', 'bool'))", "false");
    EXPECT(vm, "tostring(sluice.cast(0, 'boolean'))", "false");
    expect_err(vm, "sluice.cast('maybe', 'boolean')", "cast: maybe is not a valid boolean");
    EXPECT(vm, "sluice.cast('-12.3400', 'decimal')", "-12.3400");
    EXPECT(vm, "sluice.cast(5, 'numeric')", "5");
    EXPECT(vm, "sluice.cast(0.5, 'decimal')", "0.5");
    expect_err(vm, "sluice.cast('1,5', 'decimal')", "cast: 1,5 is not a valid decimal");
    expect_err(vm, "sluice.cast(0/0, 'decimal')", "is not a valid decimal");
    EXPECT(vm, "tostring(sluice.cast(nil, 'integer'))", "nil");
    expect_err(vm, "sluice.cast(1, 'date')", "cast: unknown type 'date'");

    EXPECT(vm, "(function() local e = {op = 'u', before = {email = 'a', id = 1}, after = {email = 'b', id = 1}}\n"
               "  sluice.rename(e, 'email', 'contact')\n"
               "  return e.after.contact .. e.before.contact .. tostring(e.after.email) .. table.concat(e.drop, ',')\n"
               "end)()",
           "banilemail");
    EXPECT(vm, "(function() local e = {op = 'c', after = {a = 1, b = 2, c = 3}, drop = {'x'}}\n"
               "  sluice.drop(e, 'a', 'b') return table.concat(e.drop, ',') end)()",
           "x,a,b");
    expect_err(vm, "sluice.drop({drop = 5}, 'a')", "event.drop must be a list of column names, not a number");
    expect_err(vm, "sluice.rename({}, 'a')", "bad argument #3 to 'rename'");
}

static void test_helpers_out_of_memory(void **state)
{
    (void)state;
    char err[256];
    rules_limits lim = {0, 1024 * 1024};
    rules_vm *vm = rules_vm_create(&lim, NULL, err, sizeof err);
    assert_non_null(vm);
    expect_err(vm, "(function() local s = string.rep('x', 100000) local t = {}\n"
                   "  for i = 1, 10 do t[i] = s end return sluice.json_encode(t) end)()",
               "not enough memory");
    expect_err(vm, "sluice.json_decode('[' .. string.rep('1000000,', 60000) .. '1]')", "not enough memory");
    expect_err(vm, "sluice.mask(string.rep('x', 400000), 0, 0, 'é')", "not enough memory");
    assert_true(rules_vm_memory(vm) <= lim.memory_bytes);
    EXPECT(vm, "sluice.json_encode(sluice.json_decode('[1,{\"a\":null}]'))", "[1,{\"a\":null}]");
    rules_vm_destroy(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sluice_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns, setup, teardown),
        cmocka_unit_test(test_helpers_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
