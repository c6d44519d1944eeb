/* sessions: console login sessions. The token (random, 43 chars) goes to the browser in a
 * cookie; only its SHA-256 is stored, so a copy of the database does not grant access.
 * Time is passed in (unix seconds) so tests control expiry. */
#ifndef SLUICE_STORE_SESSIONS_H
#define SLUICE_STORE_SESSIONS_H

#include <time.h>
#include "store/store.h"
#include "store/users.h"

#define SESSION_TOKEN_LEN 43

/* Create a session for user lasting ttl seconds; token receives SESSION_TOKEN_LEN chars + NUL. */
int sessions_create(store *st, const char *user, time_t now, long ttl,
                    char token[SESSION_TOKEN_LEN + 1]);
/* 1 and *out filled when token names a live session, 0 when not, -1 on error. */
int sessions_lookup(store *st, const char *token, time_t now, user_info *out);
int sessions_delete(store *st, const char *token);
/* Remove every session of user except the one of keep_token (may be NULL); how many, or -1.
 * Used when a password changes so that other logins end. */
int sessions_delete_user(store *st, const char *user, const char *keep_token);
/* Remove expired sessions; returns how many, or -1. */
int sessions_expire(store *st, time_t now);

#endif
