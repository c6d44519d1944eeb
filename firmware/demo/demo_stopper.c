/* demo_stopper: interruptible sleeps for the demo's threads (see demo_stopper.h). */
#include "demo/demo_stopper.h"

#include <time.h>

int demo_stopper_init(demo_stopper *s)
{
    s->stop = 0;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return -1;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

void demo_stopper_fini(demo_stopper *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

void demo_stopper_request(demo_stopper *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int demo_stopper_requested(demo_stopper *s)
{
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

int demo_stopper_sleep(demo_stopper *s, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) != 0)
            break; /* ETIMEDOUT */
    }
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}
