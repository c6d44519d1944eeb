/* backoff: exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): attempt
 * n waits a uniformly random time in [0, min(cap, base * 2^n)]. Used by every retry loop that
 * talks to a peer (S3 requests, bronze uploads and commits). */
#ifndef SLUICE_CORE_BACKOFF_H
#define SLUICE_CORE_BACKOFF_H

#include <stdint.h>

/* The wait before retry number attempt (0 = the first retry): rnd is any uniformly random 64-bit
 * value; the result is in [0, min(cap_ms, base_ms * 2^attempt)]. */
long backoff_delay_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd);

/* A uniformly random 64-bit value (kernel randomness; falls back to the clock). */
uint64_t backoff_random(void);

/* backoff_delay_ms with a fresh random value. */
long backoff_next_ms(int attempt, long base_ms, long cap_ms);

/* Sleep ms milliseconds (nanosleep, resumed after signals). */
void backoff_sleep_ms(long ms);

#endif
