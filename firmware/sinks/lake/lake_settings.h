/* lake_settings: the `lake.*` (where the lake lives) and `bronze.*` (raw change events)
 * configuration maps, listed by confmap_registry.c. */
#ifndef SLUICE_SINKS_LAKE_LAKE_SETTINGS_H
#define SLUICE_SINKS_LAKE_LAKE_SETTINGS_H

#include "store/confmap.h"

extern const conf_module lake_conf_module;
extern const conf_module bronze_conf_module;

#endif
