/* event_route: checks of route names (see event_route.h). */
#include "pipeline/event_route.h"

#include <string.h>

#include "core/errbuf.h"

#define ROUTE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define ROUTE_QUOTE_MAX 80   /* characters of a bad name quoted in a reason */

/* 1 when name[0..len) is 1..max of ROUTE_CHARS and not "." or "..". */
static int route_name_valid(const char *name, size_t len, size_t max)
{
    if (!name || len == 0 || len > max || (len == 1 && name[0] == '.') || (len == 2 && memcmp(name, "..", 2) == 0))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!name[i] || !strchr(ROUTE_CHARS, name[i]))
            return 0;
    return 1;
}

int event_route_topic_valid(const char *name, size_t len)
{
    return route_name_valid(name, len, EVENT_ROUTE_TOPIC_MAX);
}

int event_route_table_valid(const char *name, size_t len)
{
    return route_name_valid(name, len, EVENT_ROUTE_TABLE_MAX);
}

/* The reason for a bad name: the name quoted (bytes other than printable ASCII as '?', cut at
 * ROUTE_QUOTE_MAX), then what is legal. Returns -1. */
static int route_name_refuse(const char *name, size_t len, const char *what, size_t max, char *err, size_t errlen)
{
    char q[ROUTE_QUOTE_MAX + 4];
    size_t n = len < ROUTE_QUOTE_MAX ? len : ROUTE_QUOTE_MAX;
    for (size_t i = 0; i < n; i++)
        q[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    memcpy(q + n, len > n ? "..." : "", len > n ? 4 : 1);
    return err_setf(err, errlen, "'%s' is not a legal %s name (1-%zu of A-Z a-z 0-9 . _ -)", q, what, max);
}

int event_route_topic_check(const char *name, size_t len, char *err, size_t errlen)
{
    if (event_route_topic_valid(name, len))
        return 0;
    return route_name_refuse(name ? name : "", name ? len : 0, "Kafka topic", EVENT_ROUTE_TOPIC_MAX, err, errlen);
}

int event_route_table_check(const char *name, size_t len, char *err, size_t errlen)
{
    if (event_route_table_valid(name, len))
        return 0;
    return route_name_refuse(name ? name : "", name ? len : 0, "table", EVENT_ROUTE_TABLE_MAX, err, errlen);
}
