/* rules_text: the byte-level text operations behind the rules' text helpers (sluice.mask,
 * mask_email, mask_phone, trim, lower, upper, sha256, hmac_sha256) and the native steps
 * (rules_steps.h): one implementation of each, in plain C, with no Lua. Masking counts UTF-8
 * code points (an invalid byte counts as one); lower/upper change ASCII letters only.
 * Ownership: each writes into a caller buffer of at least the size its _MAX macro gives (or
 * returns a slice of its input, trim); nothing is allocated. */
#ifndef SLUICE_RULES_RULES_TEXT_H
#define SLUICE_RULES_RULES_TEXT_H

#include <stddef.h>

/* Bytes of the UTF-8 sequence at s (n > 0 bytes left): 1 for an invalid or truncated one. */
size_t rules_text_u8len(const unsigned char *s, size_t n);

/* Is ch (chlen bytes) exactly one character, as mask's replacement must be? */
int rules_text_is_char(const char *ch, size_t chlen);

/* s with its code points from keep_start up to count - keep_end replaced by ch (one character of
 * chlen bytes); when nothing would be masked (s has no more than keep_start + keep_end code
 * points) every one is. Writes into out (RULES_TEXT_MASK_MAX bytes); returns the length. */
#define RULES_TEXT_MASK_MAX(n, chlen) ((n) * ((chlen) > 0 ? (chlen) : 1))
size_t rules_text_mask(const char *s, size_t n, size_t keep_start, size_t keep_end, const char *ch, size_t chlen,
                       char *out);

/* "john@example.com" -> "j***@example.com" (always three stars); anything that is not an address
 * (one '@', a non-empty local part, a domain with an inner dot, no spaces) is masked entirely. */
#define RULES_TEXT_MASK_EMAIL_MAX(n) ((n) + 3)
size_t rules_text_mask_email(const char *s, size_t n, char *out);

/* Every digit but the last four becomes '*' ("+1 (555) 123-4567" -> "+* (***) ***-4567"); with
 * four digits or fewer all are masked. out: n bytes; the length is n. */
size_t rules_text_mask_phone(const char *s, size_t n, char *out);

/* s without leading and trailing ASCII whitespace: the slice s[*from, *from + *len). */
void rules_text_trim(const char *s, size_t n, size_t *from, size_t *len);

/* ASCII letters lower- or upper-cased, every other byte kept. out: n bytes; the length is n. */
size_t rules_text_case(const char *s, size_t n, int upper, char *out);

/* 64 lower-case hex digits of SHA-256(s), or of HMAC-SHA256(key, s), into out (not terminated).
 * 0, or -1 when hashing failed. */
#define RULES_TEXT_HEX_LEN 64
int rules_text_sha256_hex(const char *s, size_t n, char out[RULES_TEXT_HEX_LEN]);
int rules_text_hmac_sha256_hex(const char *key, size_t klen, const char *s, size_t n, char out[RULES_TEXT_HEX_LEN]);

#endif
