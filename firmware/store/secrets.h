/* secrets: encryption at rest for secret settings (passwords, S3 keys) with AES-256-GCM (mbedTLS).
 * The 32-byte key lives in a key file readable by its owner only (mode 0600), created at first
 * boot. Sealed values are text: "enc:v1:" + base64(12-byte nonce | ciphertext | 16-byte tag).
 * Ownership: secrets_create() returns a handle freed with secrets_destroy(); returned strings
 * are malloc'd and owned by the caller (plain text is wiped by secrets_free_plain()). */
#ifndef SLUICE_STORE_SECRETS_H
#define SLUICE_STORE_SECRETS_H

#include <stddef.h>

typedef struct secrets secrets;

/* Load the key from key_path, creating it (0600, random) when missing. Refuses a key file
 * that others can read or that has the wrong size. NULL with the reason in err on failure. */
secrets *secrets_create(const char *key_path, char *err, size_t errlen);
void secrets_destroy(secrets *s);

int secrets_seal(secrets *s, const char *plain, char **sealed, char *err, size_t errlen);
int secrets_unseal(secrets *s, const char *sealed, char **plain, char *err, size_t errlen);
int secrets_is_sealed(const char *value);
void secrets_free_plain(char *plain);   /* zero, then free */

#endif
