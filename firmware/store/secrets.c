/* secrets: AES-256-GCM sealing of secret settings with a key file readable only by its owner.
 * A sealed value is "enc:v1:" + base64(nonce[12] | ciphertext | tag[16]); each value gets a
 * fresh random nonce. A GCM context is made per call so one handle serves every thread. */
#include "store/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "core/random.h"

#define SECRETS_KEY_LEN 32
#define SECRETS_NONCE_LEN 12
#define SECRETS_TAG_LEN 16
#define SECRETS_PREFIX "enc:v1:"
#define SECRETS_PREFIX_LEN (sizeof SECRETS_PREFIX - 1)

struct secrets {
    unsigned char key[SECRETS_KEY_LEN];
};

/* fsync the directory holding path so a new name survives a crash. */
static void secrets_dir_sync(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Write a new random key to a temporary file and link it into place (never replaces an existing
 * key). Returns 0, or -1 with the reason in err. A key created meanwhile by someone else wins. */
static int secrets_key_create(const char *path, char *err, size_t errlen)
{
    unsigned char key[SECRETS_KEY_LEN];
    char tmp[4096];
    int fd = -1, rc = -1, made = 0;

    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "key file path too long: %s", path);
        goto out;
    }
    if (random_bytes(key, sizeof key) < 0) {
        snprintf(err, errlen, "cannot get random bytes for the key: %s", strerror(errno));
        goto out;
    }
    fd = mkstemp(tmp);   /* O_CREAT | O_EXCL, mode 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "cannot create key file %s: %s", tmp, strerror(errno));
        goto out;
    }
    made = 1;
    if (fchmod(fd, 0600) < 0 || write(fd, key, sizeof key) != (ssize_t)sizeof key || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write key file %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (link(tmp, path) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
        goto out;
    }
    secrets_dir_sync(path);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (made)
        unlink(tmp);
    mbedtls_platform_zeroize(key, sizeof key);
    return rc;
}

secrets *secrets_create(const char *key_path, char *err, size_t errlen)
{
    secrets *s = NULL;
    struct stat sb;
    int fd = -1;

    fd = open(key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (secrets_key_create(key_path, err, errlen) < 0)
            goto fail;
        fd = open(key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open key file %s: %s", key_path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "cannot stat key file %s: %s", key_path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "key file %s is not a regular file", key_path);
        goto fail;
    }
    if (sb.st_mode & 077) {
        snprintf(err, errlen, "key file %s has mode %04o: group and others must have no access "
                 "(chmod 600 %s)", key_path, (unsigned)(sb.st_mode & 07777), key_path);
        goto fail;
    }
    if (sb.st_size != SECRETS_KEY_LEN) {
        snprintf(err, errlen, "key file %s has %lld bytes, expected %d", key_path, (long long)sb.st_size,
                 SECRETS_KEY_LEN);
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t got = 0;
    while (got < SECRETS_KEY_LEN) {
        ssize_t n = read(fd, s->key + got, SECRETS_KEY_LEN - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot read key file %s: %s", key_path, n < 0 ? strerror(errno) : "short read");
            goto fail;
        }
        got += (size_t)n;
    }
    close(fd);
    return s;
fail:
    if (fd >= 0)
        close(fd);
    secrets_destroy(s);
    return NULL;
}

void secrets_destroy(secrets *s)
{
    if (!s)
        return;
    mbedtls_platform_zeroize(s->key, sizeof s->key);
    free(s);
}

int secrets_is_sealed(const char *value)
{
    return value && strncmp(value, SECRETS_PREFIX, SECRETS_PREFIX_LEN) == 0;
}

void secrets_free_plain(char *plain)
{
    if (!plain)
        return;
    mbedtls_platform_zeroize(plain, strlen(plain));
    free(plain);
}

int secrets_seal(secrets *s, const char *plain, char **sealed, char *err, size_t errlen)
{
    mbedtls_gcm_context gcm;
    unsigned char *raw = NULL;
    char *out = NULL;
    size_t plen = strlen(plain), rawlen = SECRETS_NONCE_LEN + plen + SECRETS_TAG_LEN, b64len = 0;
    int rc = -1;

    *sealed = NULL;
    mbedtls_gcm_init(&gcm);
    if (!s) {
        snprintf(err, errlen, "no secrets key loaded");
        goto out;
    }
    raw = malloc(rawlen);
    if (!raw) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (random_bytes(raw, SECRETS_NONCE_LEN) < 0) {
        snprintf(err, errlen, "cannot get random bytes for the nonce: %s", strerror(errno));
        goto out;
    }
    if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, s->key, SECRETS_KEY_LEN * 8) != 0 ||
        mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, plen, raw, SECRETS_NONCE_LEN, NULL, 0,
                                  (const unsigned char *)plain, raw + SECRETS_NONCE_LEN, SECRETS_TAG_LEN,
                                  raw + SECRETS_NONCE_LEN + plen) != 0) {
        snprintf(err, errlen, "encryption failed");
        goto out;
    }
    mbedtls_base64_encode(NULL, 0, &b64len, raw, rawlen);   /* b64len: size needed with NUL */
    out = malloc(SECRETS_PREFIX_LEN + b64len);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(out, SECRETS_PREFIX, SECRETS_PREFIX_LEN);
    if (mbedtls_base64_encode((unsigned char *)out + SECRETS_PREFIX_LEN, b64len, &b64len, raw, rawlen) != 0) {
        snprintf(err, errlen, "encoding failed");
        goto out;
    }
    *sealed = out;
    out = NULL;
    rc = 0;
