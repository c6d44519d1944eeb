/* bronze_retention: expiring old bronze objects by their hour partition (see bronze_retention.h). */
#include "sinks/lake/bronze_retention.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"
#include "core/log.h"

typedef struct retention_walk {
    objstore *s;
    int64_t cutoff_hour;   /* objects of earlier hours go */
    long removed;
} retention_walk;

int64_t bronze_retention_key_hour(const char *key)
{
    const char *d = strstr(key, "/date=");
    int y, mo, da, h;
    if (!d || sscanf(d, "/date=%4d-%2d-%2d/hour=%2d/", &y, &mo, &da, &h) != 4)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = da, .tm_hour = h};
    return (int64_t)timegm(&tm) / 3600;
}

static int retention_one(void *arg, const char *key, const objstore_info *info)
{
    (void)info;
    retention_walk *w = arg;
    int64_t hour = bronze_retention_key_hour(key);
    char err[512];
    if (hour < 0 || hour >= w->cutoff_hour)
        return 0;
    if (objstore_remove(w->s, key, err, sizeof err) != OBJSTORE_OK) {
        log_warn("bronze", "retention: cannot delete %s: %s", key, err);
        return 0;
    }
    w->removed++;
    return 0;
}

long bronze_retention_run(objstore *s, const char *source, int days, int64_t now_unix, char *err, size_t errlen)
{
    char prefix[256];
    retention_walk w = {s, now_unix / 3600 - (int64_t)days * 24, 0};
    snprintf(prefix, sizeof prefix, "bronze/%s/", source);
    if (objstore_list(s, prefix, retention_one, &w, err, errlen) < 0)
        return -1;
    if (w.removed)
        log_info("bronze", "retention: deleted %ld object(s) older than %d day(s) under %s", w.removed, days, prefix);
    return w.removed;
}
