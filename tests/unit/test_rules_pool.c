/* Unit tests for rules/rules_pool, the rule states' small-block allocator: blocks are aligned,
 * never overlap and keep their contents through random alloc/free/resize sequences; freed blocks
 * are reused by their own class; sizes map to 16-byte classes; and, under AddressSanitizer,
 * freed blocks and the bytes past a block's size are poisoned. A Lua state on the pool runs a
 * workload that allocates and frees many strings and tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules/rules_pool.h"
#include "rules/rules_vm.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(rules_pool_block_size(1), 16);
    assert_int_equal(rules_pool_block_size(16), 16);
    assert_int_equal(rules_pool_block_size(17), 32);
    assert_int_equal(rules_pool_block_size(RULES_POOL_MAX), RULES_POOL_MAX);
    assert_int_equal(rules_pool_block_size(RULES_POOL_MAX + 1), RULES_POOL_MAX + 1);   /* malloc's */
    assert_false(RULES_POOL_OWNS(0));
    assert_true(RULES_POOL_OWNS(1));
    assert_false(RULES_POOL_OWNS(RULES_POOL_MAX + 1));
}

#define LIVE 4000

typedef struct live {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} live;

static void check(const live *b)
{
    for (size_t i = 0; i < b->size; i++)
        if (b->p[i] != (unsigned char)(b->fill + i))
            fail_msg("block %p (size %zu) changed at byte %zu", (void *)b->p, b->size, i);
}

static void test_random_sequences_keep_contents(void **state)
{
    (void)state;
    rules_pool pool;
    rules_pool_init(&pool);
    static live blocks[LIVE];
    memset(blocks, 0, sizeof blocks);
    unsigned seed = 12345;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        live *b = &blocks[(seed >> 8) % LIVE];
        if (b->p) {
            check(b);
            size_t grown = (b->size - 1) / 16 * 16 + 1 + (seed >> 20) % 16;   /* the same class */
            if ((seed & 7) == 0 && grown <= RULES_POOL_MAX && grown != b->size) {
                rules_pool_resized(b->p, b->size, grown);
                b->size = grown < b->size ? grown : b->size;   /* keep what is checked within both */
                continue;
            }
            rules_pool_free(&pool, b->p, b->size);   /* any size of its class names it */
            b->p = NULL;
            continue;
        }
        b->size = 1 + (seed >> 16) % RULES_POOL_MAX;
        b->p = rules_pool_alloc(&pool, b->size);
        assert_non_null(b->p);
        assert_int_equal((uintptr_t)b->p % 16, 0);
        b->fill = (unsigned char)(seed >> 24);
        for (size_t i = 0; i < b->size; i++)
            b->p[i] = (unsigned char)(b->fill + i);
    }
    for (int i = 0; i < LIVE; i++)
        if (blocks[i].p)
            check(&blocks[i]);
    rules_pool_release(&pool);
}

static void test_freed_blocks_are_reused_and_poisoned(void **state)
{
    (void)state;
    rules_pool pool;
    rules_pool_init(&pool);
    void *a = rules_pool_alloc(&pool, 40), *b = rules_pool_alloc(&pool, 40);
    assert_ptr_not_equal(a, b);
    assert_true((char *)b - (char *)a >= 48 || (char *)a - (char *)b >= 48);
    rules_pool_free(&pool, a, 40);
#ifdef TEST_ASAN
    assert_true(__asan_address_is_poisoned(a));
    assert_true(__asan_address_is_poisoned((char *)b + 40));   /* past its 40 bytes */
    assert_false(__asan_address_is_poisoned((char *)b + 39));
#endif
    void *c = rules_pool_alloc(&pool, 33);   /* the same class (48) */
    assert_ptr_equal(c, a);
    void *d = rules_pool_alloc(&pool, 8);    /* another class: not a */
    assert_ptr_not_equal(d, a);
    rules_pool_release(&pool);
}

static void test_lua_state_on_the_pool(void **state)
{
    (void)state;
    char err[256];
    rules_limits lim = {.instructions = 50000000, .memory_bytes = 4 << 20};
    rules_vm *vm = rules_vm_create(&lim, NULL, err, sizeof err);
    assert_non_null(vm);
    const char *src = "function f()\n"
                      "  local t, n = {}, 0\n"
                      "  for i = 1, 20000 do\n"
                      "    t[i % 500] = {s = ('x'):rep(i % 300) .. i, n = i}\n"
                      "  end\n"
                      "  for _, v in pairs(t) do n = n + #v.s end\n"
                      "  return n\n"
                      "end\n";
    assert_int_equal(rules_vm_load(vm, "pool", src, strlen(src), err, sizeof err), 0);
    for (int k = 0; k < 3; k++) {
        if (rules_vm_call(vm, "f", 0, 1, err, sizeof err) != 0)
            fail_msg("%s", err);
        lua_pop(rules_vm_state(vm), 1);
    }
    assert_true(rules_vm_memory(vm) <= lim.memory_bytes);
    rules_vm_destroy(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_random_sequences_keep_contents),
        cmocka_unit_test(test_freed_blocks_are_reused_and_poisoned),
        cmocka_unit_test(test_lua_state_on_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
