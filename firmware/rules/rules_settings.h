/* rules_settings: the `rules.*` configuration map (the sandbox's limits), listed by
 * confmap_registry.c, and reading it into rules_limits. */
#ifndef SLUICE_RULES_RULES_SETTINGS_H
#define SLUICE_RULES_RULES_SETTINGS_H

#include "rules/rules_vm.h"
#include "store/config.h"
#include "store/confmap.h"

extern const conf_module rules_conf_module;

/* The limits the settings give. */
void rules_limits_from_config(const config *cfg, rules_limits *out);

#endif
