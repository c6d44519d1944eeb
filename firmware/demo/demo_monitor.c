/* demo_monitor: the "postgres" health component of `sluice demo` (see demo_monitor.h). */
#include "demo/demo_monitor.h"

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "demo/demo_stopper.h"

#define MONITOR_INTERVAL_MS 2000L

struct demo_monitor {
    char conninfo[160];
    char where[96];
    health *health;
    demo_stopper stopper;
    pthread_t thread;
};

static void *monitor_thread(void *arg)
{
    demo_monitor *mon = arg;
    int was_up = -1;
    do {
        int up = PQping(mon->conninfo) == PQPING_OK;
        if (up != was_up) {
            if (up) {
                health_set(mon->health, "postgres", HEALTH_OK, mon->where);
                if (was_up == 0)
                    log_info("demo", "postgres answers again on %s", mon->where);
            } else {
                health_set(mon->health, "postgres", HEALTH_DOWN, "not answering");
                log_warn("demo", "postgres does not answer on %s", mon->where);
            }
            was_up = up;
        }
    } while (!demo_stopper_sleep(&mon->stopper, MONITOR_INTERVAL_MS));
    return NULL;
}

demo_monitor *demo_monitor_create(int port, const char *dbname, health *h, char *err, size_t errlen)
{
    demo_monitor *mon = calloc(1, sizeof *mon);
    if (!mon) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(mon->conninfo, sizeof mon->conninfo,
             "host=127.0.0.1 port=%d dbname=%s user=postgres connect_timeout=2", port, dbname);
    snprintf(mon->where, sizeof mon->where, "127.0.0.1:%d db %s", port, dbname);
    mon->health = h;
    if (demo_stopper_init(&mon->stopper) < 0) {
        snprintf(err, errlen, "cannot initialise the monitor's stop signal");
        free(mon);
        return NULL;
    }
    if (pthread_create(&mon->thread, NULL, monitor_thread, mon) != 0) {
        snprintf(err, errlen, "cannot start the postgres monitor thread");
        demo_stopper_fini(&mon->stopper);
        free(mon);
        return NULL;
    }
    return mon;
}

void demo_monitor_destroy(demo_monitor *mon)
{
    if (!mon)
        return;
    demo_stopper_request(&mon->stopper);
    pthread_join(mon->thread, NULL);
    demo_stopper_fini(&mon->stopper);
    free(mon);
}
