/* objstore_settings: the `s3.*` configuration map, listed by confmap_registry.c. */
#ifndef SLUICE_OBJSTORE_OBJSTORE_SETTINGS_H
#define SLUICE_OBJSTORE_OBJSTORE_SETTINGS_H

#include "store/confmap.h"

extern const conf_module s3_conf_module;

#endif
