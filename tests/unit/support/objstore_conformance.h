/* objstore_conformance: what every objstore (objstore.h) must do, as cmocka checks that use
 * nothing but objstore.h, so the same suite runs against the local directory, S3 (s3rver) and
 * test doubles. Deterministic: bodies come from a seeded generator.
 * Each case works below "<prefix><case>/" (prefix "" or ending in '/'), first removing whatever
 * an earlier run left there, and removes what it wrote when it passes. */
#ifndef SLUICE_TESTS_OBJSTORE_CONFORMANCE_H
#define SLUICE_TESTS_OBJSTORE_CONFORMANCE_H

#include "objstore/objstore.h"

/* Cases a store may be excused from, with the reason in the caller (e.g. s3rver ignores
 * If-None-Match). */
enum {
    OBJSTORE_CONFORMANCE_SKIP_IF_NONE_MATCH = 1u << 0,
    OBJSTORE_CONFORMANCE_SKIP_MULTIPART = 1u << 1,   /* the 10 MiB multipart cases */
};

/* The cmocka state of every case. The caller owns store. */
typedef struct objstore_conformance {
    objstore *store;
    const char *prefix;
    unsigned skip;         /* OBJSTORE_CONFORMANCE_SKIP_* */
} objstore_conformance;

/* The cases, as cmocka tests whose *state is an objstore_conformance. */
void objstore_conformance_round_trip(void **state);      /* empty, 1 byte, 1 MiB; append to out */
void objstore_conformance_odd_keys(void **state);        /* spaces, unicode, + = & ? % ~, deep paths */
void objstore_conformance_overwrite(void **state);
void objstore_conformance_missing(void **state);         /* head, get -> OBJSTORE_NOT_FOUND */
void objstore_conformance_if_none_match(void **state);   /* second create -> OBJSTORE_EXISTS */
void objstore_conformance_list(void **state);            /* byte order, prefixes (mid-segment too) */
void objstore_conformance_list_stop(void **state);       /* the callback's value ends the listing */
void objstore_conformance_remove(void **state);          /* remove, remove missing */
void objstore_conformance_multipart(void **state);       /* 5 MiB + 5 MiB + small, invisible before */
void objstore_conformance_abort(void **state);
void objstore_conformance_invalid_keys(void **state);    /* OBJSTORE_ERR with a reason, every call */

/* The cases as cmocka_unit_test_setup_teardown entries; setup sets *state to an
 * objstore_conformance, teardown cleans up. Use inside a CMUnitTest array:
 *   const struct CMUnitTest tests[] = { OBJSTORE_CONFORMANCE_TESTS(setup, teardown), ... }; */
#define OBJSTORE_CONFORMANCE_TESTS(setup, teardown)                                   \
    cmocka_unit_test_setup_teardown(objstore_conformance_round_trip, setup, teardown),      \
    cmocka_unit_test_setup_teardown(objstore_conformance_odd_keys, setup, teardown),        \
    cmocka_unit_test_setup_teardown(objstore_conformance_overwrite, setup, teardown),       \
    cmocka_unit_test_setup_teardown(objstore_conformance_missing, setup, teardown),         \
    cmocka_unit_test_setup_teardown(objstore_conformance_if_none_match, setup, teardown),   \
    cmocka_unit_test_setup_teardown(objstore_conformance_list, setup, teardown),            \
    cmocka_unit_test_setup_teardown(objstore_conformance_list_stop, setup, teardown),       \
    cmocka_unit_test_setup_teardown(objstore_conformance_remove, setup, teardown),          \
    cmocka_unit_test_setup_teardown(objstore_conformance_multipart, setup, teardown),       \
    cmocka_unit_test_setup_teardown(objstore_conformance_abort, setup, teardown),           \
    cmocka_unit_test_setup_teardown(objstore_conformance_invalid_keys, setup, teardown)

/* Every case in turn against s, below prefix, inside the calling cmocka test (the first
 * failure ends it). */
void objstore_conformance_run(objstore *s, const char *prefix);

#endif
