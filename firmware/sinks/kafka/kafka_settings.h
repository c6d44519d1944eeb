/* kafka_settings: the `kafka.*` configuration map, listed by confmap_registry.c. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_SETTINGS_H
#define SLUICE_SINKS_KAFKA_KAFKA_SETTINGS_H

#include "store/confmap.h"

extern const conf_module kafka_conf_module;

#endif
