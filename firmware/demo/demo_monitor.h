/* demo_monitor: keeps health component "postgres" current while the demo runs. A thread
 * pings the demo server every two seconds: "ok" while it answers, "down" when it does not
 * (and logs each change once). */
#ifndef SLUICE_DEMO_MONITOR_H
#define SLUICE_DEMO_MONITOR_H

#include <stddef.h>

#include "core/health.h"

typedef struct demo_monitor demo_monitor;

/* Start watching 127.0.0.1:port (database dbname). h is borrowed. NULL with reason in err. */
demo_monitor *demo_monitor_create(int port, const char *dbname, health *h, char *err, size_t errlen);
/* Stop the thread and free. Accepts NULL. */
void demo_monitor_destroy(demo_monitor *mon);

#endif
