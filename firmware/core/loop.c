/* loop: poll(2)-based event loop with periodic timers (see loop.h). */
#include "core/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

typedef struct loop_fd {
    int fd;
    loop_fd_fn fn;
    void *arg;
} loop_fd;

typedef struct loop_timer {
    int64_t interval_ms;
    int64_t due_ms;
    loop_timer_fn fn;
    void *arg;
} loop_timer;

struct loop {
    loop_fd fds[LOOP_MAX_FDS];
    int n_fds;
    loop_timer timers[LOOP_MAX_TIMERS];
    int n_timers;
    int stop;
};

int64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

loop *loop_create(void)
{
    return calloc(1, sizeof(loop));
}

void loop_destroy(loop *l)
{
    free(l);
}

int loop_fd_add(loop *l, int fd, loop_fd_fn fn, void *arg)
{
    if (l->n_fds == LOOP_MAX_FDS)
        return -1;
    l->fds[l->n_fds++] = (loop_fd){fd, fn, arg};
    return 0;
}

void loop_fd_remove(loop *l, int fd)
{
    for (int i = 0; i < l->n_fds; i++) {
        if (l->fds[i].fd == fd) {
            l->fds[i] = l->fds[--l->n_fds];
            return;
        }
    }
}

int loop_timer_add(loop *l, int64_t interval_ms, loop_timer_fn fn, void *arg)
{
    if (l->n_timers == LOOP_MAX_TIMERS || interval_ms <= 0)
        return -1;
    l->timers[l->n_timers++] = (loop_timer){interval_ms, loop_now_ms() + interval_ms, fn, arg};
    return 0;
}

void loop_stop(loop *l)
{
    l->stop = 1;
}

/* Milliseconds until the next timer is due (-1: no timers). */
static int loop_timeout(const loop *l, int64_t now)
{
    int64_t next = -1;
    for (int i = 0; i < l->n_timers; i++) {
        int64_t wait = l->timers[i].due_ms - now;
        if (wait < 0)
            wait = 0;
        if (next < 0 || wait < next)
            next = wait;
    }
    return (int)next;
}

static void loop_timers_fire(loop *l, int64_t now)
{
    for (int i = 0; i < l->n_timers && !l->stop; i++) {
        loop_timer *t = &l->timers[i];
        if (t->due_ms > now)
            continue;
        t->due_ms = now + t->interval_ms;
        t->fn(l, t->arg, now);
    }
}

int loop_run(loop *l)
{
    l->stop = 0;
    while (!l->stop) {
        struct pollfd pfd[LOOP_MAX_FDS];
        int n = l->n_fds;
        for (int i = 0; i < n; i++)
            pfd[i] = (struct pollfd){.fd = l->fds[i].fd, .events = POLLIN};
        int rc = poll(pfd, (nfds_t)n, loop_timeout(l, loop_now_ms()));
        if (rc < 0 && errno != EINTR)
            return -1;
        for (int i = 0; rc > 0 && i < n && !l->stop; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                l->fds[i].fn(l, pfd[i].fd, l->fds[i].arg);
        }
        loop_timers_fire(l, loop_now_ms());
    }
    return 0;
}
