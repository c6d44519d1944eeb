/* store_fixture: shared cmocka fixture for unit tests that need a scratch directory, a secrets
 * key (DIR/secret.key) and an open store (DIR/sluice.db). The directory is made with mkdtemp
 * under $SLUICE_TEST_TMP (fallback /tmp) and removed, with everything in it, on destroy. */
#ifndef SLUICE_TESTS_STORE_FIXTURE_H
#define SLUICE_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include "store/secrets.h"
#include "store/store.h"

typedef struct store_fixture {
    char dir[512];       /* the temporary directory */
    char db_path[600];   /* dir/sluice.db, the path st was opened from */
    secrets *sec;        /* key at dir/secret.key */
    store *st;           /* may be replaced (or left NULL) by a test; destroy closes what is there */
} store_fixture;

/* Make a fresh directory "<base>/<name_prefix>-XXXXXX" with mkdtemp, base being $SLUICE_TEST_TMP
 * (created with its parents if missing) or /tmp. Returns dir, or NULL as mkdtemp does. */
char *store_fixture_tmpdir(char *dir, size_t len, const char *name_prefix);

/* Temporary directory, secrets and store as above. NULL with the reason on stderr on failure. */
store_fixture *store_fixture_create(const char *name_prefix);

/* Open another store on f->dir/file with f->sec, for a test that needs a second database.
 * The caller closes it. Fails the running cmocka test when the store does not open. */
store *store_fixture_open(store_fixture *f, const char *file);

/* Close the store, destroy the secrets, remove the directory recursively and free f.
 * Accepts NULL. */
void store_fixture_destroy(store_fixture *f);

/* cmocka teardown: store_fixture_destroy(*state). */
int store_fixture_teardown(void **state);

#endif
