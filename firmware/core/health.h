/* health: the state of each component of the appliance (store, console, capture, ...),
 * shown by /readyz, the console's first page and the status API. Thread-safe.
 * Ownership: the registry copies names and messages. */
#ifndef SLUICE_CORE_HEALTH_H
#define SLUICE_CORE_HEALTH_H

#include "core/buf.h"

typedef enum { HEALTH_OK = 0, HEALTH_STARTING, HEALTH_DEGRADED, HEALTH_DOWN, HEALTH_DISABLED } health_state;

typedef struct health health;

health *health_create(void);
void health_destroy(health *h);

/* Set (or add) component's state with a human-readable message (may be NULL). */
void health_set(health *h, const char *component, health_state st, const char *message);
/* 1 when every component is OK or DISABLED, else 0. */
int health_ready(health *h);
const char *health_state_name(health_state st);
/* Append a JSON array [{"name":..,"state":..,"message":..,"since":unix_seconds}, ...]. */
void health_render_json(health *h, buf *out);

#endif
