/* users: console accounts with roles, passwords hashed with PBKDF2-HMAC-SHA256 (mbedTLS),
 * per-user random salt, iteration count kept in the hash so it can be raised later:
 *   "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>"
 * Ownership: functions copy what they keep; user_info fields are fixed-size. */
#ifndef SLUICE_STORE_USERS_H
#define SLUICE_STORE_USERS_H

#include <stddef.h>
#include "store/store.h"

#define USERS_PBKDF2_ITERATIONS 210000
#define USERS_NAME_MAX 64

typedef enum { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 } user_role;

typedef struct user_info {
    char name[USERS_NAME_MAX + 1];
    user_role role;
    int must_change;     /* the password is one-time: it must be changed before other use */
} user_info;

const char *user_role_name(user_role r);
user_role user_role_parse(const char *s);   /* ROLE_NONE when unknown */

/* Hash a password into a newly allocated string of the format above. 0 or -1. */
int password_hash(const char *password, char **out);
/* 1 when password matches the stored hash, 0 when not, -1 on a malformed hash. Constant time. */
int password_verify(const char *stored, const char *password);

/* First boot: when no user exists, create "admin" with a random one-time password and return
 * it in *onetime (malloc'd, caller wipes and frees); *onetime is NULL when users exist. */
int users_ensure_admin(store *st, char **onetime, char *err, size_t errlen);
/* Check credentials: 1 and *out filled on success, 0 on a wrong name or password, -1 on error.
 * Takes the same time whether or not the user exists. */
int users_authenticate(store *st, const char *name, const char *password, user_info *out);
int users_create(store *st, const char *name, user_role role, const char *password, int must_change,
                 char *err, size_t errlen);
int users_set_password(store *st, const char *name, const char *password, int must_change,
                       char *err, size_t errlen);
/* Give the user a new random one-time password (*onetime as in users_ensure_admin). */
int users_reset_password(store *st, const char *name, char **onetime, char *err, size_t errlen);
int users_get(store *st, const char *name, user_info *out);   /* 1 found, 0 not, -1 error */

#endif
