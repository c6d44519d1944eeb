/* event_route: the names an event may be routed to (event.h route_topic and route_table) and the
 * one check of them, shared by the rules engine (which sets them), its dry runs and fixture
 * tests, and the Kafka console (which checks topic names it is asked about). Both are names of
 * 1 to N letters, digits, '.', '_' and '-', never "." or "..": Kafka's own rule for topics
 * (N = 249), and the same for destination tables (N = 200), so that `<topic.prefix>.<table>` is
 * a topic name too and the table is one path segment of a lake object key. */
#ifndef SLUICE_PIPELINE_EVENT_ROUTE_H
#define SLUICE_PIPELINE_EVENT_ROUTE_H

#include <stddef.h>

#define EVENT_ROUTE_TOPIC_MAX 249   /* Kafka's limit */
#define EVENT_ROUTE_TABLE_MAX 200

/* 1 when name[0..len) is a legal Kafka topic name, else 0. */
int event_route_topic_valid(const char *name, size_t len);
/* 1 when name[0..len) is a legal destination table name, else 0. */
int event_route_table_valid(const char *name, size_t len);

/* 0 when name[0..len) is legal, else -1 with the reason in err, quoting the name:
 * "'a b' is not a legal Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)". */
int event_route_topic_check(const char *name, size_t len, char *err, size_t errlen);
int event_route_table_check(const char *name, size_t len, char *err, size_t errlen);

#endif
