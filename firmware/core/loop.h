/* loop: a tiny poll(2) event loop: readable file descriptors and periodic timers.
 * Single-threaded: callbacks run on the thread that called loop_run().
 * Ownership: the loop does not own the fds or callback arguments it is given. */
#ifndef SLUICE_CORE_LOOP_H
#define SLUICE_CORE_LOOP_H

#include <stdint.h>

typedef struct loop loop;
typedef void (*loop_fd_fn)(loop *l, int fd, void *arg);
typedef void (*loop_timer_fn)(loop *l, void *arg, int64_t now_ms);

#define LOOP_MAX_FDS 16
#define LOOP_MAX_TIMERS 16

loop *loop_create(void);
void loop_destroy(loop *l);

/* Call fn whenever fd is readable. 0, or -1 when the table is full. */
int loop_fd_add(loop *l, int fd, loop_fd_fn fn, void *arg);
void loop_fd_remove(loop *l, int fd);
/* Call fn every interval_ms milliseconds (first call after one interval). 0 or -1. */
int loop_timer_add(loop *l, int64_t interval_ms, loop_timer_fn fn, void *arg);

/* Run until loop_stop() is called from a callback. Returns 0, or -1 if poll fails. */
int loop_run(loop *l);
void loop_stop(loop *l);

/* Monotonic milliseconds, the loop's clock. */
int64_t loop_now_ms(void);

#endif
