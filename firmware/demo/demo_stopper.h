/* demo_stopper: a stop request that a demo thread can sleep on. The thread waits with
 * demo_stopper_sleep() between units of work; demo_stopper_request() wakes it at once, so
 * threads stop promptly instead of finishing a long sleep. */
#ifndef SLUICE_DEMO_STOPPER_H
#define SLUICE_DEMO_STOPPER_H

#include <pthread.h>

typedef struct demo_stopper {
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* on CLOCK_MONOTONIC */
    int stop;
} demo_stopper;

int demo_stopper_init(demo_stopper *s);      /* 0 or -1 */
void demo_stopper_fini(demo_stopper *s);
void demo_stopper_request(demo_stopper *s);
int demo_stopper_requested(demo_stopper *s);
/* Sleep up to ms milliseconds; returns 1 when a stop was requested (before or during). */
int demo_stopper_sleep(demo_stopper *s, long ms);

#endif
