/* lake_settings: the `lake.*` (where the lake lives), `bronze.*` (raw change events) and
 * `silver.*` (Iceberg tables) configuration maps, listed by confmap_registry.c. */
#ifndef SLUICE_SINKS_LAKE_LAKE_SETTINGS_H
#define SLUICE_SINKS_LAKE_LAKE_SETTINGS_H

#include "store/confmap.h"

extern const conf_module lake_conf_module;
extern const conf_module bronze_conf_module;
extern const conf_module silver_conf_module;

#endif