out:
    mbedtls_gcm_free(&gcm);
    free(raw);
    free(out);
    return rc;
}

int secrets_unseal(secrets *s, const char *sealed, char **plain, char *err, size_t errlen)
{
    mbedtls_gcm_context gcm;
    unsigned char *raw = NULL;
    char *out = NULL;
    size_t rawlen = 0, clen = 0;
    const char *b64;
    int rc = -1;

    *plain = NULL;
    mbedtls_gcm_init(&gcm);
    if (!s) {
        snprintf(err, errlen, "no secrets key loaded");
        goto out;
    }
    if (!secrets_is_sealed(sealed)) {
        snprintf(err, errlen, "value is not sealed (expected %s...)", SECRETS_PREFIX);
        goto out;
    }
    b64 = sealed + SECRETS_PREFIX_LEN;
    if (mbedtls_base64_decode(NULL, 0, &rawlen, (const unsigned char *)b64, strlen(b64)) ==
        MBEDTLS_ERR_BASE64_INVALID_CHARACTER) {
        snprintf(err, errlen, "sealed value is not valid base64");
        goto out;
    }
    raw = malloc(rawlen ? rawlen : 1);
    if (!raw) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (mbedtls_base64_decode(raw, rawlen, &rawlen, (const unsigned char *)b64, strlen(b64)) != 0) {
        snprintf(err, errlen, "sealed value is not valid base64");
        goto out;
    }
    if (rawlen < SECRETS_NONCE_LEN + SECRETS_TAG_LEN) {
        snprintf(err, errlen, "sealed value is too short");
        goto out;
    }
    clen = rawlen - SECRETS_NONCE_LEN - SECRETS_TAG_LEN;
    out = malloc(clen + 1);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, s->key, SECRETS_KEY_LEN * 8) != 0 ||
        mbedtls_gcm_auth_decrypt(&gcm, clen, raw, SECRETS_NONCE_LEN, NULL, 0, raw + SECRETS_NONCE_LEN + clen,
                                 SECRETS_TAG_LEN, raw + SECRETS_NONCE_LEN, (unsigned char *)out) != 0) {
        snprintf(err, errlen, "sealed value does not decrypt with this key (wrong key file or damaged value)");
        goto out;
    }
    out[clen] = '\0';
    if (strlen(out) != clen) {
        snprintf(err, errlen, "sealed value holds a NUL byte");
        goto out;
    }
    *plain = out;
    out = NULL;
    rc = 0;
out:
    mbedtls_gcm_free(&gcm);
    free(raw);
    if (out) {
        mbedtls_platform_zeroize(out, clen + 1);
        free(out);
    }
    return rc;
}
