/* random: kernel randomness for keys, salts, nonces and tokens (see random.h). */
#include "core/random.h"

#include <errno.h>
#include <sys/random.h>

int random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int random_token(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char chunk[64];
        if (random_bytes(chunk, sizeof chunk) < 0)
            return -1;
        for (size_t j = 0; j < sizeof chunk && i < n; j++) {
            /* 62 * 4 = 248: reject 248..255 so every character is equally likely. */
            if (chunk[j] < 248)
                out[i++] = alphabet[chunk[j] % 62];
        }
    }
    out[n] = '\0';
    return 0;
}
