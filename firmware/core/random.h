/* random: cryptographically secure random bytes from the kernel (getrandom(2)). */
#ifndef SLUICE_CORE_RANDOM_H
#define SLUICE_CORE_RANDOM_H

#include <stddef.h>

/* Fill out with len random bytes; 0 on success, -1 (errno set) on failure. */
int random_bytes(void *out, size_t len);
/* Write a random token of n characters from [A-Za-z0-9] plus NUL into out (n+1 bytes). */
int random_token(char *out, size_t n);

#endif
